"""Rows that are in the sheet but are not orders to buy, found before anything is checked or sent.

A sheet holds more than orders: rows hidden by a filter or by hand (the user
sees five rows, so five are bought), rows whose own status column says the
order was cancelled or closed, a totals row under the data, the example
rows of an untouched template, and, in a results workbook imported again,
rows an earlier run already bought or could not settle. Each such row gets
an outcome here, with the reason in its ``error`` column; the rest of the
pipeline never sees it, so it can neither be bought nor fail validation.

Every check looks at few rows or at one column in C: a sheet with nothing
to skip pays a column comparison or two, not a pass over every cell.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..examples import row_fingerprint
from ..models import RESULT_COLUMNS, ROW_COL, SHEET_COL, OrderSheet, Status
from ..outcomes import outcomes_frame
from .headers import EARLIER_PREFIX

EARLIER_STATUS, EARLIER_ORDER_ID, EARLIER_ERROR = (EARLIER_PREFIX + c for c in ("status", "provider_order_id", "error"))

SKIP_PREFIX = "skipped, "
"""Every skip reason starts ``skipped, <kind>:``; the Summary counts the skipped rows per kind."""
HIDDEN, CANCELLED, TOTALS, EXAMPLE, EARLIER = "hidden", "cancelled", "totals", "example", "earlier results"

STATUS_HEADERS = frozenset(
    {"状态", "订单状态", "交易状态", "付款状态", "退款状态"}
    | {"status", "orderstatus", "financialstatus", "paymentstatus"}
)
"""Headers of a column that says what became of the order (compared lower-case, without spaces or ``_``)."""
CANCELLED_VALUES = frozenset(
    {"已取消", "取消", "交易取消", "订单取消", "交易关闭", "已关闭", "关闭", "订单关闭"}
    | {"已退款", "退款成功", "全额退款", "已作废", "作废", "已撤销", "撤销"}
    | {"cancelled", "canceled", "cancel", "closed", "refunded", "voided", "void"}
)
"""Values of such a column that mean the order is not to be bought (compared lower-case, without spaces)."""
CANCELLED_AT_HEADERS = frozenset({"cancelledat", "canceledat", "取消时间"})
"""Headers of a column whose filled cell means the order was cancelled (Shopify's ``Cancelled at``)."""
TOTAL_LABELS = frozenset({"合计", "总计", "小计", "总和", "total", "totals", "subtotal", "grandtotal", "sum"})
"""A cell reading one of these (lower-case, without spaces or a trailing colon) marks a totals row."""
SETTLED_EARLIER = {
    str(Status.CREATED): Status.ALREADY_CREATED,
    str(Status.ALREADY_CREATED): Status.ALREADY_CREATED,
    str(Status.UNKNOWN): Status.UNKNOWN,
    str(Status.ALREADY_CREATED_ELSEWHERE): Status.ALREADY_CREATED_ELSEWHERE,
    str(Status.SKIPPED): Status.SKIPPED,
}
"""A results workbook's status -> the status its row keeps when the workbook is imported again."""
_SPACES = re.compile(r"[\s_\-]+")
_TOTAL_ITEM_CELLS = sorted(
    {""}
    | {
        f"{spelling}{colon}"
        for label in ("合计", "总计", "小计", "总和", "total", "totals", "subtotal", "sub total", "grand total", "sum")
        for spelling in (label, label.upper(), label.title(), label.capitalize())
        for colon in ("", ":", "：")
    }
)
"""The item_id cells a totals row may have: empty, or the label itself (a sheet whose first column is item_id)."""


def _folded(text: Any) -> str:
    return _SPACES.sub("", str(text)).lower().rstrip(":：")


@dataclass(frozen=True)
class Skip:
    """One skipped row: its row id, status and the reason (``skipped, <kind>: ...``)."""

    row_id: int
    status: Status
    kind: str
    message: str
    provider_order_id: str = ""


def find_skips(sheet: OrderSheet, *, include_hidden: bool = False) -> pd.DataFrame:
    """An outcome frame for the rows not to buy (empty when there are none), first reason found wins.

    ``include_hidden`` reads hidden rows as orders; the other rules still apply to them.
    """
    frame = sheet.frame
    found: dict[int, Skip] = {}
    for rule in (_earlier_results, _template_examples):
        _add(found, rule(sheet))
    if not include_hidden:
        _add(found, _hidden(sheet))
    _add(found, _whole_orders(frame, _cancelled(frame)))
    _add(found, _totals(sheet))
    return outcomes_frame(
        {
            "row_id": skip.row_id,
            "status": str(skip.status),
            "error": skip.message,
            "provider_order_id": skip.provider_order_id,
        }
        for skip in sorted(found.values(), key=lambda s: s.row_id)
    )


def skip_kind(message: str) -> str:
    """The kind of a skip reason (``hidden``, ``cancelled``...), or '' for any other message."""
    if not message.startswith(SKIP_PREFIX):
        return ""
    return message[len(SKIP_PREFIX) :].split(":", 1)[0]


def _add(found: dict[int, Skip], skips: Iterable[Skip]) -> None:
    for skip in skips:
        found.setdefault(skip.row_id, skip)


def _rows_in(frame: pd.DataFrame, marks: dict[str, Any]) -> list[int]:
    """Row ids of the rows listed per sheet in ``marks`` (sheet -> Excel row numbers)."""
    hits: list[int] = []
    for name, rows in marks.items():
        if not rows:
            continue
        mask = (frame[SHEET_COL].to_numpy() == name) & frame[ROW_COL].isin(list(rows)).to_numpy()
        hits.extend(int(i) for i in frame.index[mask])
    return hits


def _place(frame: pd.DataFrame, row_id: int) -> tuple[str, int]:
    """The sheet name and Excel row number of one row."""
    return str(frame.at[row_id, SHEET_COL]), int(str(frame.at[row_id, ROW_COL]))


def _hidden(sheet: OrderSheet) -> list[Skip]:
    message = (
        f"{SKIP_PREFIX}{HIDDEN}: the row is hidden (by a filter or by hand); show it, or import with --include-hidden"
    )
    return [Skip(row_id, Status.SKIPPED, HIDDEN, message) for row_id in _rows_in(sheet.frame, sheet.hidden_rows)]


def _cancelled(frame: pd.DataFrame) -> list[Skip]:
    skips: list[Skip] = []
    for column in frame.columns:
        if str(column) != EARLIER_STATUS and (str(column).startswith("_") or str(column) in RESULT_COLUMNS):
            continue
        header = "status" if column == EARLIER_STATUS else _folded(column)
        if header in STATUS_HEADERS:
            values = frame[column]
            candidates = values[values.astype(str).str.len().between(1, 30)]
            hits = candidates[candidates.map(_folded).isin(CANCELLED_VALUES)]
            reason = "the order's {shown} column says '{value}'"
        elif header in CANCELLED_AT_HEADERS:
            hits = frame[column][frame[column].astype(str).str.strip() != ""]
            reason = "the order has a {shown} of '{value}'"
        else:
            continue
        for row_id, value in zip(hits.index.tolist(), hits.tolist(), strict=True):
            shown = "status" if column == EARLIER_STATUS else column
            detail = reason.format(shown=shown, value=str(value).strip())
            message = f"{SKIP_PREFIX}{CANCELLED}: {detail}; not bought"
            skips.append(Skip(int(row_id), Status.SKIPPED, CANCELLED, message))
    return skips


def _whole_orders(frame: pd.DataFrame, skips: list[Skip]) -> list[Skip]:
    """The skipped rows and every other row of their orders (same provider and order_ref).

    A cancelled order often says so on its first row only; its other lines
    must not be bought as an order of their own.
    """
    if not skips or "order_ref" not in frame:
        return skips
    provider = frame["provider"].astype(str) if "provider" in frame else pd.Series("", index=frame.index)
    keys = provider.str.strip() + "\x1f" + frame["order_ref"].astype(str).str.strip()
    said = {skip.row_id: skip for skip in skips}
    reason = {keys[row_id]: skip for row_id, skip in said.items() if str(frame.at[row_id, "order_ref"]).strip()}
    siblings = keys[keys.isin(list(reason)) & ~keys.index.isin(list(said))]
    for row_id, key in zip(siblings.index.tolist(), siblings.tolist(), strict=True):
        first = reason[key]
        where = _place(frame, first.row_id)
        message = f"{SKIP_PREFIX}{first.kind}: row {where[1]} of this order says so ({first.message.split(': ', 1)[1]})"
        said[int(row_id)] = Skip(int(row_id), first.status, first.kind, message)
    return list(said.values())


def _totals(sheet: OrderSheet) -> list[Skip]:
    """Rows labelled 合计 / Total... (with no item of their own), and rows holding only formulas."""
    frame = sheet.frame
    columns = [c for c in frame.columns if not str(c).startswith("_") and str(c) not in RESULT_COLUMNS]
    # Only rows with no item of their own are looked at: a hashed lookup in C, no Python step per row.
    candidates = frame.index[frame["item_id"].isin(_TOTAL_ITEM_CELLS)] if "item_id" in frame else frame.index[:0]
    skips: list[Skip] = []
    labelled = set()
    for row_id in candidates.tolist():
        label = next((str(v).strip() for v in frame.loc[row_id, columns] if _folded(v) in TOTAL_LABELS), "")
        if label:
            labelled.add(int(row_id))
            message = f"{SKIP_PREFIX}{TOTALS}: a totals row ('{label}'), not an order"
            skips.append(Skip(int(row_id), Status.SKIPPED, TOTALS, message))
    for row_id in _rows_in(frame, sheet.formula_rows):
        if row_id in labelled:
            continue
        where = _place(frame, row_id)
        filled = sum(1 for v in frame.loc[row_id, columns] if str(v).strip())
        if 0 < filled <= sheet.formula_rows[where[0]].get(where[1], 0):
            message = f"{SKIP_PREFIX}{TOTALS}: every filled cell of this row is a formula (a totals row), not an order"
            skips.append(Skip(row_id, Status.SKIPPED, TOTALS, message))
    return skips


def _template_examples(sheet: OrderSheet) -> list[Skip]:
    """Rows a template marked as its example that still hold exactly what the template wrote."""
    frame = sheet.frame
    columns = [c for c in frame.columns if not str(c).startswith("_") and str(c) not in RESULT_COLUMNS]
    skips: list[Skip] = []
    for row_id in _rows_in(frame, sheet.example_rows):
        where = _place(frame, row_id)
        cells = {str(c): str(v) for c, v in frame.loc[row_id, columns].items()}
        if row_fingerprint(cells) == sheet.example_rows[where[0]][where[1]]:
            message = (
                f"{SKIP_PREFIX}{EXAMPLE}: the template's example row, unchanged; "
                "type your own order over it (an edited example row is bought)"
            )
            skips.append(Skip(row_id, Status.SKIPPED, EXAMPLE, message))
    return skips


def _earlier_results(sheet: OrderSheet) -> list[Skip]:
    """In a results workbook imported again: rows its run bought, could not settle, or skipped."""
    frame = sheet.frame
    if EARLIER_STATUS not in frame or EARLIER_ORDER_ID not in frame:
        return []
    statuses = frame[EARLIER_STATUS].astype(str).str.strip()
    settled = statuses[statuses.isin(list(SETTLED_EARLIER))]
    skips: list[Skip] = []
    for row_id, status in zip(settled.index.tolist(), settled.tolist(), strict=True):
        order_id = str(frame.at[row_id, EARLIER_ORDER_ID]).strip()
        earlier = str(frame.at[row_id, EARLIER_ERROR]).strip() if EARLIER_ERROR in frame else ""
        message = (
            f"{SKIP_PREFIX}{EARLIER}: this results workbook already says {status}"
            + (f" (provider order id {order_id})" if order_id else "")
            + (f" ({earlier})" if earlier and status != str(Status.SKIPPED) else "")
            + "; not sent again"
        )
        if status == str(Status.SKIPPED) and earlier:
            message = f"{SKIP_PREFIX}{EARLIER}: the run that wrote these results skipped it ({earlier})"
        skips.append(Skip(int(row_id), SETTLED_EARLIER[status], EARLIER, message, order_id))
    return skips


def partly_hidden_orders(frame: pd.DataFrame, skipped: pd.DataFrame) -> pd.Series:
    """A warning for each row read whose order has lines skipped as hidden (row id -> text; others absent).

    The visible lines are bought as the order, as the user sees it; the
    warning says which of its lines were left out, so a half order is never
    bought in silence.
    """
    hidden = skipped.index[skipped["error"].astype(str).str.startswith(f"{SKIP_PREFIX}{HIDDEN}:")]
    if not len(hidden) or "order_ref" not in frame:
        return pd.Series(dtype=object)
    provider = frame["provider"].astype(str) if "provider" in frame else pd.Series("", index=frame.index)
    keys = provider.str.strip() + "\x1f" + frame["order_ref"].astype(str).str.strip()
    left_out: dict[str, list[int]] = {}
    for row_id in hidden.tolist():
        if str(frame.at[row_id, "order_ref"]).strip():
            left_out.setdefault(keys[row_id], []).append(_place(frame, row_id)[1])
    read = keys[~keys.index.isin(skipped.index) & keys.isin(list(left_out))]
    return pd.Series(
        {
            int(row_id): "lines of this order on hidden rows "
            + ", ".join(map(str, sorted(left_out[key])))
            + " were skipped; the visible lines were read as the order (--include-hidden reads them all)"
            for row_id, key in zip(read.index.tolist(), read.tolist(), strict=True)
        },
        dtype=object,
    )
