"""Background jobs: previews and purchases run in worker threads, never inside a request.

Each job is a row in ``jobs.sqlite`` in the data folder (kind, upload, who,
state, progress, result), so its page can be closed and opened again and
the server can be restarted: on start, a job that was queued or running is
marked ``interrupted``, and its page offers to run it again. Running a
purchase again is safe: the ledger settles every order sent before, so
nothing is created twice. Purchases run one at a time (the ledger takes an
exclusive lock); previews run beside them.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from ..errors import ImporterError
from ..logs import log

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id     TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    upload_id  TEXT NOT NULL,
    user       TEXT NOT NULL,
    state      TEXT NOT NULL,
    done       INTEGER NOT NULL DEFAULT 0,
    total      INTEGER NOT NULL DEFAULT 0,
    params     TEXT NOT NULL DEFAULT '{}',
    result     TEXT NOT NULL DEFAULT '{}',
    message    TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
"""


class JobState(StrEnum):
    """Where a job stands."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


FINISHED = frozenset({JobState.DONE, JobState.FAILED, JobState.INTERRUPTED})


@dataclass(frozen=True)
class Job:
    """One job as its page shows it."""

    job_id: str
    kind: str
    upload_id: str
    user: str
    state: JobState
    done: int
    total: int
    params: dict[str, Any]
    result: dict[str, Any]
    message: str
    created_at: float
    updated_at: float

    @property
    def finished(self) -> bool:
        return self.state in FINISHED


Progress = Callable[[int, int], None]
Work = Callable[["Job", Progress], dict[str, Any]]


class JobStore:
    """The jobs table; every change is committed at once."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._mutex = threading.Lock()

    def add(self, job_id: str, kind: str, upload_id: str, user: str, params: dict[str, Any]) -> None:
        now = time.time()
        with self._mutex:
            self._db.execute(
                "INSERT INTO jobs (job_id, kind, upload_id, user, state, params, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (job_id, kind, upload_id, user, str(JobState.QUEUED), json.dumps(params), now, now),
            )

    def update(self, job_id: str, **fields: Any) -> None:
        values = {
            k: json.dumps(v) if k in ("params", "result") else str(v) if k == "state" else v for k, v in fields.items()
        }
        assignments = ", ".join(f"{name} = ?" for name in values)
        with self._mutex:
            self._db.execute(
                f"UPDATE jobs SET {assignments}, updated_at = ? WHERE job_id = ?",  # noqa: S608 - names are ours
                (*values.values(), time.time(), job_id),
            )

    def get(self, job_id: str) -> Job | None:
        with self._mutex:
            row = self._db.execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        return _job(row) if row else None

    def all(self, kind: str | None = None) -> list[Job]:
        with self._mutex:
            rows = self._db.execute(
                "SELECT * FROM jobs WHERE ? IS NULL OR kind = ? ORDER BY created_at DESC", (kind, kind)
            ).fetchall()
        return [_job(r) for r in rows]

    def latest(self, upload_id: str, kind: str) -> Job | None:
        with self._mutex:
            row = self._db.execute(
                "SELECT * FROM jobs WHERE upload_id = ? AND kind = ? ORDER BY created_at DESC LIMIT 1",
                (upload_id, kind),
            ).fetchone()
        return _job(row) if row else None

    def mark_interrupted(self) -> list[str]:
        """After a restart: jobs that were queued or running did not finish."""
        with self._mutex:
            rows = self._db.execute("SELECT job_id FROM jobs WHERE state IN ('queued', 'running')").fetchall()
            self._db.execute(
                "UPDATE jobs SET state = 'interrupted', message = ?, updated_at = ?"
                " WHERE state IN ('queued', 'running')",
                ("the server stopped while this job ran; run it again to finish it", time.time()),
            )
        return [r[0] for r in rows]

    def close(self) -> None:
        self._db.close()


def _job(row: tuple[Any, ...]) -> Job:
    (job_id, kind, upload_id, user, state, done, total, params, result, message, created, updated) = row
    return Job(
        job_id,
        kind,
        upload_id,
        user,
        JobState(state),
        done,
        total,
        json.loads(params),
        json.loads(result),
        message,
        created,
        updated,
    )


class JobRunner:
    """Runs jobs in worker threads: purchases one at a time, checks and previews two at a time beside them."""

    def __init__(self, store: JobStore) -> None:
        self.store = store
        self._buying = ThreadPoolExecutor(max_workers=1, thread_name_prefix="order-importer-buy")
        self._others = ThreadPoolExecutor(max_workers=2, thread_name_prefix="order-importer-job")

    def start(self, job_id: str, work: Work) -> None:
        job = self.store.get(job_id)
        assert job is not None, job_id
        self.store.update(job_id, state=JobState.QUEUED, message="", done=0, total=0)
        (self._buying if job.kind == "buy" else self._others).submit(self._run, job_id, work)

    def _run(self, job_id: str, work: Work) -> None:
        job = self.store.get(job_id)
        assert job is not None, job_id
        self.store.update(job_id, state=JobState.RUNNING)

        def progress(done: int, total: int) -> None:
            self.store.update(job_id, done=done, total=total)

        try:
            result = work(job, progress)
        except ImporterError as error:
            self.store.update(job_id, state=JobState.FAILED, message=str(error))
            return
        except Exception as error:  # a job must end with a state its page can show
            log.error("job %s failed: %s", job_id, "".join(traceback.format_exception(error)))
            self.store.update(
                job_id,
                state=JobState.FAILED,
                message=f"the job failed unexpectedly ({type(error).__name__}); see the server log",
            )
            return
        self.store.update(job_id, state=JobState.DONE, result=result)

    def shutdown(self, wait: bool = True) -> None:
        for pool in (self._buying, self._others):
            pool.shutdown(wait=wait)
