"""Read the ``order_date`` column to ISO dates, and say what is wrong with the cells that are not dates.

The frame the checks see (and grouping uses) gets ``2026-11-24`` for every
date read, so two rows of an order typed ``2026/11/24`` and ``2026年11月24日``
agree; the user's cells stay as typed, and the results workbook shows the
date read in its ``order_date_iso`` column.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from ..columns import text_cells
from ..models import CellError
from .date_text import EXAMPLE, DateCell, Order, read_column

Locate = Callable[[list[int]], tuple[list[str], list[int]]]
DATE_COLUMN = "order_date"
ORDER_WORDS = {"dmy": "day first (like 24/11/2026)", "mdy": "month first (like 11/24/2026)"}


def read_dates(checked: pd.DataFrame, locate: Locate, date_order: str = "auto") -> tuple[list[CellError], pd.Series]:
    """Put ISO dates into ``checked`` (in place); return the problems and, per row id, the ISO date read."""
    if DATE_COLUMN not in checked.columns:
        return [], pd.Series(dtype=object)
    values = checked[DATE_COLUMN].tolist()
    cells, order = read_column(values, forced=date_order)
    iso = [cell.value.isoformat() if cell.value is not None else "" for cell in cells]
    checked[DATE_COLUMN] = text_cells([i or v for i, v in zip(iso, values, strict=True)], checked.index)
    bad = [n for n, cell in enumerate(cells) if cell.problem or cell.against]
    found: list[CellError] = []
    if bad:
        row_ids = [int(checked.index[n]) for n in bad]
        sheets, rows = locate(row_ids)
        for row_id, sheet, row, n in zip(row_ids, sheets, rows, bad, strict=True):
            message, check = _message(values[n], cells[n], order, date_order != "auto")
            found.append(CellError(row_id, sheet, row, DATE_COLUMN, values[n], message, check=check))
    dates = pd.Series(iso, index=checked.index, dtype=object)
    return found, dates[[bool(i) for i in iso]]


def _message(value: str, cell: DateCell, order: Order | None, forced: bool) -> tuple[str, str]:
    if cell.problem:
        return (
            f"order_date '{value}' {cell.problem}; write the date like {EXAMPLE} "
            "(or set [validation] date_order when it is written day/month or month/day)"
            if "day/month" in cell.problem
            else f"order_date '{value}' {cell.problem}; write the date like {EXAMPLE}",
            f"{DATE_COLUMN}.date",
        )
    mine = ORDER_WORDS[cell.order or "dmy"]
    if forced and order is not None:
        theirs = f"[validation] date_order is {ORDER_WORDS[order]}"
    elif order is not None:
        theirs = f"most dates of this column are {ORDER_WORDS[order]}"
    else:
        other = "mdy" if cell.order == "dmy" else "dmy"
        theirs = f"as many dates of this column are {ORDER_WORDS[other]}"
    return (
        f"order_date '{value}' is {mine}, but {theirs}; write every date of the column the same way, "
        f"best like {EXAMPLE}",
        f"{DATE_COLUMN}.date_order",
    )
