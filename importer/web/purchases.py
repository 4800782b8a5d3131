"""Preview and purchase for the pages: what the jobs do, and what the preview and done pages show.

A preview job prices the checked orders with :func:`importer.api.preview`
and keeps the priced lines beside the upload. A purchase job is
:func:`importer.api.run` with ``stage="import"`` on the checked sheet, a
``confirmed_by`` column added (so the results name who confirmed), against
the server's one ledger, and ``max_total`` set to the total the buyer
confirmed: prices that rose since the preview hold every order rather than
buy at a price nobody saw. The ledger then records who confirmed the run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from .. import api
from ..config import Settings
from ..errors import InputError
from ..models import Status
from ..money import fen_to_yuan
from ..submit.ledger import Ledger, LedgerEntry, OrderState
from .checks import Checked
from .jobs import Job, JobStore, Progress
from .storage import Storage

PREVIEW_FILE = "preview.json"
CONFIRMED_BY = "confirmed_by"
ATTENTION_STATES = (OrderState.UNKNOWN, OrderState.SENDING)


@dataclass(frozen=True)
class Quote:
    """What a preview says the purchase would cost."""

    orders: int
    """Orders whose every line previewed: what the button buys."""
    total: Decimal
    per_provider: list[tuple[str, str, Decimal, int]]
    """(provider, currency, total, orders) for every provider and currency."""
    price_changes: int
    failed: int
    over_budget: bool
    budget: Decimal | None
    unpriced: int = 0
    """Orders to buy that the provider gives no price for before buying: not in ``total``."""


def preview_work(
    checked: Callable[[], Checked], storage: Storage, settings: Settings
) -> Callable[[Job, Progress], dict[str, Any]]:
    """The preview job: price every order of the check and keep the lines beside the upload."""

    def work(job: Job, progress: Progress) -> dict[str, Any]:
        result = checked().result
        previewed = api.preview(result.grouping, settings, progress=progress)
        for column in ("provider", "order_ref"):
            previewed[column] = result.sheet.frame.loc[previewed.index, column]
        records = previewed.reset_index().astype(str).to_dict("records")
        storage.write_json(job.upload_id, PREVIEW_FILE, {"job_id": job.job_id, "lines": records})
        return {"lines": len(records)}

    return work


def stored_preview(storage: Storage, upload_id: str) -> pd.DataFrame | None:
    """The lines the last preview of the upload priced, or None before any preview."""
    data = storage.read_json(upload_id, PREVIEW_FILE)
    if not data:
        return None
    frame = pd.DataFrame(data["lines"], dtype=object)
    if frame.empty:
        return frame
    frame["row_id"] = frame["row_id"].astype("int64")
    return frame.set_index("row_id")


def quote(previewed: pd.DataFrame, budget: Decimal | None) -> Quote:
    """Totals of the orders that would be bought, per provider and currency, and the budget guard."""
    if previewed.empty:
        return Quote(0, Decimal(0), [], 0, 0, False, budget)
    ready_keys = previewed.groupby("order_key")["status"].agg(lambda s: bool((s == str(Status.PREVIEWED)).all()))
    ready = previewed[previewed["order_key"].map(ready_keys)]
    total = api.hold_over_budget(ready.copy(), Decimal("Infinity"), allow_unpriced=True)
    unpriced = int(ready.loc[api.unpriced_orders(ready), "order_key"].nunique())
    per_provider = []
    for (provider, currency), lines in ready.groupby(["provider", "currency_charged"], sort=True):
        fen = api.sum_fen_column(lines["order_total_fen"])  # preview's frames carry exact hundredths
        per_provider.append((str(provider), str(currency), fen_to_yuan(fen), lines["order_key"].nunique()))
    return Quote(
        orders=int(ready["order_key"].nunique()),
        total=total,
        per_provider=per_provider,
        price_changes=int((previewed["status"] == str(Status.PRICE_CHANGED)).sum()),
        failed=int((~previewed["order_key"].map(ready_keys)).groupby(previewed["order_key"]).any().sum()),
        over_budget=budget is not None and total > budget,
        budget=budget,
        unpriced=unpriced,
    )


def buy_work(
    checked: Callable[[], Checked], storage: Storage, settings: Settings, ledger: Path, jobs: JobStore
) -> Callable[[Job, Progress], dict[str, Any]]:
    """The purchase job; safe to run again after an interruption (the ledger settles what was sent).

    The ledger's runs before the job's first start are kept with the job, so
    the runs it makes, an interrupted first attempt's included, all name the
    buyer who confirmed.
    """

    def work(job: Job, progress: Progress) -> dict[str, Any]:
        check = checked()
        user = job.user
        if "runs_before" not in job.params:
            jobs.update(job.job_id, params={**job.params, "runs_before": _run_ids(ledger)})
            job = jobs.get(job.job_id) or job
        earlier = set(job.params["runs_before"])
        folder = storage.folder(job.upload_id) / f"job-{job.job_id}"
        folder.mkdir(mode=0o700, exist_ok=True)
        frame = check.frame.copy()
        frame[CONFIRMED_BY] = user
        result = api.run(
            frame,
            stage="import",
            settings=settings,
            output=folder / "results.xlsx",
            ledger=ledger,
            progress=progress,
            max_total=Decimal(job.params["confirmed_total"]),
            allow_unpriced=True,  # the confirmation named the orders the provider prices only when buying
        )
        if (folder / "results.xlsx").exists():
            (folder / "results.xlsx").chmod(0o600)
        with Ledger.open(ledger) as journal:
            runs = [str(r["run_id"]) for r in journal.runs() if r["run_id"] not in earlier and not r["confirmed_by"]]
            journal.record_confirmation(runs, user, check.upload.filename)
        outcomes = result.outcomes.reset_index().astype(str)
        storage.write_json(job.upload_id, f"job-{job.job_id}/outcomes.json", outcomes.to_dict("split"))
        created = result.outcomes["status"] == str(Status.CREATED)
        bought_fen = api.sum_fen_column(result.outcomes.loc[created, "order_total_fen"])
        return {
            "counts": result.counts,
            "runs": runs,
            "amount": str(fen_to_yuan(bought_fen)),
            "rows": len(outcomes),
        }

    return work


def job_outcomes(storage: Storage, job: Job) -> pd.DataFrame | None:
    """Every row's outcome after a purchase job (None when its files were deleted)."""
    data = storage.read_json(job.upload_id, f"job-{job.job_id}/outcomes.json")
    if not data:
        return None
    frame = pd.DataFrame(data["data"], columns=data["columns"], dtype=object)
    frame["row_id"] = frame["row_id"].astype("int64")
    return frame.set_index("row_id")


def results_path(storage: Storage, job: Job) -> Path:
    """The results workbook of a purchase job."""
    path = storage.folder(job.upload_id) / f"job-{job.job_id}" / "results.xlsx"
    if not path.exists():
        raise InputError("this run has no results workbook (it did not finish, or its files were deleted)")
    return path


def _run_ids(ledger: Path) -> list[str]:
    if not ledger.exists():
        return []
    with Ledger.open(ledger) as journal:
        return [str(r["run_id"]) for r in journal.runs()]


def needing_attention(ledger: Path, checked: Checked, outcomes: pd.DataFrame) -> list[LedgerEntry]:
    """The ledger's UNKNOWN (or still SENDING) orders among this run's UNKNOWN rows: what an admin checks."""
    unknown = outcomes.index[outcomes["status"] == str(Status.UNKNOWN)]
    if not ledger.exists() or not len(unknown):
        return []
    rows = checked.frame.loc[unknown.intersection(checked.frame.index)]
    wanted = set(zip(rows["provider"], rows["order_ref"], strict=True))
    with Ledger.open(ledger) as journal:
        entries = [e for state in ATTENTION_STATES for e in journal.entries(state)]
    return [e for e in entries if (e.provider, e.order_ref) in wanted]


def resolve(ledger: Path, key: str, found_id: str, user: str) -> str:
    """Record an admin's check of an UNKNOWN order: found at the provider (its id), or not there.

    Found: CREATED with that id, so no run sends it again. Not there: back to
    PLANNED, so the next run sends it (the ledger's guarded resolve moves, as
    ``order-importer resolve`` makes them). Returns what was recorded, in words.
    """
    with Ledger.open(ledger) as journal:
        entry = journal.get(key)
        if entry is None or entry.state not in ATTENTION_STATES:
            raise InputError(f"order {key} is not waiting for a check (it is {entry.state if entry else 'unknown'})")
        if found_id:
            journal.resolve_created(key, found_id, note=f"checked by {user}")
            return f"{entry.order_ref}: recorded as created at {entry.provider} ({found_id}), checked by {user}"
        journal.resolve_absent(key, note=f"checked by {user}: not at the provider; the next run may send it again")
        return f"{entry.order_ref}: recorded as not at {entry.provider}, checked by {user}; the next run sends it"
