"""Upload a sheet, map its headers when needed, and check it: the first three pages of the flow."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response

from ... import api
from ...errors import ConfigError, InputError
from ..app import Forbidden, ServerState, render
from ..checks import COLUMNS, IGNORE, grid_page, guessed_mapping, mapping_errors, sheet_headers, unknown_values
from ..deps import CheckedPost, CurrentUser, StateDep
from ..jobs import Job, JobState
from ..profiles import profile_table
from ..purchases import PREVIEW_FILE
from ..tasks import start, wait
from ..users import Role, User

router = APIRouter(tags=["uploads"])


@router.get("/")
def upload_page(request: Request, user: CurrentUser) -> Response:
    """The upload form."""
    return render(request, "upload.html", {})


@router.post("/uploads", dependencies=[CheckedPost])
def upload(request: Request, state: StateDep, user: CurrentUser, sheet: Annotated[UploadFile, File()]) -> Response:
    """Keep the file, check it, and go to the mapping or the check page."""
    max_bytes = int(state.settings.limits.max_file_mb * 1024 * 1024)
    saved, _ = state.storage.save(sheet.filename or "upload", sheet.file, user.name, max_bytes)
    state.purge()
    job_id = start(state, "check", saved.upload_id, user.name, {"after": "upload", "filename": saved.filename})
    return after_check(request, state, wait(state, job_id), user)


def after_check(request: Request, state: ServerState, job: Job, user: User | None = None) -> Response:
    """Where a check leads: its progress while it runs, then the check page, the mapping, or the reader's message."""
    if not job.finished:
        return RedirectResponse(f"/jobs/{job.job_id}", status_code=303)
    error = job.result.get("error") or (job.message if job.state != JobState.DONE else "")
    if not error:
        return RedirectResponse(f"/uploads/{job.upload_id}/check", status_code=303)
    if job.params.get("after") == "mapping":
        return _mapping(request, state, user, job.upload_id, [error], status_code=400)
    if job.result.get("needs_mapping"):
        return RedirectResponse(f"/uploads/{job.upload_id}/mapping", status_code=303)
    return render(request, "upload.html", {"message": error}, status_code=400)


@router.get("/uploads/{upload_id}/mapping")
def mapping_page(request: Request, state: StateDep, user: CurrentUser, upload_id: str) -> Response:
    """Each header beside a drop-down of importer columns (and, for buyers, a name to save it as a profile)."""
    return _mapping(request, state, user, upload_id, [])


def _mapping(
    request: Request,
    state: StateDep,
    user: User | None,
    upload_id: str,
    problems: list[str],
    status_code: int = 200,
    profile_name: str = "",
) -> Response:
    upload = state.storage.get(upload_id)
    headers = sheet_headers(state.storage.sheet_path(upload_id))
    chosen = {**guessed_mapping(headers), **upload.mapping}
    try:
        unknown = unknown_values(state.checks.get(upload_id)).get("provider", [])
    except InputError:
        unknown = []
    values = sorted({*unknown, *upload.value_map.get("provider", {})})
    context = {
        "upload": upload,
        "headers": [(h, chosen.get(h, IGNORE)) for h in headers],
        "columns": COLUMNS,
        "values": values,
        "value_map": upload.value_map.get("provider", {}),
        "providers": api_providers(),
        "problems": problems,
        "can_save_profile": user is not None and user.can(Role.BUYER),
        "profile_name": profile_name,
    }
    return render(request, "mapping.html", context, status_code=status_code)


def api_providers() -> list[str]:
    """The provider keys a provider value may be mapped to."""
    from ...providers import REGISTRY

    return sorted(REGISTRY)


@router.post("/uploads/{upload_id}/mapping", dependencies=[CheckedPost])
async def save_mapping(request: Request, state: StateDep, user: CurrentUser, upload_id: str) -> Response:
    """Keep the mapping (saved as a profile too when named) and check the sheet with it."""
    form = await request.form()
    upload = state.storage.get(upload_id)
    headers = sheet_headers(state.storage.sheet_path(upload_id))
    mapping = {h: str(form.get(f"map-{i}", IGNORE)) for i, h in enumerate(headers)}
    profile_name = str(form.get("profile-name", "")).strip()
    if profile_name and not user.can(Role.BUYER):
        raise Forbidden(f"{user.name} is a {user.role}; saving a mapping profile needs a buyer")
    problems = mapping_errors(mapping)
    if problems:
        upload.mapping = mapping
        state.storage.put(upload)
        return _mapping(request, state, user, upload_id, problems, status_code=400, profile_name=profile_name)
    given = [str(form.get(f"value-from-{i}", "")) for i in range(len(form))]
    provider_values = {v: str(form.get(f"value-to-{i}", "")) for i, v in enumerate(given) if v}
    upload.mapping = mapping
    upload.value_map = {"provider": {k: v for k, v in provider_values.items() if v}}
    state.storage.put(upload)
    if profile_name:
        title = f"saved by {user.name} from {upload.filename}"
        try:
            state.profiles.save(profile_name, profile_table(title, mapping, upload.value_map), state.settings)
        except (InputError, ConfigError) as error:
            return _mapping(request, state, user, upload_id, [str(error)], status_code=400, profile_name=profile_name)
    state.checks.forget(upload_id)
    (state.storage.folder(upload_id) / PREVIEW_FILE).unlink(missing_ok=True)
    job_id = start(state, "check", upload_id, user.name, {"after": "mapping", "filename": upload.filename})
    return after_check(request, state, wait(state, job_id), user)


@router.get("/uploads/{upload_id}/check")
def check_page(
    request: Request, state: StateDep, user: CurrentUser, upload_id: str, page: int = 1, problems: int = 0
) -> Response:
    """Counts per status and one page of the grid (the grid alone for htmx requests)."""
    checked = state.checks.get(upload_id)
    grid = grid_page(checked, page, bool(problems))
    context = {
        "upload": checked.upload,
        "checked": checked,
        "counts": checked.counts,
        "orders": len(checked.result.grouping.orders),
        "notes": checked.result.notes,
        "profile": checked.profile,
        "grid": grid,
        "columns": checked.input_columns(),
        "problems": bool(problems),
        "page_url": f"/uploads/{upload_id}/check",
    }
    name = "_grid.html" if request.headers.get("hx-request") else "check.html"
    return render(request, name, context)


@router.get("/uploads/{upload_id}/results.xlsx")
def check_results(state: StateDep, user: CurrentUser, upload_id: str) -> Response:
    """The results workbook of the check, to fix the sheet in Excel."""
    checked = state.checks.get(upload_id)
    result = checked.result
    target = state.storage.folder(upload_id) / "check.results.xlsx"
    api.write_results(result.sheet, result.outcomes, result.errors, target)
    target.chmod(0o600)
    name = f"{checked.upload.filename.rsplit('.', 1)[0]}.results.xlsx"
    return FileResponse(target, filename=name, media_type=XLSX)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
