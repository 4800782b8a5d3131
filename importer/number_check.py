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
from operator import attrgetter

import pandas as pd

from .models import CellError
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
    currency says otherwise (``unit_price.currency_mark``).
    """
    found: list[CellError] = []
    for column, rule in NUMBER_COLUMNS.items():
        if column not in checked.columns:
            continue
        values = checked[column].tolist()
        reading = read_column(values, forced=decimal_separator, money=column == "unit_price")
        pattern = re.compile(rule)
        plain = {v: pattern.fullmatch(v) is not None for v in set(map(attrgetter("value"), reading.cells))}
        readings = [
            cell.value if plain[cell.value] else value for value, cell in zip(values, reading.cells, strict=True)
        ]
        checked[column] = pd.Series(readings, index=checked.index, dtype=checked[column].dtype)
        found += _mixed(checked.index.tolist(), values, reading, column, locate)
        if column == "quantity":
            found += _thousands_or_decimals(checked.index.tolist(), values, readings, reading, locate)
        if column == "unit_price" and "currency" in checked.columns:
            found += _currency_marks(checked, values, [cell.mark for cell in reading.cells], locate)
    return found


def _mixed(ids: list[int], values: list[str], reading: ColumnReading, column: str, locate: Locate) -> list[CellError]:
    positions = [n for n, cell in enumerate(reading.cells) if cell.against is not None]
    return [
        CellError(
            row_id,
            sheet,
            row,
            column,
            values[n],
            mixed_message(column, values[n], reading),
            check=f"{column}.decimal_style",
        )
        for row_id, sheet, row, n in _places(ids, positions, locate)
    ]


def _thousands_or_decimals(
    ids: list[int], values: list[str], readings: list[str], reading: ColumnReading, locate: Locate
) -> list[CellError]:
    """A quantity like ``1.000`` that the column's convention reads as a fraction: say so, and what to write.

    The cell is an error either way (not a whole number), but the plain rule
    would not tell a buyer who meant a thousand why ``1.000`` is refused.
    """
    either = {v for v in set(values) if style_of(v) == "either"}  # each distinct value once
    positions = [n for n, (v, r) in enumerate(zip(values, readings, strict=True)) if r == v and v in either]
    mark = reading.convention
    problems = []
    for row_id, sheet, row, n in _places(ids, positions, locate):
        whole, _, _ = values[n].partition(mark)
        digits = values[n].replace(".", "").replace(",", "")
        message = (
            f"quantity '{values[n]}' is read with '{mark}' as the decimal mark (as this column's numbers are), "
            f"so it is not a whole number; write {digits} or {whole}, without a separator"
        )
        problems.append(CellError(row_id, sheet, row, "quantity", values[n], message, check="quantity.whole_number"))
    return problems


def _currency_marks(checked: pd.DataFrame, typed: list[str], marks: list[str], locate: Locate) -> list[CellError]:
    """A price written in yuan on a row whose currency is another one: which of the two is meant is unknowable."""
    currencies = checked["currency"].tolist()
    positions = [
        n for n, (m, c) in enumerate(zip(marks, currencies, strict=True)) if m and c.upper() not in YUAN_CURRENCIES
    ]
    return [
        CellError(
            row_id,
            sheet,
            row,
            "unit_price",
            typed[n],
            f"unit_price '{typed[n]}' is in yuan ({marks[n]}) but currency is {currencies[n]}; "
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
