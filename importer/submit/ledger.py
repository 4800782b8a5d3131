"""The order ledger: a SQLite journal that makes order creation exactly-once for the user.

Every order the importer sends is recorded under a deterministic key
(provider + account + order_ref), with a hash of its content, before the
create request leaves::

    PLANNED ─▶ SENDING ─▶ CREATED    (provider ids stored)
                      ├─▶ REJECTED   (the provider said no; safe to send again)
                      └─▶ UNKNOWN    (no clear answer; look it up before anything else)

A run that dies after SENDING was committed leaves the order SENDING; the
next run looks it up at the provider (``Provider.find_order``) before it
would ever send it again. The ledger stores hashes, counts and provider ids,
never request bodies, receivers' details or credentials.

One run at a time: an exclusive lock on ``<ledger>.lock`` is taken on open
and a second run stops with :class:`~importer.errors.LedgerBusy`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from ..errors import LedgerBusy
from ..models import OrderDraft

DEFAULT_LEDGER_NAME = "order-importer.ledger.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    key            TEXT PRIMARY KEY,
    provider       TEXT NOT NULL,
    account        TEXT NOT NULL,
    order_ref      TEXT NOT NULL,
    content_hash   TEXT NOT NULL,
    line_count     INTEGER NOT NULL,
    total_quantity INTEGER NOT NULL,
    lines_hash     TEXT NOT NULL,
    receiver_hash  TEXT NOT NULL,
    state          TEXT NOT NULL,
    provider_ids   TEXT NOT NULL DEFAULT '',
    result         TEXT NOT NULL DEFAULT '{}',
    message        TEXT NOT NULL DEFAULT '',
    run_id         TEXT NOT NULL DEFAULT '',
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_state ON orders(state);
CREATE TABLE IF NOT EXISTS runs (
    run_id      TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL DEFAULT '',
    exit_code   INTEGER
);
CREATE TABLE IF NOT EXISTS run_rows (
    run_id  TEXT NOT NULL,
    row_id  INTEGER NOT NULL,
    sheet   TEXT NOT NULL,
    row     INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    PRIMARY KEY (run_id, row_id)
);
CREATE TABLE IF NOT EXISTS item_map (
    provider   TEXT NOT NULL,
    account    TEXT NOT NULL,
    raw_id     TEXT NOT NULL,
    mapping    TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    PRIMARY KEY (provider, account, raw_id)
);
"""
MAPPING_TTL = timedelta(days=1)
"""How long a provider's item-id mapping (撞库 answer) is reused by later runs."""


class OrderState(StrEnum):
    """Where an order stands in the ledger."""

    PLANNED = "PLANNED"
    SENDING = "SENDING"
    CREATED = "CREATED"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True)
class Fingerprint:
    """What the ledger remembers of an order's content: hashes and counts, no personal data."""

    content_hash: str
    lines_hash: str
    receiver_hash: str
    line_count: int
    total_quantity: int

    @classmethod
    def of(cls, order: OrderDraft) -> Fingerprint:
        lines = [[ln.line_no, ln.item_id, ln.sku_id, ln.quantity, str(ln.unit_price or "")] for ln in order.lines]
        receiver = [getattr(order.receiver, f) for f in order.receiver.__slots__]
        lines_hash = _sha(lines)
        receiver_hash = _sha([receiver, order.remark])
        return cls(
            content_hash=_sha([lines_hash, receiver_hash]),
            lines_hash=lines_hash,
            receiver_hash=receiver_hash,
            line_count=len(order.lines),
            total_quantity=sum(ln.quantity for ln in order.lines),
        )

    def difference(self, other: Fingerprint) -> str:
        """How ``self`` (the sheet) differs from ``other`` (what was sent), in words."""
        if self.line_count != other.line_count:
            return f"with {other.line_count} lines; this sheet has {self.line_count}"
        if self.total_quantity != other.total_quantity:
            return f"with a total quantity of {other.total_quantity}; this sheet has {self.total_quantity}"
        if self.lines_hash != other.lines_hash:
            return "with different items, SKUs or prices than this sheet"
        return "with a different receiver or remark than this sheet"


@dataclass(frozen=True)
class LedgerEntry:
    """One order as the ledger knows it."""

    key: str
    provider: str
    account: str
    order_ref: str
    fingerprint: Fingerprint
    state: OrderState
    provider_ids: str
    result: dict[str, Any]
    message: str
    created_at: str
    updated_at: str


def _sha(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Ledger:
    """A SQLite ledger file (WAL) shared by the threads of one run.

    Open it with :meth:`open`, which takes the run lock; every state change is
    committed before the method returns.
    """

    def __init__(self, path: Path, connection: sqlite3.Connection, lock_file: IO[str]) -> None:
        self.path = path
        self._db = connection
        self._lock_file = lock_file
        self._mutex = threading.Lock()

    @classmethod
    @contextlib.contextmanager
    def open(cls, path: str | Path) -> Iterator[Ledger]:
        """Open (creating if needed) and lock the ledger for the length of a run."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        lock_file = open(f"{path}.lock", "a+", encoding="utf-8")  # noqa: SIM115 - held for the run
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.close()
            raise LedgerBusy(
                f"another run is using the ledger {path}; wait for it to finish (nothing was sent by this run)"
            ) from None
        connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            connection.executescript(_SCHEMA)
            _add_confirmed_by(connection)
            ledger = cls(path, connection, lock_file)
            yield ledger
        finally:
            connection.close()
            fcntl.flock(lock_file, fcntl.LOCK_UN)
            lock_file.close()

    # ----- reads --------------------------------------------------------------
    def get(self, key: str) -> LedgerEntry | None:
        with self._mutex:
            row = self._db.execute("SELECT * FROM orders WHERE key = ?", (key,)).fetchone()
        return self._entry(row) if row else None

    def entries(self, state: OrderState | None = None) -> list[LedgerEntry]:
        with self._mutex:
            if state is None:
                rows = self._db.execute("SELECT * FROM orders ORDER BY created_at, key").fetchall()
            else:
                rows = self._db.execute(
                    "SELECT * FROM orders WHERE state = ? ORDER BY created_at, key", (str(state),)
                ).fetchall()
        return [self._entry(r) for r in rows]

    def counts(self) -> dict[str, int]:
        with self._mutex:
            rows = self._db.execute("SELECT state, COUNT(*) FROM orders GROUP BY state").fetchall()
        return {str(state): int(n) for state, n in rows}

    def integrity_ok(self) -> bool:
        with self._mutex:
            return bool(self._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok")

    def _entry(self, row: tuple[Any, ...]) -> LedgerEntry:
        names = [d[1] for d in self._columns()]
        values = dict(zip(names, row, strict=True))
        return LedgerEntry(
            key=values["key"],
            provider=values["provider"],
            account=values["account"],
            order_ref=values["order_ref"],
            fingerprint=Fingerprint(
                content_hash=values["content_hash"],
                lines_hash=values["lines_hash"],
                receiver_hash=values["receiver_hash"],
                line_count=values["line_count"],
                total_quantity=values["total_quantity"],
            ),
            state=OrderState(values["state"]),
            provider_ids=values["provider_ids"],
            result=json.loads(values["result"]),
            message=values["message"],
            created_at=values["created_at"],
            updated_at=values["updated_at"],
        )

    def _columns(self) -> list[tuple[Any, ...]]:
        if not hasattr(self, "_column_info"):
            self._column_info = self._db.execute("PRAGMA table_info(orders)").fetchall()
        return self._column_info

    # ----- state changes (each committed on return) ----------------------------
    def plan(self, key: str, order: OrderDraft, account: str, fingerprint: Fingerprint) -> None:
        """Record an order about to be sent (PLANNED), or refresh a REJECTED/PLANNED one's content."""
        now = _now()
        with self._mutex:
            self._db.execute(
                """INSERT INTO orders (key, provider, account, order_ref, content_hash, line_count, total_quantity,
                                       lines_hash, receiver_hash, state, created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'PLANNED', ?, ?)
                   ON CONFLICT(key) DO UPDATE SET content_hash = excluded.content_hash,
                       line_count = excluded.line_count, total_quantity = excluded.total_quantity,
                       lines_hash = excluded.lines_hash, receiver_hash = excluded.receiver_hash,
                       state = 'PLANNED', updated_at = excluded.updated_at
                   WHERE orders.state IN ('PLANNED', 'REJECTED')""",
                (
                    key,
                    order.provider,
                    account,
                    order.order_ref,
                    fingerprint.content_hash,
                    fingerprint.line_count,
                    fingerprint.total_quantity,
                    fingerprint.lines_hash,
                    fingerprint.receiver_hash,
                    now,
                    now,
                ),
            )

    def _set(self, key: str, state: OrderState, **fields: str | int) -> None:
        assignments = ", ".join(f"{name} = ?" for name in fields)
        sql = f"UPDATE orders SET state = ?, updated_at = ?{', ' if fields else ''}{assignments} WHERE key = ?"  # noqa: S608 - names are ours
        with self._mutex:
            self._db.execute(sql, (str(state), _now(), *fields.values(), key))

    def mark_sending(self, key: str, run_id: str) -> None:
        """Commit SENDING before the create leaves: after a crash the order is reconciled, never resent blindly."""
        self._set(key, OrderState.SENDING, run_id=run_id)

    def mark_created(self, key: str, provider_ids: str, result: dict[str, Any]) -> None:
        self._set(key, OrderState.CREATED, provider_ids=provider_ids, result=json.dumps(result), message="")

    def mark_planned(self, key: str, fingerprint: Fingerprint) -> None:
        """Back to PLANNED: the provider confirmed it has no such order, so it may be sent."""
        self._set(
            key,
            OrderState.PLANNED,
            content_hash=fingerprint.content_hash,
            lines_hash=fingerprint.lines_hash,
            receiver_hash=fingerprint.receiver_hash,
            line_count=fingerprint.line_count,
            total_quantity=fingerprint.total_quantity,
        )

    def mark_rejected(self, key: str, message: str) -> None:
        self._set(key, OrderState.REJECTED, message=message)

    def mark_unknown(self, key: str, message: str) -> None:
        self._set(key, OrderState.UNKNOWN, message=message)

    # ----- item-id mappings, reused across runs ---------------------------------
    def cached_mapping(self, provider: str, account: str, raw_id: str) -> dict[str, Any] | None:
        """A mapping stored by an earlier run within :data:`MAPPING_TTL`, or None."""
        with self._mutex:
            row = self._db.execute(
                "SELECT mapping, fetched_at FROM item_map WHERE provider = ? AND account = ? AND raw_id = ?",
                (provider, account, raw_id),
            ).fetchone()
        if row is None or datetime.fromisoformat(row[1]) < datetime.now(UTC) - MAPPING_TTL:
            return None
        value: dict[str, Any] = json.loads(row[0])
        return value

    def remember_mapping(self, provider: str, account: str, raw_id: str, mapping: dict[str, Any]) -> None:
        with self._mutex:
            self._db.execute(
                "INSERT OR REPLACE INTO item_map (provider, account, raw_id, mapping, fetched_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (provider, account, raw_id, json.dumps(mapping, ensure_ascii=False), _now()),
            )

    # ----- runs, for re-exporting results ---------------------------------------
    def start_run(self, run_id: str, source: str) -> None:
        with self._mutex:
            self._db.execute("INSERT INTO runs (run_id, source, started_at) VALUES (?, ?, ?)", (run_id, source, _now()))

    def finish_run(self, run_id: str, exit_code: int, rows: list[tuple[int, str, int, dict[str, str]]]) -> None:
        """Store each row's outcome (status, ids, amounts, message) so the run can be exported again."""
        with self._mutex:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR REPLACE INTO run_rows (run_id, row_id, sheet, row, outcome) VALUES (?, ?, ?, ?, ?)",
                [
                    (run_id, rid, sheet, row, json.dumps(outcome, ensure_ascii=False))
                    for rid, sheet, row, outcome in rows
                ],
            )
            self._db.execute(
                "UPDATE runs SET finished_at = ?, exit_code = ? WHERE run_id = ?", (_now(), exit_code, run_id)
            )
            self._db.execute("COMMIT")

    def record_confirmation(self, run_ids: list[str], confirmed_by: str, source: str) -> None:
        """Name who confirmed the purchase of these runs (the team server's sign-in) and the file they bought.

        Each run and each order it sent keeps the first name recorded for it.
        """
        if not run_ids:
            return
        marks = ", ".join("?" for _ in run_ids)
        with self._mutex:
            self._db.execute("BEGIN")
            self._db.execute(
                f"UPDATE runs SET confirmed_by = ?, source = ? WHERE confirmed_by = '' AND run_id IN ({marks})",  # noqa: S608 - placeholders
                (confirmed_by, source, *run_ids),
            )
            self._db.execute(
                f"UPDATE orders SET confirmed_by = ? WHERE confirmed_by = '' AND run_id IN ({marks})",  # noqa: S608
                (confirmed_by, *run_ids),
            )
            self._db.execute("COMMIT")

    def runs(self) -> list[dict[str, Any]]:
        names = ("run_id", "source", "started_at", "finished_at", "exit_code", "confirmed_by")
        with self._mutex:
            rows = self._db.execute(f"SELECT {', '.join(names)} FROM runs ORDER BY started_at").fetchall()  # noqa: S608
        return [dict(zip(names, r, strict=True)) for r in rows]

    def confirmed_by(self, key: str) -> str:
        """Who confirmed the purchase that sent this order ('' for a run from the command line)."""
        with self._mutex:
            row = self._db.execute("SELECT confirmed_by FROM orders WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else ""

    def run_rows(self, run_id: str) -> list[tuple[int, str, int, dict[str, str]]]:
        with self._mutex:
            rows = self._db.execute(
                "SELECT row_id, sheet, row, outcome FROM run_rows WHERE run_id = ? ORDER BY row_id", (run_id,)
            ).fetchall()
        return [(int(r[0]), str(r[1]), int(r[2]), json.loads(r[3])) for r in rows]


def _add_confirmed_by(connection: sqlite3.Connection) -> None:
    """Ledgers made before purchases named who confirmed them get the column, empty."""
    for table in ("orders", "runs"):
        columns = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
        if "confirmed_by" not in columns:
            connection.execute(f"ALTER TABLE {table} ADD COLUMN confirmed_by TEXT NOT NULL DEFAULT ''")


def default_ledger_path(results_path: Path) -> Path:
    """One ledger per results folder, so re-running any file there sees earlier runs."""
    return results_path.parent / DEFAULT_LEDGER_NAME
