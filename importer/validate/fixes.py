"""Fix suggestions for what people and Excel commonly get wrong, and ``--fix`` to apply the safe ones.

Each suggestion names the cell, the value, the fixed value and why. Nothing
is changed silently: suggestions are listed, and only ``--fix`` applies them,
to a copy of the sheet (``orders.fixed.xlsx`` / ``.csv``), which the run then
uses. The safe fixes:

- full-width digits, letters and spaces in id, number and code cells → normal ones;
- ``+86 138-0013-8000`` → ``13800138000`` for a Chinese mobile;
- a province written without 省/市/自治区 → its official name (from ``rules/cn.toml``);
- a currency written ``RMB``, ``¥``, ``元`` or ``人民币`` → ``CNY``;
- a product link in ``item_id`` → the product id;
- a price or quantity written ``¥12.50``, ``12.5元``, ``1,234.50``, ``1.234,50`` (in a European column) or
  ``1,000`` → its plain spelling ``12.50`` / ``1234.50`` / ``1000``. Validation already reads these as
  the number meant (:mod:`importer.validate.number_text`), so this only tidies the copy; a cell whose decimal
  mark disagrees with its column's, or whose yuan mark disagrees with its currency, gets no fix,
  because which of the two is right is the user's call.
"""

from __future__ import annotations

import re
import shutil
import tomllib
import unicodedata
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..columns import all_text, distinct_values
from ..csvsafe import escape
from ..models import ROW_COL, SHEET_COL, OrderSheet
from ..read.headers import EARLIER_PREFIX
from ..read.mappings import sku_id_from_link
from .schema import item_id_from_link

RULES = Path(__file__).parent / "rules"
WIDTH_COLUMNS = ("order_ref", "line_no", "item_id", "sku_id", "quantity", "unit_price", "receiver_phone",
                 "receiver_mobile", "zip")  # fmt: skip
CURRENCY_WORDS = {"RMB": "CNY", "¥": "CNY", "￥": "CNY", "元": "CNY", "人民币": "CNY", "CNY": "CNY"}
_MOBILE = re.compile(r"^[\s(]*(?:\+?86)?[\s\-()]*((?:1[3-9]\d)[\s\-]?\d{4}[\s\-]?\d{4})$")
_PLAIN_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]{1,2})?")


@dataclass(frozen=True)
class Fix:
    """One suggested change to one cell."""

    row_id: int
    sheet: str
    row: int
    column: str
    old: str
    new: str
    reason: str

    def describe(self) -> str:
        return f"{self.sheet} row {self.row} {self.column}: '{self.old}' -> '{self.new}' ({self.reason})"


@cache
def china_rules() -> dict[str, Any]:
    """The mainland rule pack (``rules/cn.toml``)."""
    with (RULES / "cn.toml").open("rb") as handle:
        return tomllib.load(handle)


def suggest(
    sheet: OrderSheet, decimal_separator: str = "auto", only: Collection[tuple[int, str]] | None = None
) -> list[Fix]:
    """Every safe fix for the sheet's cells, in sheet order; with ``only``, for those (row id, column) cells.

    ``only`` is how validation asks for the fixes of the cells it found wrong,
    without looking for fixes in every cell of a large sheet. A number column
    is still read whole, since the whole column decides its decimal mark.
    """
    frame = sheet.frame
    wanted = None if only is None else {(int(row_id), str(column)) for row_id, column in only}
    fixes: list[Fix] = []
    for column, rule in _rules():
        if column not in frame.columns:
            continue
        rows = frame if wanted is None else frame.iloc[list(_positions(frame.index, column, wanted))]
        if rows.empty:
            continue
        fixes += _cell_fixes(rows, column, rule)
    fixes += _number_fixes(frame, decimal_separator, wanted)
    return _merge_per_cell(fixes)


def _cell_fixes(frame: pd.DataFrame, column: str, rule: Callable[[str], tuple[str, str] | None]) -> list[Fix]:
    """The fixes ``rule`` makes in one column of ``frame``."""
    cells = frame[column].tolist()
    if not all_text(cells):
        cells = [_cell(v) for v in cells]
    changed = _changes(rule, cells)
    if not changed:
        return []
    hits = [n for n, value in enumerate(cells) if value in changed]
    places = frame.iloc[hits][[SHEET_COL, ROW_COL]]
    fixes: list[Fix] = []
    for n, sheet_name, row in zip(hits, places[SHEET_COL], places[ROW_COL], strict=True):
        value = cells[n]
        new, reason = changed[value]
        fixes.append(Fix(int(frame.index[n]), str(sheet_name), int(row), column, value, new, reason))
    return fixes


def _changes(rule: Callable[[str], tuple[str, str] | None], cells: list[str]) -> dict[str, tuple[str, str]]:
    """Value -> (fixed value, reason) for the values ``rule`` changes; each distinct value is tried once."""
    answers = {value: rule(value) for value in set(cells)}
    return {value: fixed for value, fixed in answers.items() if fixed is not None and fixed[0] != value}


def _rules() -> list[tuple[str, Callable[[str], tuple[str, str] | None]]]:
    rules: list[tuple[str, Callable[[str], tuple[str, str] | None]]] = [
        (column, _full_width) for column in WIDTH_COLUMNS
    ]
    rules += [
        ("receiver_mobile", _mobile),
        ("province", _province),
        ("currency", _currency),
        ("item_id", _link),
    ]
    return rules


def _merge_per_cell(fixes: list[Fix]) -> list[Fix]:
    """Chain fixes of the same cell (full-width first, then the rest) into one change."""
    merged: dict[tuple[int, str], Fix] = {}
    for fix in fixes:
        key = (fix.row_id, fix.column)
        if key in merged:
            first = merged[key]
            merged[key] = Fix(fix.row_id, fix.sheet, fix.row, fix.column, first.old, fix.new,
                              f"{first.reason}; {fix.reason}")  # fmt: skip
        else:
            merged[key] = fix
    return sorted(merged.values(), key=lambda f: (f.row_id, f.column))


def _full_width(value: str) -> tuple[str, str] | None:
    folded = unicodedata.normalize("NFKC", value)
    return (folded, "full-width characters made normal") if folded != value else None


def _mobile(value: str) -> tuple[str, str] | None:
    match = _MOBILE.match(unicodedata.normalize("NFKC", value).strip())
    if match is None:
        return None
    digits = re.sub(r"\D", "", match.group(1))
    return (digits, "a Chinese mobile is its 11 digits, without +86 or separators") if digits != value else None


def _province(value: str) -> tuple[str, str] | None:
    official = china_rules()["provinces"].get(value.strip())
    return (official, "the official province name") if official else None


def _currency(value: str) -> tuple[str, str] | None:
    code = CURRENCY_WORDS.get(value.strip().upper()) or CURRENCY_WORDS.get(value.strip())
    return (code, "the currency code for RMB") if code and code != value else None


def _link(value: str) -> tuple[str, str] | None:
    if sku_id_from_link(value):
        return None  # the link also names the SKU: kept whole, the reader takes both ids from it
    found = item_id_from_link(value.strip())
    return (found, "the product id from the link") if found else None


def _number_fixes(frame: pd.DataFrame, decimal_separator: str, wanted: set[tuple[int, str]] | None) -> list[Fix]:
    """The plain spelling of each number cell read as its column reads it (see :mod:`importer.validate.number_text`)."""
    from .number_text import read_column

    fixes: list[Fix] = []
    currencies = frame["currency"].to_numpy() if "currency" in frame.columns else None
    row_ids, sheets, rows = frame.index.to_numpy(), frame[SHEET_COL].to_numpy(), frame[ROW_COL].to_numpy()
    for column in ("unit_price", "quantity"):
        if column not in frame.columns or (wanted is not None and not any(c == column for _, c in wanted)):
            continue
        codes, distinct = distinct_values(frame[column])
        typed = [_cell(v) for v in distinct]
        folded = [unicodedata.normalize("NFKC", v).strip() for v in typed]
        counts = np.bincount(codes, minlength=len(distinct)).tolist()
        reading = read_column(folded, forced=decimal_separator, money=column == "unit_price", counts=counts)
        for n in _positions(frame.index, column, wanted):
            value = codes[n]
            cell = reading.cells[value]
            if cell.value == folded[value] or cell.against is not None:  # already plain, or not ours to fix
                continue
            conflict = bool(cell.mark) and currencies is not None and not _in_yuan(currencies[n])
            if not conflict and _PLAIN_NUMBER.fullmatch(cell.value):
                reason = "the number as a plain number"
                fixes.append(
                    Fix(int(row_ids[n]), str(sheets[n]), int(rows[n]), column, typed[value], cell.value, reason)
                )
    return fixes


def _in_yuan(currency: object) -> bool:
    from .number_check import YUAN_CURRENCIES

    return _cell(currency).strip().upper() in YUAN_CURRENCIES


def _positions(index: pd.Index[Any], column: str, wanted: set[tuple[int, str]] | None) -> Sequence[int]:
    """Positions in ``index`` of the wanted cells of ``column`` (every position when all are wanted), in order."""
    if wanted is None:
        return range(len(index))
    found = index.get_indexer(pd.Index([row_id for row_id, c in wanted if c == column]))
    return sorted(int(n) for n in found if n >= 0)


def _cell(value: object) -> str:
    return value if isinstance(value, str) else "" if value is None or value != value else str(value)


# ----- applying ---------------------------------------------------------------------------


def fixed_path(source: Path) -> Path:
    """``orders.xlsx`` -> ``orders.fixed.xlsx`` beside it."""
    return source.with_name(f"{source.stem}.fixed{source.suffix}")


def apply(sheet: OrderSheet, fixes: list[Fix]) -> Path:
    """Write a copy of the input with the fixes applied; the original file is never touched."""
    if sheet.source is None:
        raise ValueError("--fix needs a file to copy")
    target = fixed_path(sheet.source)
    if sheet.source.suffix.lower() in (".xlsx", ".xlsm"):
        _apply_to_workbook(sheet, fixes, target)
    else:
        _apply_to_csv(sheet, fixes, target)
    return target


def _apply_to_workbook(sheet: OrderSheet, fixes: list[Fix], target: Path) -> None:
    import openpyxl

    assert sheet.source is not None
    shutil.copyfile(sheet.source, target)
    workbook = openpyxl.load_workbook(target)
    original = {canonical: header for header, canonical in sheet.header_map.items()}
    for fix in fixes:
        worksheet = workbook[fix.sheet]
        header_row = sheet.header_rows.get(fix.sheet, 1)
        headers = [str(c.value).strip() if c.value is not None else "" for c in worksheet[header_row]]
        name = original.get(fix.column, fix.column)
        if name in headers:
            cell = worksheet.cell(row=fix.row, column=headers.index(name) + 1)
            cell.value = fix.new
            cell.data_type = "s"
    workbook.save(target)


def _apply_to_csv(sheet: OrderSheet, fixes: list[Fix], target: Path) -> None:
    frame: pd.DataFrame = sheet.frame.copy()
    for fix in fixes:
        frame.at[fix.row_id, fix.column] = fix.new
    original = {canonical: header for header, canonical in sheet.header_map.items()}
    columns = [c for c in frame.columns if c not in (SHEET_COL, ROW_COL) and not str(c).startswith(EARLIER_PREFIX)]
    cells = frame[columns].map(lambda v: escape(v) if isinstance(v, str) else v)
    # CRLF line ends make the writer quote every cell holding a CR or an LF, so no cell can split a row.
    cells.rename(columns=original).to_csv(target, index=False, encoding="utf-8-sig", lineterminator="\r\n")
