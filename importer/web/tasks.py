"""The jobs the routes start: what each kind does, and a short wait so a quick job answers in its request.

A check, a preview and a purchase each run in a job, never in the request
itself. The upload and mapping pages wait up to :data:`QUICK_SECONDS` for
their check: a usual sheet is checked by then and the answer is the check
page itself; a bigger one answers with the job's progress page instead, so
no request waits for a long check.
"""

from __future__ import annotations

import secrets
import shutil
import time
from typing import Any

from ..errors import InputError
from .app import ServerState
from .checks import Checked, needs_mapping, sheet_headers
from .jobs import Job, Progress, Work
from .purchases import buy_work, preview_work

QUICK_SECONDS = 2.0


def work_for(state: ServerState, job: Job) -> Work:
    """What a job of this kind does (the same for its first run and for running it again)."""

    def checked() -> Checked:
        return state.checks.get(job.upload_id)

    if job.kind == "buy":
        return buy_work(checked, state.storage, state.settings, state.ledger, state.jobs)
    if job.kind == "check":
        return check_work(state)
    return preview_work(checked, state.storage, state.settings)


def check_work(state: ServerState) -> Work:
    """Check the upload; a sheet the reader refuses ends the job with the reader's message in its result.

    An upload refused outright (not a sheet, too big, hostile) is deleted; one
    whose headers need mapping is kept for the mapping page.
    """

    def work(job: Job, progress: Progress) -> dict[str, Any]:
        try:
            state.checks.get(job.upload_id)
        except InputError as error:
            path = state.storage.sheet_path(job.upload_id)
            filename = state.storage.get(job.upload_id).filename
            mapping = needs_mapping(error) and bool(sheet_headers(path))
            if not mapping and job.params.get("after") != "mapping":
                shutil.rmtree(state.storage.folder(job.upload_id), ignore_errors=True)
            message = str(error).replace(str(path), filename).replace(path.name, filename)
            return {"error": message, "needs_mapping": mapping}
        return {}

    return work


def start(state: ServerState, kind: str, upload_id: str, user: str, params: dict[str, Any]) -> str:
    """Record a job and hand it to the workers; returns its id."""
    job_id = secrets.token_urlsafe(12)
    state.jobs.add(job_id, kind, upload_id, user, params)
    job = state.jobs.get(job_id)
    assert job is not None
    state.runner.start(job_id, work_for(state, job))
    return job_id


def wait(state: ServerState, job_id: str, seconds: float | None = None) -> Job:
    """The job once it has finished, or as it stands after ``seconds`` (default :data:`QUICK_SECONDS`)."""
    deadline = time.monotonic() + (QUICK_SECONDS if seconds is None else seconds)
    while True:
        job = state.jobs.get(job_id)
        assert job is not None
        if job.finished or time.monotonic() >= deadline:
            return job
        time.sleep(0.02)
