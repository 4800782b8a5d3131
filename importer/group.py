"""Turn valid rows into orders: one OrderDraft per provider and order reference.

An order is sent whole or not at all. If any of its rows is wrong (found by
validation, or here: an order-level value that disagrees between rows, a line
number used twice) the order is held back, so a partly-filled order never
reaches a provider. The work is one plain pass over column lists; per-group
DataFrame operations would cost seconds on a large sheet.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from .columns import paused_gc, text_list
from .models import ORDER_LEVEL_COLUMNS, ROW_COL, SHEET_COL, CellError, OrderDraft, OrderLine, Receiver, Status
from .outcomes import errors_frame, outcomes_frame
from .validate.check import Report, text
from .validate.schema import item_id_from_link, shown

OrderKey = tuple[str, str]
_MAX_ROWS_NAMED = 3
# Receiver field for each order-level column.
_RECEIVER_FIELDS: dict[str, str] = {
    "receiver_name": "name",
    "receiver_phone": "phone",
    "receiver_mobile": "mobile",
    "country": "country",
    "province": "province",
    "city": "city",
    "district": "district",
    "address": "address",
    "zip": "zip",
    "tax_id": "tax_id",
}
_LINE_COLUMNS = ("provider", "order_ref", "line_no", "item_id", "sku_id", "quantity", "unit_price", "currency", "title")


@dataclass
class Grouping:
    """Orders ready to send, plus the rows grouping refused.

    ``errors`` lists the problems found while grouping (columns of
    :data:`importer.outcomes.ERROR_COLUMNS`); ``outcomes`` has an INVALID row
    for each row with such a problem and a HELD row for every other row of an
    order that was held back. ``row_numbers`` maps each grouped row id to the
    row number the user sees.
    """

    orders: list[OrderDraft]
    errors: pd.DataFrame
    outcomes: pd.DataFrame
    row_numbers: dict[int, int] = field(default_factory=dict, repr=False)

    @property
    def frame(self) -> pd.DataFrame:
        """One row per order, for a quick look in a notebook."""
        columns = ["provider", "order_ref", "sheet", "first_row", "lines", "receiver_name", "quantity"]
        return pd.DataFrame(
            [
                (
                    order.provider,
                    order.order_ref,
                    order.sheet,
                    self.row_numbers.get(order.lines[0].row_id, 0),
                    len(order.lines),
                    order.receiver.name,
                    sum(line.quantity for line in order.lines),
                )
                for order in self.orders
            ],
            columns=columns,
        )


@dataclass
class _Rows:
    """The valid rows as plain lists, one per column, in sheet order.

    ``cells`` has every column grouping reads; a column the sheet lacks is all
    blank there and missing from ``present``.
    """

    ids: list[int]
    rows: list[int]
    sheets: list[str]
    cells: dict[str, list[str]]
    present: frozenset[str]
    typed: dict[str, list[Any]] = field(default_factory=dict)
    """The line values an OrderLine holds as other types (ids from links, whole quantities, prices), by column."""


@paused_gc
def group(report: Report, *, extra_columns: Collection[str] = ()) -> Grouping:
    """Build one OrderDraft per (provider, order_ref) from the report's valid rows.

    ``report.valid_cells`` are taken as :func:`importer.validate.check.validate`
    leaves them: canonical cells as text without outer spaces. ``extra_columns`` are
    provider-specific columns to carry along: each line gets their values, each
    order the first non-blank value of each.
    """
    extras = sorted(column for column in set(extra_columns) if column in report.sheet.frame.columns)
    rows = _columns(report, extras)
    members: dict[OrderKey, list[int]] = {}
    for pos, key in enumerate(zip(rows.cells["provider"], rows.cells["order_ref"], strict=True)):
        members.setdefault(key, []).append(pos)
    by_key, by_ref = _rows_holding(report) if members else ({}, {})
    orders: list[OrderDraft] = []
    errors: list[CellError] = []
    refused: list[dict[str, Any]] = []
    for key, positions in members.items():
        order_level, problems = _order_level(rows, positions)
        problems += _duplicate_line_numbers(rows, key, positions)
        if problems or key in by_key or key[1] in by_ref:
            held_by = {*by_key.get(key, ()), *by_ref.get(key[1], ()), *(error.row for error in problems)}
            errors.extend(problems)
            refused.extend(_refusals(rows, key, positions, problems, sorted(held_by)))
            continue
        orders.append(_order(rows, key, positions, order_level, extras))
    row_numbers = dict(zip(rows.ids, rows.rows, strict=True))
    for refusal in refused:
        del row_numbers[refusal["row_id"]]
    return Grouping(orders, errors_frame(errors), outcomes_frame(refused), row_numbers)


def _columns(report: Report, extras: list[str]) -> _Rows:
    """Take the columns grouping reads, for the valid rows, as lists of text; extra columns are stripped here."""
    cells_checked = report.valid_cells
    frame = report.sheet.frame
    own = [column for column in (SHEET_COL, ROW_COL, *extras) if column in frame.columns]
    rows = frame.loc[cells_checked.index, own]
    blank = [""] * len(rows)
    cells: dict[str, list[str]] = {}
    for column in dict.fromkeys([*_LINE_COLUMNS, "line_remark", *ORDER_LEVEL_COLUMNS, *extras]):
        if column in cells_checked.columns:
            cells[column] = _text_list(cells_checked[column])
        elif column in rows.columns:
            cells[column] = text(rows[column]).tolist()
        else:
            cells[column] = blank
    sheets = [str(s) for s in rows[SHEET_COL].tolist()] if SHEET_COL in rows.columns else blank
    numbers = [int(r) for r in rows[ROW_COL].tolist()] if ROW_COL in rows.columns else [0] * len(rows)
    ids = [int(i) for i in rows.index.tolist()]
    typed = {
        column: _converted(cells_checked[column] if column in cells_checked.columns else None, cells[column], convert)
        for column, convert in _LINE_VALUES.items()
    }
    return _Rows(ids, numbers, sheets, cells, frozenset(frame.columns), typed)


def _text_list(cells: pd.Series[Any]) -> list[str]:
    return text_list(cells) if isinstance(cells.dtype, pd.CategoricalDtype) else text(cells).tolist()


def _converted(checked: pd.Series[Any] | None, cells: list[str], convert: Callable[[str], Any]) -> list[Any]:
    """``convert`` applied to a column's cells, once per distinct value (a column holds a few thousand at most).

    A checked column is categorical: the values its valid rows use are
    converted and taken by code. Any other column is converted through a
    dict of the values seen.
    """
    if checked is not None and isinstance(checked.dtype, pd.CategoricalDtype):
        codes = checked.cat.codes.to_numpy()
        values = np.append(checked.cat.categories.to_numpy(object), "")  # code -1 (missing) takes the last
        converted = np.empty(len(values), dtype=object)
        for code in np.unique(codes).tolist():
            converted[code] = convert(values[code])
        listed: list[Any] = converted.take(codes).tolist()
        return listed
    seen: dict[str, Any] = {}
    return [seen[cell] if cell in seen else seen.setdefault(cell, convert(cell)) for cell in cells]


def _rows_holding(report: Report) -> tuple[dict[OrderKey, list[int]], dict[str, list[int]]]:
    """Row numbers of invalid rows, by the order they belong to.

    The first map is keyed by (provider, order_ref). A row whose provider is
    empty or wrong cannot say which provider's order it belongs to, so the
    second map, keyed by order_ref alone, holds every order with that reference.
    """
    invalid = report.invalid_row_ids
    by_key: dict[OrderKey, list[int]] = {}
    by_ref: dict[str, list[int]] = {}
    if not invalid:
        return by_key, by_ref
    frame = report.sheet.frame.loc[invalid]
    blank = pd.Series("", index=frame.index)
    providers = text(frame["provider"] if "provider" in frame.columns else blank).tolist()
    refs = text(frame["order_ref"] if "order_ref" in frame.columns else blank).tolist()
    numbers = [int(r) for r in frame[ROW_COL].tolist()]
    errors = report.errors
    wrong_provider = set(errors.loc[errors["column"] == "provider", "row_id"].tolist())
    for row_id, provider, ref, number in zip(invalid, providers, refs, numbers, strict=True):
        if not ref:
            continue
        by_key.setdefault((provider, ref), []).append(number)
        if not provider or row_id in wrong_provider:
            by_ref.setdefault(ref, []).append(number)
    return by_key, by_ref


def _order_level(rows: _Rows, positions: list[int]) -> tuple[dict[str, str], list[CellError]]:
    """Find each order-level value (its first non-blank cell) and the later rows that disagree with it."""
    if len(positions) == 1:  # an order of one row: nothing to disagree with
        pos = positions[0]
        return {column: rows.cells[column][pos] for column in ORDER_LEVEL_COLUMNS}, []
    values: dict[str, str] = dict.fromkeys(ORDER_LEVEL_COLUMNS, "")
    errors: list[CellError] = []
    for column in ORDER_LEVEL_COLUMNS:
        if column not in rows.present:
            continue
        cells = rows.cells[column]
        given = -1
        for pos in positions:
            value = cells[pos]
            if not value:
                continue
            if given < 0:
                given = pos
                values[column] = value
            elif value != cells[given]:
                errors.append(_conflict(rows, column, pos, given, first=given == positions[0]))
    return values, errors


def _conflict(rows: _Rows, column: str, pos: int, given: int, *, first: bool) -> CellError:
    where = "the order's first row" if first else "an earlier row of the order"
    value = rows.cells[column][pos]
    message = (
        f"{column} differs from {where} (row {rows.rows[given]}: '{shown(rows.cells[column][given])}'); "
        "leave it blank or make it the same"
    )
    return CellError(rows.ids[pos], rows.sheets[pos], rows.rows[pos], column, value, message)


def _duplicate_line_numbers(rows: _Rows, key: OrderKey, positions: list[int]) -> list[CellError]:
    """Rows that repeat a line_no given earlier in the same order."""
    if "line_no" not in rows.present:
        return []
    values = rows.cells["line_no"]
    errors: list[CellError] = []
    seen: dict[int, int] = {}
    for pos in positions:
        value = values[pos]
        if not value:
            continue
        number = _whole(value)
        if number not in seen:
            seen[number] = pos
            continue
        message = (
            f"line_no {value} is used twice in order {key[1]} (first on row {rows.rows[seen[number]]}); "
            "give each line of an order its own number"
        )
        errors.append(CellError(rows.ids[pos], rows.sheets[pos], rows.rows[pos], "line_no", value, message))
    return errors


def _refusals(
    rows: _Rows, key: OrderKey, positions: list[int], problems: list[CellError], held_by: list[int]
) -> list[dict[str, Any]]:
    """Outcomes for a held order: INVALID for its rows with a problem found here, HELD for the rest."""
    own: dict[int, list[CellError]] = {}
    for problem in problems:
        own.setdefault(problem.row_id, []).append(problem)
    note = _held_message(key[1], held_by)
    outcomes: list[dict[str, Any]] = []
    for pos in positions:
        row_id = rows.ids[pos]
        found = own.get(row_id)
        if found:
            message = "; ".join(problem.message for problem in found)
            outcomes.append(
                {"row_id": row_id, "status": str(Status.INVALID), "error": message, "error_column": found[0].column}
            )
        else:
            outcomes.append({"row_id": row_id, "status": str(Status.HELD), "error": note, "error_column": ""})
    return outcomes


def _held_message(order_ref: str, rows: list[int]) -> str:
    if len(rows) == 1:
        return f"held: order {order_ref} has an error on row {rows[0]}"
    named = ", ".join(str(row) for row in rows[:_MAX_ROWS_NAMED])
    more = ", …" if len(rows) > _MAX_ROWS_NAMED else ""
    return f"held: order {order_ref} has errors on rows {named}{more}"


def _order(
    rows: _Rows, key: OrderKey, positions: list[int], order_level: dict[str, str], extras: list[str]
) -> OrderDraft:
    receiver = Receiver(**{name: order_level[column] for column, name in _RECEIVER_FIELDS.items()})
    return OrderDraft(
        provider=key[0],
        order_ref=key[1],
        receiver=receiver,
        lines=_lines(rows, positions, extras),
        remark=order_level["order_remark"],
        sheet=rows.sheets[positions[0]],
        extra={column: _first_filled(rows.cells[column], positions) for column in extras},
    )


def _lines(rows: _Rows, positions: list[int], extras: list[str]) -> tuple[OrderLine, ...]:
    cells, typed = rows.cells, rows.typed
    item_ids, sku_ids, quantities = typed["item_id"], cells["sku_id"], typed["quantity"]
    prices, currencies, titles, remarks = typed["unit_price"], typed["currency"], cells["title"], cells["line_remark"]
    if "line_no" in rows.present:
        numbers = _line_numbers(cells["line_no"], positions)
    else:  # no line_no column: the lines are numbered in sheet order
        numbers = [str(n) for n in range(1, len(positions) + 1)]
    return tuple(
        OrderLine(
            row_id=rows.ids[pos],
            line_no=number,
            item_id=item_ids[pos],
            sku_id=sku_ids[pos],
            quantity=quantities[pos],
            unit_price=prices[pos],
            currency=currencies[pos],
            title=titles[pos],
            remark=remarks[pos],
            extra={column: cells[column][pos] for column in extras} if extras else {},
        )
        for pos, number in zip(positions, numbers, strict=True)
    )


def _line_numbers(cells: list[str], positions: list[int]) -> list[str]:
    """Use the sheet's line_no where given; blank ones get the lowest numbers the order does not use yet."""
    given = [_without_zero_decimals(cells[pos]) for pos in positions]
    used = {int(value) for value in given if value}
    numbers: list[str] = []
    counter = 0
    for value in given:
        if value:
            numbers.append(value)
            continue
        counter += 1
        while counter in used:
            counter += 1
        numbers.append(str(counter))
    return numbers


def _first_filled(cells: list[str], positions: list[int]) -> str:
    for pos in positions:
        if cells[pos]:
            return cells[pos]
    return ""


def _item_id(value: str) -> str:
    """Turn a product link into its bare id; keep an id (or anything else) exactly as it is."""
    if value.isascii() and value.isdigit():
        return value
    return item_id_from_link(value) or value


def _without_zero_decimals(value: str) -> str:
    """Drop the ".0"/".00" Excel shows on whole numbers; a validated whole number is otherwise kept as typed."""
    if "." not in value:
        return value
    head, _, tail = value.partition(".")
    return head if tail.strip("0") == "" else value


def _whole(value: str) -> int:
    return int(_without_zero_decimals(value))


def _price(value: str) -> Decimal | None:
    return Decimal(value) if value else None


_LINE_VALUES: dict[str, Callable[[str], Any]] = {
    "item_id": _item_id,
    "quantity": _whole,
    "unit_price": _price,
    "currency": str.upper,
}
"""How a line's typed values are made from its checked text."""
