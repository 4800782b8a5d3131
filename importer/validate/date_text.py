"""Dates as people type them, and as Excel stores them, read to a :class:`datetime.date`.

Accepted: Excel date cells (the reader gives them as ``2026-11-24``, or
``2026-11-24 10:30:00`` with a time, which is dropped), Excel serial numbers
(1900 date system), and the text dates Chinese sheets use: ``2026-11-24``,
``2026/11/24``, ``2026/1/5``, ``2026.11.24``, ``2026年11月24日``, ``20261124``.

``11/24/2026`` and ``24/11/2026`` put the day and the month in either order.
As with decimal marks, the order is decided per column, never guessed per
cell: a day above 12 decides it (``24/11/2026`` is day first). A cell that
reads both ways (``11/12/2026``) takes its column's order; in a column where
no cell decides it is an error, because either reading may be the wrong
day. ``[validation] date_order = "dmy"`` or ``"mdy"`` imposes the order.

Only ``datetime.date`` is used: no timestamps, no time zones, so a date never
moves a day with the machine's clock. Serial 60 is Excel's 1900-02-29, a day
that never was (Excel kept Lotus 1-2-3's leap-year bug); it is refused, and
so is every date outside :data:`EARLIEST` .. :data:`LATEST`, which catches a
quantity or an id typed into the date column.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

Order = Literal["dmy", "mdy"]
ORDERS: tuple[str, ...] = ("auto", "dmy", "mdy")
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)
EXCEL_EPOCH = date(1899, 12, 30)  # serial 0 for every serial after the fake 1900-02-29
FAKE_LEAP_DAY = 60

_YMD = re.compile(r"(?P<y>[0-9]{4})(?P<s>[-/.])(?P<m>[0-9]{1,2})(?P=s)(?P<d>[0-9]{1,2})")
_YMD_TIME = re.compile(
    r"(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})[ T][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?"
)
_CHINESE = re.compile(r"(?P<y>[0-9]{4})\s*年\s*(?P<m>[0-9]{1,2})\s*月\s*(?P<d>[0-9]{1,2})\s*[日号]?")
_COMPACT = re.compile(r"(?P<y>(?:19|20)[0-9]{2})(?P<m>[0-9]{2})(?P<d>[0-9]{2})")
_SERIAL = re.compile(r"(?P<n>[0-9]{1,5})(?:\.[0-9]+)?")
_DAY_MONTH = re.compile(r"(?P<a>[0-9]{1,2})(?P<s>[-/.])(?P<b>[0-9]{1,2})(?P=s)(?P<y>[0-9]{4})")

EXAMPLE = "2026-11-24"


@dataclass(frozen=True)
class DateCell:
    """How one date cell was read: the date, or why not (``problem``, a sentence to show the user)."""

    value: date | None = None
    problem: str = ""
    order: Order | None = None
    """The order this cell decides (day above 12), or None."""
    against: bool = False
    """The cell decides for the other order than its column's."""


def from_serial(serial: int) -> date | str:
    """The date of an Excel serial number (1900 system), or why it is not one."""
    if serial == FAKE_LEAP_DAY:
        return "is Excel's serial 60, the 1900-02-29 that never existed"
    day = EXCEL_EPOCH + timedelta(days=serial) if serial > FAKE_LEAP_DAY else date(1899, 12, 31) + timedelta(serial)
    return day


def _day(year: str, month: str, day: str) -> date | str:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return "is not a day of the calendar"


def read_fixed(text: str) -> date | str | None:
    """Read a date whose parts are in a known place; None when it is no such form (maybe day/month)."""
    for pattern in (_YMD, _YMD_TIME, _CHINESE, _COMPACT):
        match = pattern.fullmatch(text)
        if match:
            return _day(match.group("y"), match.group("m"), match.group("d"))
    serial = _SERIAL.fullmatch(text)
    if serial:
        number = int(serial.group("n"))
        return from_serial(number) if number > 0 else "is not a date"
    return None


def _day_month(text: str) -> tuple[int, int, int] | None:
    match = _DAY_MONTH.fullmatch(text)
    return (int(match.group("a")), int(match.group("b")), int(match.group("y"))) if match else None


def decides(first: int, second: int) -> Order | None:
    """The order a ``first/second/year`` cell decides: a part above 12 can only be the day."""
    if first > 12 >= second:
        return "dmy"
    if second > 12 >= first:
        return "mdy"
    return None


def read_column(values: Sequence[str], *, forced: str = "auto") -> tuple[list[DateCell], Order | None]:
    """Read a column of stripped cells; empty cells stay empty (``DateCell()``). Returns cells and the order used."""
    if forced not in ORDERS:
        raise ValueError(f"date_order must be one of {', '.join(ORDERS)}; got {forced!r}")
    distinct = dict.fromkeys(values)  # a column repeats its dates: each distinct cell is read once
    part_of = {v: _day_month(v) for v in distinct}
    vote_of = {v: decides(p[0], p[1]) if p else None for v, p in part_of.items()}
    votes = [vote_of[v] for v in values]
    counts = {"dmy": votes.count("dmy"), "mdy": votes.count("mdy")}
    order: Order | None = None
    if forced != "auto":
        order = "dmy" if forced == "dmy" else "mdy"
    elif counts["dmy"] != counts["mdy"]:
        order = "dmy" if counts["dmy"] > counts["mdy"] else "mdy"
    tie = order is None and counts["dmy"] > 0 and counts["mdy"] > 0
    read = {v: _cell(v, part_of[v], vote_of[v], order, tie) for v in distinct}
    return [read[v] for v in values], order


def _cell(
    value: str, part: tuple[int, int, int] | None, vote: Order | None, order: Order | None, tie: bool
) -> DateCell:
    """One cell read with its column's order; ``tie``: the column decides both ways equally often."""
    if not value:
        return DateCell()
    if part is None:
        return _checked(read_fixed(value) or "is not a date")
    first, second, year = part
    if vote is None and first != second and order is None:
        return DateCell(problem="reads as day/month or as month/day, and no cell of this column tells which")
    use = vote or order or "dmy"  # equal parts read the same either way
    day, month = (first, second) if use == "dmy" else (second, first)
    cell = _checked(_day(str(year), str(month), str(day)))
    against = vote is not None and (tie or (order is not None and vote != order))
    return DateCell(cell.value, cell.problem, vote, against)


def _checked(found: date | str) -> DateCell:
    if isinstance(found, str):
        return DateCell(problem=found)
    if not EARLIEST <= found <= LATEST:
        return DateCell(problem=f"reads as {found.isoformat()}, outside {EARLIEST.year}–{LATEST.year}")
    return DateCell(found)
