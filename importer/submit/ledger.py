"""The order ledger: a SQLite journal that makes order creation exactly-once for the user.

Every order the importer sends is recorded under a deterministic key
(provider + account + order_ref), with a hash of its content, before the
create request leaves::

    PLANNED ─▶ SENDING ─▶ CREATED    (provider ids stored)
       ▲              ├─▶ REJECTED   (the provider said no; safe to send again)
       │              ├─▶ UNKNOWN    (no clear answer; look it up before anything else)
       │              └─▶ PLANNED    (certainly not sent: NotSent)
       └── UNKNOWN / SENDING, when a trusted lookup proves it absent or the user resolves it --absent
           UNKNOWN / SENDING ─▶ CREATED, when a lookup finds it or the user resolves it --created

:data:`TRANSITIONS` lists every allowed move; each state change is one
``UPDATE ... WHERE state IN (allowed from-states)`` that must change exactly
one row, or :class:`~importer.errors.LedgerConflict` is raised and nothing
changes. A run that dies after SENDING was committed leaves the order
SENDING; the next run looks it up at the provider (``Provider.find_order``)
before it would ever send it again. The ledger stores hashes, counts,
amounts, row numbers and provider ids, never request bodies, receivers'
details or credentials.

One run at a time: an exclusive lock on ``<ledger>.lock`` is taken on open
and a second run stops with :class:`~importer.errors.LedgerBusy`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from ..config import data_dir
from ..errors import LedgerBusy, LedgerConflict, LedgerError, LedgerMissing
from ..models import OrderDraft

DEFAULT_LEDGER_NAME = "ledger.sqlite"
REGISTRY_NAME = "ledgers.txt"
"""In the data folder: the absolute path of every ledger the importer made or opened, one per line."""

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
    updated_at     TEXT NOT NULL,
    sent_at        TEXT NOT NULL DEFAULT '',
    amount         TEXT NOT NULL DEFAULT '',
    source         TEXT NOT NULL DEFAULT '',
    rows           TEXT NOT NULL DEFAULT '',
    resolved_at    TEXT NOT NULL DEFAULT '',
    note           TEXT NOT NULL DEFAULT ''
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
_ADDED_COLUMNS = ("sent_at", "amount", "source", "rows", "resolved_at", "note")
"""Columns newer than the first ledgers; added (empty) when an older ledger is opened."""
MAPPING_TTL = timedelta(days=1)
"""How long a provider's item-id mapping (撞库 answer) is reused by later runs."""


class OrderState(StrEnum):
    """Where an order stands in the ledger."""

    PLANNED = "PLANNED"
    SENDING = "SENDING"
    CREATED = "CREATED"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"


_S = OrderState
TRANSITIONS: frozenset[tuple[OrderState, OrderState]] = frozenset(
    {
        (_S.PLANNED, _S.PLANNED),  # planned again with the sheet's content
        (_S.REJECTED, _S.PLANNED),  # refused earlier: may be sent again
        (_S.PLANNED, _S.SENDING),  # committed before the create leaves
        (_S.SENDING, _S.CREATED),  # a create answer with ids, or a lookup that found it
        (_S.SENDING, _S.REJECTED),  # the provider said no
        (_S.SENDING, _S.UNKNOWN),  # no clear answer, or a lookup that proves nothing
        (_S.SENDING, _S.PLANNED),  # certainly not sent (NotSent), proven absent, or resolved --absent
        (_S.UNKNOWN, _S.CREATED),  # a lookup found it, or resolved --created
        (_S.UNKNOWN, _S.UNKNOWN),  # looked up again, still unsettled
        (_S.UNKNOWN, _S.PLANNED),  # proven absent, or resolved --absent
    }
)
"""Every allowed (from, to) move; anything else is refused by the ledger itself."""
UNSETTLED = frozenset({OrderState.SENDING, OrderState.UNKNOWN})
"""States whose order may or may not exist at the provider."""


def allowed_from(target: OrderState) -> frozenset[OrderState]:
    """The states an order may leave for ``target``."""
    return frozenset(source for source, to in TRANSITIONS if to is target)


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
    sent_at: str = ""
    """When the create was last sent (SENDING committed), ISO 8601 UTC; '' if never."""
    amount: str = ""
    """The previewed order total when it was sent."""
    source: str = ""
    """The file the order was sent from."""
    rows: str = ""
    """The sheet and Excel rows it came from, e.g. ``Orders 2-4``."""
    resolved_at: str = ""
    note: str = ""
    """The user's note from ``order-importer resolve``."""


def _sha(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Ledger:
    """A SQLite ledger file (WAL) shared by the threads of one run.

    Open it with :meth:`open`, which takes the run lock; every state change is
    committed before the method returns.
    """

    def __init__(self, path: Path, connection: sqlite3.Connection, lock_file: IO[str] | None) -> None:
        self.path = path
        self._db = connection
        self._lock_file = lock_file
        self._mutex = threading.Lock()

    @classmethod
    @contextlib.contextmanager
    def open(cls, path: str | Path) -> Iterator[Ledger]:
        """Open (creating if needed) and lock the ledger for the length of a run.

        A ledger that is damaged, truncated, read-only or held by another
        process stops the run with a :class:`~importer.errors.LedgerError`
        before anything is sent, and so does an SQLite error met while it is open.
        """
        path = Path(path)
        lock_file = _take_run_lock(path)
        try:
            with _ledger_trouble(path, "open"):
                connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
            try:
                with _ledger_trouble(path, "open"):
                    connection.execute("PRAGMA journal_mode=WAL")
                    connection.execute("PRAGMA synchronous=FULL")
                    _check_intact(connection)
                    connection.executescript(_SCHEMA)
                    _add_missing_columns(connection)
                    _add_confirmed_by(connection)
                with _ledger_trouble(path, "use"):
                    yield cls(path, connection, lock_file)
            finally:
                connection.close()
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
            lock_file.close()

    @classmethod
    @contextlib.contextmanager
    def open_read_only(cls, path: str | Path) -> Iterator[Ledger]:
        """Open an existing ledger for reading only, without the run lock (``status`` while an import runs).

        SQLite's ``mode=ro`` never writes the file, and WAL lets this reader
        see the last committed state while a run writes.
        """
        path = Path(path)
        if not path.is_file():
            raise LedgerError(f"no ledger at {path}")
        with _ledger_trouble(path, "read"):
            uri = path.resolve().as_uri() + "?mode=ro"
            connection = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None, timeout=10)
            try:
                _check_intact(connection)
                tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
                if not {"orders", "runs", "run_rows"} <= tables:
                    raise LedgerError(f"{path} is an SQLite file but not an order-importer ledger (no orders table)")
                yield cls(path, connection, None)
            finally:
                connection.close()

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
            **{name: values[name] for name in _ADDED_COLUMNS},
        )

    def _columns(self) -> list[tuple[Any, ...]]:
        if not hasattr(self, "_column_info"):
            self._column_info = self._db.execute("PRAGMA table_info(orders)").fetchall()
        return self._column_info

    # ----- state changes (each committed on return, each guarded by TRANSITIONS) --------
    def plan(self, key: str, order: OrderDraft, account: str, fingerprint: Fingerprint) -> None:
        """Record an order about to be sent (PLANNED), or refresh a PLANNED/REJECTED one's content.

        Raises LedgerConflict when the order is in any other state: it was
        sent, or may have been, and must not be sent again from here.
        """
        now = _now()
        allowed = _in(frozenset({OrderState.PLANNED, OrderState.REJECTED}) & allowed_from(OrderState.PLANNED))
        with self._mutex:
            cursor = self._db.execute(
                f"""INSERT INTO orders (key, provider, account, order_ref, content_hash, line_count, total_quantity,
                                       lines_hash, receiver_hash, state, created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'PLANNED', ?, ?)
                   ON CONFLICT(key) DO UPDATE SET content_hash = excluded.content_hash,
                       line_count = excluded.line_count, total_quantity = excluded.total_quantity,
                       lines_hash = excluded.lines_hash, receiver_hash = excluded.receiver_hash,
                       state = 'PLANNED', updated_at = excluded.updated_at
                   WHERE orders.state IN {allowed}""",  # noqa: S608 - the states are ours
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
            if cursor.rowcount != 1:
                raise self._conflict(key, OrderState.PLANNED)

    def _move(self, key: str, target: OrderState, **fields: str | int) -> None:
        """Move one order to ``target`` from a state TRANSITIONS allows; LedgerConflict if none matched."""
        assignments = "".join(f", {name} = ?" for name in fields)
        sql = (
            f"UPDATE orders SET state = ?, updated_at = ?{assignments}"  # noqa: S608 - names and states are ours
            f" WHERE key = ? AND state IN {_in(allowed_from(target))}"
        )
        with self._mutex:
            cursor = self._db.execute(sql, (str(target), _now(), *fields.values(), key))
            if cursor.rowcount != 1:
                raise self._conflict(key, target)

    def _conflict(self, key: str, target: OrderState) -> LedgerConflict:
        row = self._db.execute("SELECT state FROM orders WHERE key = ?", (key,)).fetchone()
        where = f"is {row[0]}" if row else "is not in the ledger"
        return LedgerConflict(
            f"order {key} {where}; it cannot become {target} (allowed from: "
            f"{', '.join(sorted(allowed_from(target)))}); nothing was changed",
            key=key,
            state=str(row[0]) if row else "",
        )

    def mark_sending(self, key: str, run_id: str, *, amount: str = "", source: str = "", rows: str = "") -> None:
        """Commit SENDING before the create leaves: after a crash the order is reconciled, never resent blindly."""
        self._move(key, OrderState.SENDING, run_id=run_id, sent_at=_now(), amount=amount, source=source, rows=rows)

    def mark_created(self, key: str, provider_ids: str, result: dict[str, Any]) -> None:
        self._move(key, OrderState.CREATED, provider_ids=provider_ids, result=json.dumps(result), message="")

    def mark_planned(self, key: str, fingerprint: Fingerprint, message: str = "") -> None:
        """Back to PLANNED: certainly not sent, or proven absent, so it may be sent."""
        self._move(
            key,
            OrderState.PLANNED,
            content_hash=fingerprint.content_hash,
            lines_hash=fingerprint.lines_hash,
            receiver_hash=fingerprint.receiver_hash,
            line_count=fingerprint.line_count,
            total_quantity=fingerprint.total_quantity,
            message=message,
        )

    def mark_rejected(self, key: str, message: str) -> None:
        self._move(key, OrderState.REJECTED, message=message)

    def mark_unknown(self, key: str, message: str) -> None:
        self._move(key, OrderState.UNKNOWN, message=message)

    def resolve_created(self, key: str, provider_order_id: str, note: str = "") -> None:
        """The user found the order at the provider: CREATED under ``provider_order_id``."""
        result = {"ids": [provider_order_id], "total": "", "lines": {}}
        self._move(
            key,
            OrderState.CREATED,
            provider_ids=provider_order_id,
            result=json.dumps(result),
            message=f"resolved by hand: created as {provider_order_id}",
            resolved_at=_now(),
            note=note,
        )

    def resolve_absent(self, key: str, note: str = "") -> None:
        """The user checked the provider has no such order: PLANNED, so the next run sends it."""
        self._move(
            key, OrderState.PLANNED, message="resolved by hand: absent at the provider", resolved_at=_now(), note=note
        )

    def unsettled(self) -> list[LedgerEntry]:
        """Every order whose fate at the provider is not known (SENDING or UNKNOWN), oldest send first."""
        return sorted(
            (e for e in self.entries() if e.state in UNSETTLED), key=lambda e: (e.sent_at or e.created_at, e.key)
        )

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


def _in(states: frozenset[OrderState]) -> str:
    """An SQL ``IN`` list of states (our own enum values, never user text)."""
    return "(" + ", ".join(f"'{state}'" for state in sorted(states)) + ")"


def _add_missing_columns(connection: sqlite3.Connection) -> None:
    present = {row[1] for row in connection.execute("PRAGMA table_info(orders)")}
    for name in _ADDED_COLUMNS:
        if name not in present:
            connection.execute(f"ALTER TABLE orders ADD COLUMN {name} TEXT NOT NULL DEFAULT ''")


def default_ledger_path() -> Path:
    """One ledger per user, in the data folder, wherever the results go."""
    return data_dir() / DEFAULT_LEDGER_NAME


def known_ledgers() -> set[Path]:
    """Every ledger the importer has made or opened for this user (the registry in the data folder)."""
    try:
        text = (data_dir() / REGISTRY_NAME).read_text(encoding="utf-8")
    except FileNotFoundError:
        return set()
    return {Path(line) for line in text.splitlines() if line.strip()}


def _register(path: Path) -> None:
    """Add ``path`` to the registry, durably, before the first order is journalled in it."""
    if path in known_ledgers():
        return
    registry = data_dir() / REGISTRY_NAME
    registry.parent.mkdir(parents=True, exist_ok=True)
    with open(registry, "a", encoding="utf-8") as handle:
        handle.write(f"{path}\n")
        handle.flush()
        os.fsync(handle.fileno())


@contextlib.contextmanager
def open_for_run(path: Path | None = None, *, new: bool = False) -> Iterator[Ledger]:
    """Open the ledger a run journals in (default: :func:`default_ledger_path`).

    A ledger that earlier runs used (it is in the registry) but that is gone
    stops the run with LedgerMissing: an empty ledger would forget every
    order already bought. A fresh one is made only on the first run at that
    path, or when ``new`` is set (``--new-ledger``).
    """
    target = (path or default_ledger_path()).resolve()
    if not target.exists() and target in known_ledgers() and not new:
        raise LedgerMissing(
            f"the ledger {target} that earlier runs used is missing, so this run cannot tell which orders were "
            "already bought; restore it (from a backup, or point --ledger / [run] ledger at where it is now), "
            "or run with --new-ledger to start an empty one, knowing that orders bought before may be bought "
            "again; nothing was sent"
        )
    with Ledger.open(target) as ledger:
        _register(target)
        yield ledger


@contextlib.contextmanager
def open_existing(path: Path | None = None, *, write: bool = False) -> Iterator[Ledger]:
    """Open a ledger that must exist already.

    Read-only (``status``, ``unknown``, ``export``, also while an import
    runs), or locked for writing (``resolve``).
    """
    target = path or default_ledger_path()
    if not target.exists():
        earlier = " that earlier runs used" if target.resolve() in known_ledgers() else ""
        raise LedgerMissing(
            f"no ledger at {target}{earlier}; give the ledger with --ledger, or [run] ledger in the config"
        )
    with Ledger.open(target) if write else Ledger.open_read_only(target) as ledger:
        yield ledger


def _take_run_lock(path: Path) -> IO[str]:
    """The exclusive lock on ``<ledger>.lock`` that makes one run at a time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock_file = open(f"{path}.lock", "a+", encoding="utf-8")  # noqa: SIM115 - held for the run
    except OSError as error:
        raise LedgerError(
            f"cannot open the ledger's lock file {path}.lock ({error.strerror or error}); "
            "check that the ledger's folder exists and is writable (nothing was sent)"
        ) from None
    try:
        fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock_file.close()
        raise LedgerBusy(
            f"another run is using the ledger {path}; wait for it to finish (nothing was sent by this run)"
        ) from None
    return lock_file


def _check_intact(connection: sqlite3.Connection) -> None:
    """Raise the SQLite error of a damaged or truncated file (``quick_check`` reads every page once)."""
    found = [str(row[0]) for row in connection.execute("PRAGMA quick_check").fetchall()]
    if found != ["ok"]:
        raise sqlite3.DatabaseError(f"database disk image is malformed: {'; '.join(found[:3])}")


_TROUBLE = {
    "SQLITE_BUSY": "is busy: another process holds a write lock on it; try again when that process ends",
    "SQLITE_LOCKED": "is busy: another process holds a write lock on it; try again when that process ends",
    "SQLITE_READONLY": "is read-only here: an import must write it; check the permissions of the file and its folder",
    "SQLITE_CANTOPEN": "cannot be opened: check that the file and its folder exist and can be read",
    "SQLITE_PERM": "cannot be opened: check the permissions of the file and its folder",
}
_DAMAGED = (
    "is damaged or truncated; keep the file as it is for the record and restore the ledger from a backup: "
    "a new, empty ledger would not know which orders were already sent"
)


@contextlib.contextmanager
def _ledger_trouble(path: Path, doing: str) -> Iterator[None]:
    """Turn an SQLite error into a :class:`~importer.errors.LedgerError` naming the ledger and what to do."""
    try:
        yield
    except sqlite3.Error as error:
        code = str(getattr(error, "sqlite_errorname", "") or "").split("_")
        name = "_".join(code[:2])
        text = str(error)
        if name in _TROUBLE:
            reason = _TROUBLE[name]
        elif "readonly" in text or "read-only" in text:
            reason = _TROUBLE["SQLITE_READONLY"]
        elif "locked" in text or "busy" in text:
            reason = _TROUBLE["SQLITE_BUSY"]
        else:
            reason = _DAMAGED
        after = {"open": "; nothing was sent by this run", "use": "; the run stopped here", "read": ""}[doing]
        message = f"the ledger {path} {reason} (SQLite: {text}){after}"
        if name in ("SQLITE_BUSY", "SQLITE_LOCKED"):
            raise LedgerBusy(message) from None
        raise LedgerError(message) from None


def _add_confirmed_by(connection: sqlite3.Connection) -> None:
    """Ledgers made before purchases named who confirmed them get the column, empty."""
    for table in ("orders", "runs"):
        columns = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
        if "confirmed_by" not in columns:
            connection.execute(f"ALTER TABLE {table} ADD COLUMN confirmed_by TEXT NOT NULL DEFAULT ''")
