"""Preview and create orders at their providers, concurrently, with retries where safe.

Orders for different providers run in parallel; each provider gets at most
its account's ``concurrency`` calls in flight. A preview has no side effects
and is retried on transient failures. A create is retried only when the
failure proves nothing reached the provider (connection refused, HTTP 429);
anything less clear becomes UNKNOWN and must be reconciled, never resent.
"""

from __future__ import annotations

import hashlib
import json
import random
import shlex
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import PurePath
from typing import Any, TypeVar

import pandas as pd
import tenacity

from ..config import Settings
from ..errors import (
    ConfigError,
    LedgerConflict,
    NotSent,
    OutcomeUnknown,
    ProviderError,
    ProviderUnavailable,
    Rejected,
    Transient,
)
from ..killpoints import kill_point
from ..logs import log
from ..models import (
    ROW_COL,
    SHEET_COL,
    LineCreation,
    LinePreview,
    OrderCreation,
    OrderDraft,
    OrderLine,
    OrderPreview,
    OrderSheet,
    Status,
)
from ..money import to_fen
from ..outcomes import OUTCOME_COLUMNS
from ..providers import provider_class
from ..providers.base import Found, LookupResult, Provider, Unsure
from .ledger import UNSETTLED, Fingerprint, Ledger, LedgerEntry, OrderState, default_ledger_path

T = TypeVar("T")
DEFAULT_BREAKER_THRESHOLD = 5
"""Transient failures in a row after which a provider is not called again in the run (config:
``circuit_breaker_threshold`` in the provider's section)."""
Progress = Callable[[int, int], None]

# Extra columns of the preview frame that carry what create needs.
ORDER_KEY_COL = "order_key"
LINE_NO_COL = "line_no"
CONTEXT_COL = "preview_context"
UNAVAILABLE_COL = "provider_unavailable"
"""True on rows not attempted because their provider was unavailable (a ProviderUnavailable, by type)."""
PREVIEW_COLUMNS: tuple[str, ...] = (*OUTCOME_COLUMNS, ORDER_KEY_COL, LINE_NO_COL, CONTEXT_COL, UNAVAILABLE_COL)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a call that failed transiently.

    Waits grow exponentially with full jitter, capped at ``max_wait``; a
    provider's ``Retry-After`` is honoured as a minimum. ``sleep`` is
    injectable so tests stay fast and deterministic.
    """

    attempts: int = 4
    base_wait: float = 0.5
    max_wait: float = 30.0
    max_elapsed: float = 120.0
    sleep: Callable[[float], None] = time.sleep
    rng: Callable[[], float] = random.random

    def wait_before(self, attempt: int, error: Transient) -> float:
        backoff: float = min(self.max_wait, self.base_wait * 2 ** (attempt - 1)) * self.rng()
        return max(backoff, error.retry_after or 0.0)


def call_with_retries(call: Callable[[], T], policy: RetryPolicy, *, retry_if: Callable[[Transient], bool]) -> T:
    """Run ``call``; on a retryable Transient, wait and try again within the policy's bounds (tenacity)."""

    def wait(state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        return policy.wait_before(state.attempt_number, error) if isinstance(error, Transient) else 0.0

    def retryable(error: BaseException) -> bool:
        return isinstance(error, Transient) and not isinstance(error, ProviderUnavailable) and retry_if(error)

    retrying = tenacity.Retrying(
        stop=tenacity.stop_any(tenacity.stop_after_attempt(policy.attempts), _StopBeforeDeadline(policy, wait)),
        wait=wait,
        retry=tenacity.retry_if_exception(retryable),
        sleep=policy.sleep,
        reraise=True,
    )
    return retrying(call)


class _StopBeforeDeadline(tenacity.stop.stop_base):
    """Stop when the next wait would end past ``max_elapsed`` (rather than sleeping and then giving up)."""

    def __init__(self, policy: RetryPolicy, wait: Callable[[tenacity.RetryCallState], float]) -> None:
        self.policy = policy
        self.wait = wait

    def __call__(self, state: tenacity.RetryCallState) -> bool:
        # Time asleep counts even when ``sleep`` is a test double that returns at once.
        elapsed = max(state.seconds_since_start or 0.0, state.idle_for)
        return elapsed + self.wait(state) > self.policy.max_elapsed


class CircuitBreaker:
    """Stops calls to one provider for the rest of the run after ``threshold`` transient failures in a row.

    Every attempt counts (a retried call that fails three times counts three);
    any answer resets the count. Once open it stays open: the run's remaining
    orders for that provider are reported NOT_ATTEMPTED instead of waiting on
    a provider that is down.
    """

    def __init__(self, provider: str, threshold: int) -> None:
        self.provider = provider
        self.threshold = max(1, threshold)
        self.failures = 0
        self.last_error = ""
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self.failures >= self.threshold

    def refusal(self) -> ProviderUnavailable:
        return ProviderUnavailable(
            f"provider unavailable: stopped calling it after {self.failures} failures in a row ({self.last_error})",
            provider=self.provider,
            endpoint="",
        )

    def call(self, call: Callable[[], T]) -> T:
        """Run ``call`` unless the breaker is open; count its transient failures."""
        if self.is_open:
            raise self.refusal()
        try:
            result = call()
        except (Transient, OutcomeUnknown) as error:
            with self._lock:
                self.failures += 1
                self.last_error = error.message
            raise
        except ProviderError:
            with self._lock:
                self.failures = 0
            raise
        with self._lock:
            self.failures = 0
        return result


def _nothing_reached_provider(error: Transient) -> bool:
    """A create may be repeated only when the provider certainly did not act on it (by type, never by text)."""
    return isinstance(error, NotSent)


@dataclass(frozen=True)
class RowOrigin:
    """Where each order's rows came from (file, sheet and Excel row), for the ledger and ``order-importer unknown``."""

    source: str = ""
    places: Mapping[int, tuple[str, int]] | None = None

    @classmethod
    def of(cls, sheet: OrderSheet, source: str, orders: Sequence[OrderDraft]) -> RowOrigin:
        """The places of ``orders``' rows only (a lookup per row of a large sheet would cost seconds)."""
        row_ids = [line.row_id for order in orders for line in order.lines]
        found = sheet.frame.loc[row_ids, [SHEET_COL, ROW_COL]]
        return cls(source, dict(zip(row_ids, zip(found[SHEET_COL], found[ROW_COL], strict=True), strict=True)))

    def rows(self, order: OrderDraft) -> str:
        """``Orders 2-4, 7`` for an order read from rows 2, 3, 4 and 7 of sheet Orders."""
        if not self.places:
            return ""
        by_sheet: dict[str, list[int]] = {}
        for line in order.lines:
            if line.row_id in self.places:
                sheet, row = self.places[line.row_id]
                by_sheet.setdefault(str(sheet), []).append(int(row))
        return "; ".join(f"{sheet} {_ranges(sorted(rows))}" for sheet, rows in by_sheet.items())


def _ranges(rows: list[int]) -> str:
    parts: list[str] = []
    start = previous = rows[0]
    for row in [*rows[1:], None]:
        if row is not None and row == previous + 1:
            previous = row
            continue
        parts.append(str(start) if start == previous else f"{start}-{previous}")
        if row is not None:
            start = previous = row
    return ", ".join(parts)


def external_id(provider: str, account: str, order_ref: str, scope: str = "") -> str:
    """The deterministic caller reference sent with a create, so a provider can be searched by it.

    ``scope`` is the file an order_ref is unique within, when order_refs are
    scoped to their file (``[run] order_ref_scope = "file"``); '' keeps the
    account-wide id.
    """
    key = f"{provider}\x1f{account}\x1f{order_ref}" + (f"\x1f{scope}" if scope else "")
    digest = hashlib.sha256(key.encode()).hexdigest()
    return "OI" + digest[:20].upper()


def order_key(order: OrderDraft) -> str:
    """Identify an order within one run (provider + order_ref)."""
    return f"{order.provider}\x1f{order.order_ref}"


class Submitter:
    """Holds one adapter per provider and runs orders through them with bounded concurrency."""

    def __init__(
        self,
        settings: Settings,
        policy: RetryPolicy | None = None,
        ledger: Ledger | None = None,
        run_id: str = "",
        origin: RowOrigin | None = None,
    ) -> None:
        self.settings = settings
        self.policy = policy or RetryPolicy()
        self.ledger = ledger
        self.run_id = run_id
        self.origin = origin or RowOrigin()
        self._providers: dict[str, Provider] = {}
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._breakers: dict[str, CircuitBreaker] = {}
        self._lock = threading.Lock()

    def provider(self, key: str) -> Provider:
        with self._lock:
            if key not in self._providers:
                account = self.settings.account(key)
                self._providers[key] = provider_class(key)(account)
                self._providers[key].mapping_store = self.ledger
                self._slots[key] = threading.BoundedSemaphore(max(1, account.concurrency))
                threshold = int(account.options.get("circuit_breaker_threshold", DEFAULT_BREAKER_THRESHOLD))
                self._breakers[key] = CircuitBreaker(key, threshold)
            return self._providers[key]

    def breaker(self, key: str) -> CircuitBreaker:
        self.provider(key)
        return self._breakers[key]

    def run_each(
        self, orders: Sequence[OrderDraft], work: Callable[[OrderDraft], T], progress: Progress | None
    ) -> list[T]:
        """Apply ``work`` to every order, at most ``concurrency`` per provider at once; keeps order."""
        for key in {o.provider for o in orders}:
            self.provider(key)  # fail on a missing account before anything is sent
        workers = sum(self.settings.account(k).concurrency for k in {o.provider for o in orders}) or 1
        done = 0
        done_lock = threading.Lock()

        def task(order: OrderDraft) -> T:
            nonlocal done
            with self._slots[order.provider]:
                result = work(order)
            with done_lock:
                done += 1
                if progress:
                    progress(done, len(orders))
            return result

        with ThreadPoolExecutor(max_workers=min(workers, 64)) as pool:
            return list(pool.map(task, orders))

    def preview_one(self, order: OrderDraft) -> OrderPreview | ProviderError:
        provider = self.provider(order.provider)
        breaker = self.breaker(order.provider)
        try:
            return call_with_retries(
                lambda: breaker.call(lambda: provider.preview(order)), self.policy, retry_if=lambda e: True
            )
        except ProviderError as error:
            return error

    def external_id(self, order: OrderDraft) -> str:
        return external_id(order.provider, self.provider(order.provider).account.name, order.order_ref, order.ref_scope)

    def create_one(self, order: OrderDraft, preview: OrderPreview) -> OrderCreation | ProviderError:
        """Create one order, journalling it in the ledger around the call."""
        provider = self.provider(order.provider)
        key = self.external_id(order)
        if self.breaker(order.provider).is_open:
            return self.breaker(order.provider).refusal()  # nothing journalled: this order was never sent
        if self.ledger is not None:
            try:
                self.ledger.plan(key, order, provider.account.name, Fingerprint.of(order))
                amount = "" if preview.total is None else str(preview.total)
                rows = self.origin.rows(order)
                self.ledger.mark_sending(key, self.run_id, amount=amount, source=self.origin.source, rows=rows)
            except LedgerConflict as error:  # sent, or maybe sent, before: never from here
                return Rejected(f"not sent: {error}", provider=order.provider, endpoint="ledger")
            kill_point("after-sending")
        result = self._send_create(provider, order, preview, key)
        kill_point("after-create-response")
        outcome = "refused or unclear: " + str(result) if isinstance(result, ProviderError) else "created"
        log.debug(
            "order %s at %s (external id %s): %s",
            order.order_ref,
            order.provider,
            key,
            outcome,
            extra={"provider": order.provider, "order_ref": order.order_ref, "status": type(result).__name__},
        )
        if self.ledger is not None:
            self._journal(key, order, result)
        return result

    def _send_create(
        self, provider: Provider, order: OrderDraft, preview: OrderPreview, key: str
    ) -> OrderCreation | ProviderError:
        breaker = self.breaker(order.provider)
        try:
            return call_with_retries(
                lambda: breaker.call(lambda: provider.create(order, preview, key)),
                self.policy,
                retry_if=_nothing_reached_provider,
            )
        except NotSent as error:  # ProviderUnavailable too: the breaker stopped the call before it left
            return error
        except Transient as error:
            return OutcomeUnknown(error.message, provider=error.provider, endpoint=error.endpoint, code=error.code)
        except ProviderError as error:
            return error

    def _journal(self, key: str, order: OrderDraft, result: OrderCreation | ProviderError) -> None:
        assert self.ledger is not None
        if isinstance(result, OutcomeUnknown):
            self.ledger.mark_unknown(key, str(result))
        elif isinstance(result, NotSent):
            self.ledger.mark_planned(key, Fingerprint.of(order))  # never reached the provider
        elif isinstance(result, ProviderError):
            self.ledger.mark_rejected(key, str(result))
        elif any(line.provider_line_id or line.provider_order_id for line in result.lines.values()) or (
            result.provider_order_ids
        ):
            self.ledger.mark_created(key, ", ".join(result.provider_order_ids), creation_to_json(result))
        else:
            self.ledger.mark_rejected(key, result.error or "every line was refused")


def creation_to_json(result: OrderCreation) -> dict[str, Any]:
    """What the ledger keeps of a create answer: ids, amounts and line errors."""
    return {
        "ids": list(result.provider_order_ids),
        "total": str(result.total) if result.total is not None else "",
        "lines": {
            line_no: {
                "order": line.provider_order_id,
                "line": line.provider_line_id,
                "amount": str(line.amount) if line.amount is not None else "",
                "currency": line.currency,
                "error": line.error or "",
            }
            for line_no, line in result.lines.items()
        },
    }


def creation_from_json(data: dict[str, Any]) -> OrderCreation:
    """Rebuild a create answer from what the ledger kept of it."""
    lines = {
        line_no: LineCreation(
            provider_order_id=v["order"],
            provider_line_id=v["line"],
            amount=Decimal(v["amount"]) if v["amount"] else None,
            currency=v["currency"],
            error=v["error"] or None,
        )
        for line_no, v in data.get("lines", {}).items()
    }
    total = Decimal(data["total"]) if data.get("total") else None
    return OrderCreation(ok=True, provider_order_ids=tuple(data.get("ids", ())), lines=lines, total=total)


# ----- preview -----------------------------------------------------------------


def preview_orders(
    orders: Sequence[OrderDraft],
    settings: Settings,
    *,
    progress: Progress | None = None,
    policy: RetryPolicy | None = None,
    ledger: Ledger | None = None,
) -> pd.DataFrame:
    """Preview every order; one row per order line with status, prices and any error."""
    submitter = Submitter(settings, policy, ledger)
    results = submitter.run_each(orders, submitter.preview_one, progress)
    records: list[dict[str, Any]] = []
    for order, result in zip(orders, results, strict=True):
        records.extend(_preview_records(order, result, settings.price_tolerance_percent))
    return _frame(records)


def _preview_records(
    order: OrderDraft, result: OrderPreview | ProviderError, tolerance_percent: Decimal = Decimal(0)
) -> Iterable[dict[str, Any]]:
    key = order_key(order)
    if isinstance(result, ProviderUnavailable):
        for line in order.lines:
            yield _record(line.row_id, key, line.line_no, Status.NOT_ATTEMPTED, error=str(result), unavailable=True)
        return
    if isinstance(result, ProviderError):
        for line in order.lines:
            yield _record(line.row_id, key, line.line_no, Status.PREVIEW_FAILED, error=f"preview failed: {result}")
        return
    rises = {
        line.line_no: rise
        for line in order.lines
        if (rise := price_rise(line, result.lines.get(line.line_no), tolerance_percent)) is not None
    }
    failed = [line for line in order.lines if _line_error(result.lines.get(line.line_no)) or line.line_no in rises]
    context = json.dumps(dict(result.context), ensure_ascii=False, default=str) if result.context else ""
    for position, line in enumerate(order.lines):
        line_preview = result.lines.get(line.line_no, LinePreview())
        record = _record(
            line.row_id,
            key,
            line.line_no,
            Status.PREVIEWED,
            estimated_unit_price=line_preview.unit_price,
            estimated_amount=line_preview.amount,
            currency_charged=line_preview.currency or result.currency,
            context=context,
        )
        if position == 0:
            record.update(freight=_dec(result.freight), order_total=_dec(result.total))
        error = _line_error(line_preview)
        if error:
            record.update(status=Status.PREVIEW_FAILED, error=error, error_column="item_id")
        elif line.line_no in rises:
            record.update(status=Status.PRICE_CHANGED, error=rises[line.line_no], error_column="unit_price")
        elif failed:
            lines = ", ".join(f.line_no for f in failed[:3]) + (", …" if len(failed) > 3 else "")
            record.update(status=Status.HELD, error=f"held: line {lines} of order {order.order_ref} failed preview")
        elif not result.ok:
            record.update(status=Status.PREVIEW_FAILED, error=f"preview failed: {result.error or 'refused'}")
        rise_held = line.line_no in rises  # its error says so; "within your tolerance" would contradict it
        note = "" if rise_held else price_note(line, line_preview)
        record["warning"] = note or str(result.context.get("note", ""))
        yield record


def price_rise(line: OrderLine, preview: LinePreview | None, tolerance_percent: Decimal) -> str | None:
    """Why a line is held for its price: the provider asks more than the sheet's unit_price allows.

    Compared only when both prices are in the same currency (a blank sheet
    currency counts as the provider's); None when the price is acceptable.
    """
    if preview is None or preview.error or preview.unit_price is None or line.unit_price is None:
        return None
    if line.currency and preview.currency and line.currency.upper() != preview.currency.upper():
        return None
    try:
        asked, expected = to_fen(preview.unit_price), to_fen(line.unit_price)
    except ValueError as error:  # a price finer than a fen cannot be compared exactly: hold rather than guess
        return f"price not compared: {error}; nothing was bought: give unit_price with at most 2 decimals"
    if asked * 100 <= expected * (100 + tolerance_percent):
        return None
    change = percent_change(expected, asked) if expected else Decimal(100)
    return (
        f"price changed: you expected {line.unit_price}, the provider asks {preview.unit_price} (+{change:.1f}%); "
        "nothing was bought: raise unit_price, or price_tolerance_percent in [run], to accept it"
    )


def percent_change(before_fen: int, after_fen: int) -> Decimal:
    """How many percent ``after`` is above (or, negative, below) ``before``; both in fen, ``before`` not 0."""
    return Decimal(after_fen - before_fen) * 100 / before_fen


PRICE_DROP_WARNING = Decimal(20)
"""A previewed price this many percent under the sheet's is worth a look (the wrong SKU, a typo)."""


def price_note(line: OrderLine, preview: LinePreview) -> str:
    """A warning when the previewed price is well below the sheet's, or above it but within the tolerance."""
    if preview.error or preview.unit_price is None or not line.unit_price:
        return ""
    if line.currency and preview.currency and line.currency.upper() != preview.currency.upper():
        return ""
    try:
        change = percent_change(to_fen(line.unit_price), to_fen(preview.unit_price))
    except ValueError:
        return ""
    if change <= -PRICE_DROP_WARNING:
        return (
            f"the provider's price {preview.unit_price} is {-change:.0f}% below your {line.unit_price}; "
            "check that item and SKU are the ones you meant"
        )
    if change > 0:
        return f"price rose from {line.unit_price} to {preview.unit_price} (+{change:.1f}%), within your tolerance"
    return ""


def _line_error(line: LinePreview | None) -> str:
    if line is None:
        return "the provider's preview did not mention this line"
    if line.error:
        code = f" [{line.error_code}]" if line.error_code else ""
        return f"not available: {line.error}{code}"
    return ""


# ----- create ------------------------------------------------------------------


def previews_from_frame(previewed: pd.DataFrame) -> dict[str, OrderPreview]:
    """Rebuild each order's preview from the preview frame (so an analyst may filter it first).

    Only orders whose every row is PREVIEWED are returned: those are the ones
    that may be created. The frame is read in one pass of plain records: a
    ``groupby`` with a frame per order cost a few milliseconds an order, and
    the create stage cannot start before this is done.
    """
    rows_by_order: dict[str, list[dict[Hashable, Any]]] = {}
    for row in previewed.to_dict("records"):
        key = row[ORDER_KEY_COL]
        if key is None or key != key:  # no order key (NaN): not an order's row, as groupby leaves it out
            continue
        rows_by_order.setdefault(str(key), []).append(row)
    return {
        key: _order_preview(rows)
        for key, rows in rows_by_order.items()
        if all(row["status"] == Status.PREVIEWED for row in rows)
    }


def _order_preview(rows: list[dict[Hashable, Any]]) -> OrderPreview:
    """One order's preview from its rows of the preview frame: the lines, and the order's totals on its first row."""
    lines = {
        str(row[LINE_NO_COL]): LinePreview(
            unit_price=_money(row["estimated_unit_price"]),
            amount=_money(row["estimated_amount"]),
            currency=str(row["currency_charged"]),
        )
        for row in rows
    }
    first = rows[0]
    return OrderPreview(
        ok=True,
        lines=lines,
        freight=_money(first["freight"]),
        total=_money(first["order_total"]),
        currency=str(first["currency_charged"]),
        context=json.loads(first[CONTEXT_COL]) if first[CONTEXT_COL] else {},
    )


def create_orders(
    orders: Sequence[OrderDraft],
    previewed: pd.DataFrame,
    settings: Settings,
    *,
    progress: Progress | None = None,
    policy: RetryPolicy | None = None,
    ledger: Ledger | None = None,
    run_id: str = "",
    origin: RowOrigin | None = None,
) -> pd.DataFrame:
    """Create the orders whose preview passed; one row per line of those orders.

    With a ledger, each order is journalled SENDING before its request leaves
    (with its amount and, from ``origin``, the file and rows it came from) and
    CREATED / REJECTED / UNKNOWN after.
    """
    previews = previews_from_frame(previewed)
    ready = [o for o in orders if order_key(o) in previews]
    submitter = Submitter(settings, policy, ledger, run_id, origin)
    results = submitter.run_each(ready, lambda o: submitter.create_one(o, previews[order_key(o)]), progress)
    records: list[dict[str, Any]] = []
    for order, result in zip(ready, results, strict=True):
        records.extend(_create_records(order, previews[order_key(order)], result, submitter))
    return _frame(records)


def _create_records(
    order: OrderDraft, preview: OrderPreview, result: OrderCreation | ProviderError, submitter: Submitter
) -> Iterable[dict[str, Any]]:
    key = order_key(order)
    if isinstance(result, ProviderError):
        if isinstance(result, ProviderUnavailable):
            status, message = Status.NOT_ATTEMPTED, str(result)
        elif isinstance(result, OutcomeUnknown):
            provider = submitter.provider(order.provider)
            ext = submitter.external_id(order)
            status, message = Status.UNKNOWN, unknown_message(provider, ext, str(result), submitter.ledger)
        else:
            status, message = Status.CREATE_FAILED, f"create failed: {result}"
        unavailable = isinstance(result, ProviderUnavailable)
        for line in order.lines:
            yield _record(line.row_id, key, line.line_no, status, error=message, unavailable=unavailable)
        return
    order_id = ", ".join(result.provider_order_ids)
    for position, line in enumerate(order.lines):
        created = result.lines.get(line.line_no)
        planned = preview.lines.get(line.line_no, LinePreview())
        record = _record(
            line.row_id,
            key,
            line.line_no,
            Status.CREATED,
            provider_order_id=(created.provider_order_id if created and created.provider_order_id else order_id),
            provider_line_id=created.provider_line_id if created else "",
            estimated_unit_price=planned.unit_price,
            estimated_amount=(created.amount if created and created.amount is not None else planned.amount),
            currency_charged=(created.currency if created and created.currency else planned.currency),
        )
        if position == 0:
            record.update(freight=_dec(preview.freight), order_total=_dec(result.total or preview.total))
        if created is None or created.error:
            reason = created.error if created and created.error else result.error or "no result for this line"
            code = f" [{created.error_code}]" if created and created.error_code else ""
            record.update(status=Status.CREATE_FAILED, error=f"create failed: {reason}{code}")
        yield record


# ----- reconcile with the ledger ---------------------------------------------------


DEFAULT_SETTLE_SECONDS = 600.0
"""How long after the last send a lookup's "no such order" may be believed (config: ``settle_seconds`` in the
provider's section). A slow provider may take minutes to show an order it is still making."""


@dataclass(frozen=True)
class AbsenceRule:
    """When one provider's lookup may prove an order absent: a trusted lookup, and a settle time since the send."""

    trusted: bool
    why: str
    settle_seconds: float

    @classmethod
    def of(cls, provider: Provider) -> AbsenceRule:
        """From the adapter's declared capabilities and the account's ``trust_lookup_absent`` / ``settle_seconds``."""
        options = provider.account.options
        section = f"[providers.{provider.key}]"
        turned_on = options.get("trust_lookup_absent", False)
        if not isinstance(turned_on, bool):
            raise ConfigError(f"{section} trust_lookup_absent must be true or false; got {turned_on!r}")
        settle = options.get("settle_seconds", DEFAULT_SETTLE_SECONDS)
        if isinstance(settle, bool) or not isinstance(settle, int | float) or settle < 0:
            raise ConfigError(f"{section} settle_seconds must be a number of seconds, 0 or more; got {settle!r}")
        lookup = provider.capabilities.lookup
        if provider.capabilities.absence_documented:
            return cls(True, f"its lookup is documented ({lookup.source})", float(settle))
        if turned_on:
            return cls(True, f"trust_lookup_absent is set in {section}", float(settle))
        what = "has no known lookup" if lookup.value is None else "has a lookup that is only inferred"
        why = (
            f"{provider.key} {what}, so finding nothing does not prove the order absent "
            f"(after checking with {provider.key}, set trust_lookup_absent = true in {section})"
        )
        return cls(False, why, float(settle))

    def refusal(self, answer: LookupResult, sent_at: str, now: datetime | None = None) -> str | None:
        """Why ``answer`` does not let the order be sent again; None when it may be (proven absent)."""
        if isinstance(answer, Unsure):
            return f"the lookup proves nothing: {answer.reason}"
        if isinstance(answer, Found):
            return "the lookup found it"
        if not self.trusted:
            return f"the lookup found nothing, but {self.why}"
        waited = _seconds_since(sent_at, now)
        if waited < self.settle_seconds:
            return (
                f"the lookup found nothing, but the last send was only {waited:.0f} s ago and the provider may "
                f"still be making it (settle_seconds = {self.settle_seconds:g}); run again later"
            )
        return None


def _seconds_since(stamp: str, now: datetime | None = None) -> float:
    """Seconds from an ISO 8601 time to now; 0 for a missing or unreadable time (never 'long ago')."""
    try:
        then = datetime.fromisoformat(stamp)
    except ValueError:
        return 0.0
    return ((now or datetime.now(UTC)) - then).total_seconds()


def reconcile(
    orders: Sequence[OrderDraft], settings: Settings, ledger: Ledger, *, policy: RetryPolicy | None = None
) -> tuple[list[OrderDraft], pd.DataFrame]:
    """Decide, before anything is sent, what the ledger already knows about each order.

    Returns the orders that may be sent, and outcome rows for the others:
    ALREADY_CREATED (same content, created before), INVALID (same order_ref,
    different content) or UNKNOWN (an earlier send whose fate is not known).
    SENDING/UNKNOWN orders are looked up at the provider first: found, they
    are CREATED; they may be sent again only when :class:`AbsenceRule` says
    the lookup proved them absent. Anything else keeps them UNKNOWN.
    """
    submitter = Submitter(settings, policy, ledger)
    to_send: list[OrderDraft] = []
    records: list[dict[str, Any]] = []
    for order in orders:
        key = submitter.external_id(order)
        fingerprint = Fingerprint.of(order)
        entry = ledger.get(key)
        if entry is not None and entry.state in UNSETTLED:
            entry = _settle(submitter, ledger, order, key, fingerprint, entry)
            if entry is not None and entry.state is not OrderState.CREATED:
                records.extend(_unknown_records(order, key, entry.message, submitter))
                continue
        if entry is None or entry.state is not OrderState.CREATED:
            to_send.append(order)
        elif entry.fingerprint.content_hash != fingerprint.content_hash:
            records.extend(_conflict_records(order, entry, fingerprint))
        else:
            records.extend(_already_created_records(order, entry))
    return to_send, _frame(records)


def _settle(
    submitter: Submitter, ledger: Ledger, order: OrderDraft, key: str, fingerprint: Fingerprint, entry: LedgerEntry
) -> LedgerEntry | None:
    """Look an unsettled order up at its provider and record what that proves.

    Returns the updated entry, or None when the order was proven absent (it
    may then be sent again).
    """
    provider = submitter.provider(order.provider)
    answer = look_up(provider, key, submitter.policy)
    if isinstance(answer, Found):
        ledger.mark_created(key, ", ".join(answer.creation.provider_order_ids), creation_to_json(answer.creation))
        return ledger.get(key)
    refusal = AbsenceRule.of(provider).refusal(answer, entry.sent_at or entry.created_at)
    if refusal is None:
        ledger.mark_planned(key, fingerprint, message="proven absent by a lookup; sent again")
        return None
    ledger.mark_unknown(key, refusal)
    return ledger.get(key)


def look_up(provider: Provider, key: str, policy: RetryPolicy) -> LookupResult:
    """The provider's answer for one external id, retrying transient failures; a failed lookup is Unsure."""
    try:
        return call_with_retries(lambda: provider.find_order(key), policy, retry_if=lambda e: True)
    except ProviderError as error:
        return Unsure(f"the lookup failed: {error}")


def unknown_message(provider: Provider, key: str, reason: str, ledger: Ledger | None) -> str:
    """What an UNKNOWN row says: what to check at the provider, and the exact command that records the answer."""
    field = provider.capabilities.caller_id_field.value
    where = (
        f" --ledger {shlex.quote(str(ledger.path))}"
        if ledger is not None and ledger.path.resolve() != default_ledger_path().resolve()
        else ""
    )
    message = (
        f"needs a manual check at {provider.key}: the order may have been bought. Look for an order whose "
        f"{field} is {key} in the {provider.title} console; if there is one, run "
        f"`order-importer resolve {key} --created <its order id>{where}`, if there is none, run "
        f"`order-importer resolve {key} --absent{where}` and the next run sends it"
    )
    return f"{message} ({reason})" if reason else message


def _unknown_records(order: OrderDraft, key: str, reason: str, submitter: Submitter) -> Iterable[dict[str, Any]]:
    message = unknown_message(submitter.provider(order.provider), key, reason, submitter.ledger)
    for line in order.lines:
        yield _record(line.row_id, order_key(order), line.line_no, Status.UNKNOWN, error=message)


def _sent_from(entry: LedgerEntry) -> str:
    """The name of the file an order was sent from, as the ledger keeps it ('' when it does not know)."""
    return "" if not entry.source or entry.source.startswith("<") else PurePath(entry.source).name


def _from_another_file(order: OrderDraft, entry: LedgerEntry) -> bool:
    """Whether a created order's order_ref came from another file than this order (unknown files: no)."""
    sent_from = _sent_from(entry)
    return bool(order.source and sent_from and order.source != sent_from)


def _bought_from(entry: LedgerEntry) -> str:
    """When, from which file and under which provider order id an order was bought, in words."""
    where = f" from {_sent_from(entry)}" if _sent_from(entry) else ""
    ids = f" as provider order {entry.provider_ids}" if entry.provider_ids else ""
    when = (entry.sent_at or entry.updated_at)[:16].replace("T", " ")
    return f"bought on {when} UTC{where}{ids}"


def _conflict_records(order: OrderDraft, entry: LedgerEntry, fingerprint: Fingerprint) -> Iterable[dict[str, Any]]:
    where = f" from {_sent_from(entry)}" if _from_another_file(order, entry) else ""
    message = (
        f"order_ref {order.order_ref} was created on {entry.created_at[:10]}{where} "
        f"{fingerprint.difference(entry.fingerprint)}; use a new order_ref for a new order"
        + (', or set order_ref_scope = "file" in [run] if each file numbers its own orders' if where else "")
    )
    for line in order.lines:
        yield _record(
            line.row_id, order_key(order), line.line_no, Status.INVALID, error=message, error_column="order_ref"
        )


def _already_created_records(order: OrderDraft, entry: LedgerEntry) -> Iterable[dict[str, Any]]:
    creation = creation_from_json(entry.result)
    for position, line in enumerate(order.lines):
        stored = creation.lines.get(line.line_no, LineCreation())
        record = _record(
            line.row_id,
            order_key(order),
            line.line_no,
            Status.ALREADY_CREATED,
            provider_order_id=stored.provider_order_id or entry.provider_ids,
            provider_line_id=stored.provider_line_id,
            estimated_amount=stored.amount,
            currency_charged=stored.currency,
        )
        if position == 0:
            record["order_total"] = _dec(creation.total)
        if stored.error:
            record.update(status=Status.CREATE_FAILED, error=f"create failed earlier: {stored.error}")
        elif _from_another_file(order, entry):
            record.update(
                status=Status.ALREADY_CREATED_ELSEWHERE,
                error=(
                    f"not bought: order_ref {order.order_ref} was {_bought_from(entry)}; if this is another order, "
                    'give it a new order_ref, or set order_ref_scope = "file" in [run] if each file numbers its own'
                ),
                error_column="order_ref",
            )
        elif not _sent_from(entry):  # a ledger from before files were kept: say what it does know
            record["warning"] = f"already {_bought_from(entry)} (the ledger does not say from which file)"
        yield record


# ----- helpers -----------------------------------------------------------------


def _dec(value: Any) -> Decimal | str:
    if value is None or value == "" or (isinstance(value, float) and value != value):
        return ""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _money(value: Any) -> Decimal | None:
    """A money cell of a frame (Decimal, text or empty) as Decimal or None."""
    amount = _dec(value)
    return amount if isinstance(amount, Decimal) else None


def _record(
    row_id: int, key: str, line_no: str, status: Status, *, context: str = "", unavailable: bool = False, **values: Any
) -> dict[str, Any]:
    record: dict[str, Any] = {"row_id": row_id, "status": str(status), ORDER_KEY_COL: key, LINE_NO_COL: line_no}
    record[CONTEXT_COL] = context
    record[UNAVAILABLE_COL] = unavailable
    for name, value in values.items():
        record[name] = "" if value is None else value
    return record


def any_unavailable(*frames: pd.DataFrame) -> bool:
    """Whether any row of these preview/create frames was not attempted because its provider was unavailable."""
    return any(bool(frame[UNAVAILABLE_COL].any()) for frame in frames if UNAVAILABLE_COL in frame)


def _frame(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(list(records), columns=["row_id", *PREVIEW_COLUMNS], dtype=object).fillna("")
    frame["row_id"] = frame["row_id"].astype("int64")
    frame[UNAVAILABLE_COL] = frame[UNAVAILABLE_COL].astype(bool)
    return frame.set_index("row_id")
