"""Numbers as people type them: ``1,234.50``, ``1.234,50``, ``¥12.50``, ``12.5元``, ``RMB 12.50``, ``1,000``.

The decimal mark is decided per column, never guessed per cell. Most cells
say which convention they use (``12,50`` and ``1.234,50`` can only be
European; ``12.5`` and ``1,234.50`` only Chinese/English); a few depend on it
(``1,234`` is 1234 in one convention and 1.234 in the other). A column is
read as European when its deciding cells are all European, as
Chinese/English otherwise; cells deciding against the column's convention are
reported, naming both, because one of the two conventions is a mistake that
only the user can resolve. ``[validation] decimal_separator`` (``"."`` or
``","``) forces the convention instead.

The reading is canonical text (``1234.50``): digits, at most one ``.``. The
checks then judge that text (at most 2 decimals for a price, a whole number
for a quantity), and the order uses it; the sheet's cell is never changed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

Convention = Literal[".", ","]
Style = Literal["plain", ".", ",", "either"]
CONVENTIONS: tuple[str, ...] = ("auto", ".", ",")
STYLE_EXAMPLE = {".": "1,234.50", ",": "1.234,50"}

_PREFIX = re.compile(r"^(?:[¥￥]|RMB|CNY)\s*", re.IGNORECASE)
_SUFFIX = re.compile(r"\s*(?:元|RMB|CNY)$", re.IGNORECASE)
_INTEGER = re.compile(r"[0-9]+")
_ONE_MARK = re.compile(r"(?P<head>[0-9]+)(?P<mark>[.,])(?P<tail>[0-9]+)")
_ENGLISH = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")
_EUROPEAN = re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+(?:,[0-9]+)?")


def split_currency(text: str) -> tuple[str, str]:
    """Take a yuan mark off a price (``¥12.50``, ``12.5元``, ``RMB 12.50``): (number text, mark or "")."""
    body, mark = text, ""
    prefix = _PREFIX.match(body)
    if prefix:
        body, mark = body[prefix.end() :], prefix.group().strip()
    suffix = _SUFFIX.search(body)
    if suffix:
        body, mark = body[: suffix.start()], mark or suffix.group().strip()
    return body, mark


def style_of(body: str) -> Style | None:
    """Which convention a number's text shows: "." or ",", "either" when it depends, None when not a number.

    A lone separator followed by exactly three digits after one to three
    digits (``1,234``, ``12.345``) reads either way; every other spelling
    decides. ``0,500`` and ``0.500`` decide too: no one groups thousands
    after a leading zero.
    """
    if _INTEGER.fullmatch(body):
        return "plain"
    one = _ONE_MARK.fullmatch(body)
    if one:
        head, mark, tail = one.group("head"), one.group("mark"), one.group("tail")
        if len(tail) == 3 and len(head) <= 3 and not head.startswith("0"):
            return "either"
        return "." if mark == "." else ","
    if _ENGLISH.fullmatch(body):
        return "."
    if _EUROPEAN.fullmatch(body):
        return ","
    return None


def canonical(body: str, convention: Convention) -> str | None:
    """The number in ``body`` as plain text (digits and at most one "."), read with ``convention``."""
    style = style_of(body)
    if style is None:
        return None
    decimal = convention if style == "either" else style
    if style == "plain" or decimal == ".":
        return body.replace(",", "")
    return body.replace(".", "").replace(",", ".")


@dataclass(frozen=True)
class Cell:
    """How one cell of a number column was read."""

    value: str
    """The canonical reading, or the cell as given when it is not a number (the checks then say so)."""
    mark: str = ""
    """The yuan mark the cell carried (``¥``, ``元``, ``RMB``...), or ""."""
    against: Convention | None = None
    """Set when the cell decides for the other convention than its column's: the cell is an error."""


@dataclass(frozen=True)
class ColumnReading:
    """A number column as read: one :class:`Cell` per input cell, and the column's convention."""

    cells: list[Cell]
    convention: Convention
    forced: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    """Deciding cells per convention ("." and ",")."""


def read_column(
    values: Sequence[str], *, forced: str = "auto", money: bool = False, counts: Sequence[int] | None = None
) -> ColumnReading:
    """Read a column of stripped, width-folded cells; ``money`` allows a yuan mark around the number.

    Empty cells stay empty. ``forced`` is the ``decimal_separator`` setting:
    "auto" decides from the column, "." or "," imposes a convention. With
    ``counts``, ``values`` are a column's distinct values and ``counts[n]``
    the number of its cells that hold ``values[n]``: the reading then has one
    :class:`Cell` per distinct value, and the convention is decided as for
    the whole column.
    """
    if forced not in CONVENTIONS:
        raise ValueError(f"decimal_separator must be one of {', '.join(CONVENTIONS)}; got {forced!r}")
    # A column holds few distinct values (the same prices and quantities again and again): each is
    # read once, and its cells share the reading.
    cells_per_value = Counter(values)
    if counts is not None:
        cells_per_value = Counter()
        for value, cells in zip(values, counts, strict=True):
            cells_per_value[value] += int(cells)
    parts = {v: split_currency(v) if money else (v, "") for v in cells_per_value}
    styles = {v: style_of(body) if body else None for v, (body, _) in parts.items()}
    deciding = {".": 0, ",": 0}
    for value, cells in cells_per_value.items():
        style = styles[value]
        if style in deciding:
            deciding[style] += cells
    convention: Convention = "," if deciding[","] > deciding["."] else "."
    if forced != "auto":
        convention = "," if forced == "," else "."
    read = {v: _cell(v, parts[v], styles[v], convention) for v in cells_per_value}
    return ColumnReading([read[v] for v in values], convention, forced != "auto", deciding)


def _cell(value: str, part: tuple[str, str], style: Style | None, convention: Convention) -> Cell:
    body, mark = part
    reading = canonical(body, convention) if style is not None else None
    if reading is None:
        return Cell(value)
    against: Convention | None = None
    if style in (".", ",") and style != convention:
        against = "," if convention == "." else "."
    return Cell(reading, mark, against)


def mixed_message(column: str, value: str, reading: ColumnReading) -> str:
    """What to say about a cell written in the other convention than its column's (names both)."""
    cell_style: Convention = "," if reading.convention == "." else "."
    why = (
        f"[validation] decimal_separator is '{reading.convention}'"
        if reading.forced
        else f"{reading.counts[reading.convention]} other cells of this column use '{reading.convention}' "
        f"(like {STYLE_EXAMPLE[reading.convention]})"
    )
    return (
        f"{column} '{value}' uses '{cell_style}' as the decimal mark (like {STYLE_EXAMPLE[cell_style]}), but {why}; "
        "write every number of the column the same way"
    )
