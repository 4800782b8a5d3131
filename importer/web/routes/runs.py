"""Preview, buy, follow the job, see what was done, resolve UNKNOWN orders, and the history of purchases."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response

from ...errors import InputError, LedgerBusy
from ...models import SUCCESS_STATUSES
from ...submit.ledger import Ledger, LedgerEntry
from ..app import Forbidden, ServerState, render
from ..checks import Checked, grid_page
from ..deps import AdminUser, BuyerUser, CheckedPost, CurrentUser, StateDep
from ..jobs import Job, JobState
from ..purchases import job_outcomes, needing_attention, quote, resolve, results_path, stored_preview
from ..tasks import start, work_for
from ..users import Role
from .uploads import XLSX, after_check

router = APIRouter(tags=["runs"])


def _job(state: ServerState, job_id: str) -> Job:
    job = state.jobs.get(job_id)
    if job is None:
        raise InputError(f"no job '{job_id}'")
    return job


@router.post("/uploads/{upload_id}/preview", dependencies=[CheckedPost])
def start_preview(state: StateDep, user: CurrentUser, upload_id: str) -> Response:
    """Start pricing the checked orders in a job."""
    state.checks.get(upload_id)
    job_id = start(state, "preview", upload_id, user.name, {})
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


@router.get("/uploads/{upload_id}/preview")
def preview_page(request: Request, state: StateDep, user: CurrentUser, upload_id: str) -> Response:
    """Prices, freight and totals per provider and currency, and the buy button for buyers."""
    previewed = stored_preview(state.storage, upload_id)
    if previewed is None:
        return RedirectResponse(f"/uploads/{upload_id}/check", status_code=303)
    lines = previewed.reset_index().to_dict("records")
    context = {
        "upload": state.storage.get(upload_id),
        "quote": quote(previewed, state.config.max_total),
        "lines": lines[:500],
        "more_lines": max(0, len(lines) - 500),
        "can_buy": user.can(Role.BUYER),
    }
    return render(request, "preview.html", context)


@router.post("/uploads/{upload_id}/buy", dependencies=[CheckedPost])
def buy(state: StateDep, user: BuyerUser, upload_id: str, confirmed_total: Annotated[str, Form()]) -> Response:
    """Start the purchase of the previewed orders, for the total the buyer confirmed."""
    previewed = stored_preview(state.storage, upload_id)
    if previewed is None:
        raise InputError("preview the sheet first")
    offer = quote(previewed, state.config.max_total)
    if offer.over_budget:
        raise Forbidden(f"the total {offer.total} is above the budget of {offer.budget} ([server] max_total)")
    if offer.orders == 0:
        raise InputError("no order previewed without a problem; nothing to buy")
    if _decimal(confirmed_total) != offer.total:
        raise InputError(
            f"the confirmed total {confirmed_total} is not the previewed total {offer.total}; preview again"
        )
    filename = state.storage.get(upload_id).filename
    params = {"confirmed_total": str(offer.total), "orders": offer.orders, "filename": filename}
    job_id = start(state, "buy", upload_id, user.name, params)
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


@router.get("/jobs/{job_id}")
def job_page(
    request: Request, state: StateDep, user: CurrentUser, job_id: str, page: int = 1, problems: int = 0
) -> Response:
    """The progress of a job; after a purchase, what was done."""
    job = _job(state, job_id)
    if job.kind == "check" and job.finished:
        return after_check(request, state, job, user)
    if job.state != JobState.DONE:
        return render(request, "job.html", {"job": job, "upload": state.storage.get(job.upload_id)})
    if job.kind == "preview":
        return RedirectResponse(f"/uploads/{job.upload_id}/preview", status_code=303)
    return _done_page(request, state, job, page, bool(problems))


def _done_page(request: Request, state: ServerState, job: Job, page: int, problems: bool) -> Response:
    checked = state.checks.get(job.upload_id)
    outcomes = job_outcomes(state.storage, job)
    if outcomes is None:
        raise InputError("this run's results were deleted (older than the keep time)")
    ids = outcomes.index[~outcomes["status"].isin([str(s) for s in SUCCESS_STATUSES]) | (outcomes["error"] != "")]
    context = {
        "job": job,
        "upload": checked.upload,
        "counts": dict(sorted(job.result.get("counts", {}).items())),
        "grid": grid_page(checked, page, problems, outcomes, [int(i) for i in ids]),
        "columns": checked.input_columns(),
        "problems": problems,
        "page_url": f"/jobs/{job.job_id}",
        "attention": _attention(state, checked, outcomes),
        "flash": request.query_params.get("resolved", ""),
    }
    return render(request, "done.html", context)


def _attention(state: ServerState, checked: Checked, outcomes: pd.DataFrame) -> list[LedgerEntry]:
    try:
        return needing_attention(state.ledger, checked, outcomes)
    except LedgerBusy:
        return []  # a purchase holds the ledger; the page shows them once it ends


@router.get("/jobs/{job_id}/status")
def job_status(state: StateDep, user: CurrentUser, job_id: str) -> Response:
    """The job's state and progress, polled by its page."""
    job = _job(state, job_id)
    return JSONResponse(
        {
            "state": str(job.state),
            "done": job.done,
            "total": job.total,
            "message": job.message,
            "finished": job.finished,
        }
    )


@router.get("/jobs/{job_id}/results.xlsx")
def job_results(state: StateDep, user: CurrentUser, job_id: str) -> Response:
    """The results workbook of a purchase."""
    job = _job(state, job_id)
    name = f"{state.storage.get(job.upload_id).filename.rsplit('.', 1)[0]}.results.xlsx"
    return FileResponse(results_path(state.storage, job), filename=name, media_type=XLSX)


@router.post("/jobs/{job_id}/rerun", dependencies=[CheckedPost])
def rerun(state: StateDep, user: CurrentUser, job_id: str) -> Response:
    """Run an interrupted or failed job again."""
    job = _job(state, job_id)
    if job.kind == "buy" and not user.can(Role.BUYER):
        raise Forbidden(f"{user.name} is a {user.role}; running a purchase again needs a buyer")
    if job.state not in (JobState.INTERRUPTED, JobState.FAILED):
        raise InputError(f"the job is {job.state}; only an interrupted or failed job runs again")
    state.runner.start(job_id, work_for(state, job))
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


@router.post("/orders/resolve", dependencies=[CheckedPost])
def resolve_order(
    state: StateDep,
    user: AdminUser,
    key: Annotated[str, Form()],
    job_id: Annotated[str, Form()],
    found_id: Annotated[str, Form()] = "",
) -> Response:
    """Record an admin's check of an UNKNOWN order."""
    _job(state, job_id)
    said = resolve(state.ledger, key, found_id.strip(), user.name)
    from urllib.parse import quote as url_quote

    return RedirectResponse(f"/jobs/{job_id}?resolved={url_quote(said)}", status_code=303)


@router.get("/history")
def history(request: Request, state: StateDep, user: CurrentUser) -> Response:
    """Every run in the ledger, with who confirmed it."""
    jobs = {run: job for job in state.jobs.all("buy") for run in job.result.get("runs", [])}
    runs: list[dict[str, Any]] = []
    busy = ""
    if state.ledger.exists():
        try:
            with Ledger.open(state.ledger) as journal:
                runs = list(reversed(journal.runs()))
        except LedgerBusy:
            busy = "a purchase is running; the ledger's runs show here when it ends"
    rows = [{**run, "job": jobs.get(str(run["run_id"]))} for run in runs]
    pending = [job for job in state.jobs.all("buy") if not job.result.get("runs")]
    return render(request, "history.html", {"runs": rows, "pending": pending, "busy": busy})
