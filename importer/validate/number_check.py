"""Read the number columns of a sheet the way people type them, before the schema judges them.

``unit_price`` and ``quantity`` cells are replaced, in the frame the checks
see, by their canonical reading (``¥1,234.50`` -> ``1234.50``), so the schema's
rules (at most 2 decimals, a whole number) judge the number the user meant and
the order uses it. A cell is replaced only when its reading passes its rule:
otherwise the rule's message quotes the cell as typed. The user's frame, and
so the results workbook, keeps every cell exactly as typed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..columns import distinct_values, text_cells
from ..models import CellError
from .number_text import ColumnReading, mixed_message, read_column, style_of
from .schema import PRICE, WHOLE_NUMBER

Locate = Callable[[list[int]], tuple[list[str], list[int]]]

# Column -> the rule its canonical reading must pass to be used.
NUMBER_COLUMNS: dict[str, str] = {"unit_price": PRICE, "quantity": WHOLE_NUMBER}
# A currency cell that agrees with a yuan mark in the price.
YUAN_CURRENCIES = frozenset({"", "CNY", "RMB", "¥", "元", "人民币"})


def read_numbers(checked: pd.DataFrame, locate: Locate, decimal_separator: str = "auto") -> list[CellError]:
    """Put the canonical readings into ``checked`` (in place) and return the problems reading found.

    The problems: a cell whose decimal mark disagrees with its column's
    (``unit_price.decimal_style``), and a price in yuan (``¥12``) on a row whose
    currency says otherwise (``unit_price.currency_mark``). Each distinct
    value is read once; the cells share its reading.
    """
    found: list[CellError] = []
    ids = checked.index.tolist()
    for column, rule in NUMBER_COLUMNS.items():
        if column not in checked.columns:
            continue
        cells = _Cells(*distinct_values(checked[column]))
        counts = np.bincount(cells.codes, minlength=len(cells.values)).tolist()
        reading = read_column(cells.values, forced=decimal_separator, money=column == "unit_price", counts=counts)
        pattern = re.compile(rule)
        readings = [
            cell.value if pattern.fullmatch(cell.value) else value
            for value, cell in zip(cells.values, reading.cells, strict=True)
        ]
        checked[column] = text_cells(readings, checked.index, cells.codes)
        found += _mixed(ids, cells, reading, column, locate)
        if column == "quantity":
            found += _thousands_or_decimals(ids, cells, readings, reading, locate)
        if column == "unit_price" and "currency" in checked.columns:
            found += _currency_marks(checked, cells, [cell.mark for cell in reading.cells], locate)
    return found


@dataclass(frozen=True)
class _Cells:
    """A column as its distinct values and, per cell, the position of its value (see :func:`distinct_values`)."""

    codes: np.ndarray[Any, np.dtype[np.intp]]
    values: list[str]

    def where(self, flags: list[bool]) -> list[int]:
        """Positions of the cells whose value is flagged (``flags`` has one entry per distinct value)."""
        if not any(flags):
            return []
        return np.flatnonzero(np.array(flags, dtype=bool)[self.codes]).tolist()

    def at(self, position: int) -> str:
        return str(self.values[self.codes[position]])


def _mixed(ids: list[int], cells: _Cells, reading: ColumnReading, column: str, locate: Locate) -> list[CellError]:
    positions = cells.where([cell.against is not None for cell in reading.cells])
    return [
        CellError(
            row_id,
            sheet,
            row,
            column,
            cells.at(n),
            mixed_message(column, cells.at(n), reading),
            check=f"{column}.decimal_style",
        )
        for row_id, sheet, row, n in _places(ids, positions, locate)
    ]


def _thousands_or_decimals(
    ids: list[int], cells: _Cells, readings: list[str], reading: ColumnReading, locate: Locate
) -> list[CellError]:
    """A quantity like ``1.000`` that the column's convention reads as a fraction: say so, and what to write.

    The cell is an error either way (not a whole number), but the plain rule
    would not tell a buyer who meant a thousand why ``1.000`` is refused.
    """
    flags = [r == v and style_of(v) == "either" for v, r in zip(cells.values, readings, strict=True)]
    mark = reading.convention
    problems = []
    for row_id, sheet, row, n in _places(ids, cells.where(flags), locate):
        value = cells.at(n)
        whole, _, _ = value.partition(mark)
        digits = value.replace(".", "").replace(",", "")
        message = (
            f"quantity '{value}' is read with '{mark}' as the decimal mark (as this column's numbers are), "
            f"so it is not a whole number; write {digits} or {whole}, without a separator"
        )
        problems.append(CellError(row_id, sheet, row, "quantity", value, message, check="quantity.whole_number"))
    return problems


def _currency_marks(checked: pd.DataFrame, prices: _Cells, marks: list[str], locate: Locate) -> list[CellError]:
    """A price written in yuan on a row whose currency is another one: which of the two is meant is unknowable."""
    if not any(marks):
        return []
    currencies = _Cells(*distinct_values(checked["currency"]))
    marked = np.array([bool(m) for m in marks], dtype=bool)[prices.codes]
    other = np.array([c.upper() not in YUAN_CURRENCIES for c in currencies.values], dtype=bool)[currencies.codes]
    positions = np.flatnonzero(marked & other).tolist()
    return [
        CellError(
            row_id,
            sheet,
            row,
            "unit_price",
            prices.at(n),
            f"unit_price '{prices.at(n)}' is in yuan ({marks[prices.codes[n]]}) but currency is {currencies.at(n)}; "
            "remove the yuan mark or set currency to CNY",
            check="unit_price.currency_mark",
        )
        for row_id, sheet, row, n in _places(checked.index.tolist(), positions, locate)
    ]


def _places(ids: list[int], positions: list[int], locate: Locate) -> list[tuple[int, str, int, int]]:
    """(row id, sheet, Excel row, position) of each position in a column, looked up in one call."""
    if not positions:
        return []
    row_ids = [int(ids[n]) for n in positions]
    sheets, rows = locate(row_ids)
    return list(zip(row_ids, sheets, rows, positions, strict=True))
