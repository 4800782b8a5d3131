"""Money as exact integers of minor units (fen for CNY, cents for the others), never floats.

Prices arrive as text (the sheet), as Decimal (from the provider adapters) or
as integers of fen (the providers' own answers). Adding Decimals is exact too,
but a float slipping into a sum (a pandas cell, ``float(...)`` for display)
is not, and a sum of many prices is where a stray 0.01 shows. So every sum
and every comparison of amounts goes through integer fen; yuan appear only
when an amount is shown.

Every currency is counted in hundredths here: the providers answer in fen,
and the few currencies without minor units (JPY, KRW...) simply carry ``.00``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

_PLAIN = re.compile(r"(?P<sign>-?)(?P<whole>[0-9]+)(?:\.(?P<part>[0-9]*))?")


def text_to_fen(text: str) -> int:
    """Turn a plain decimal text (``1234.5``, ``12``, ``0.05``) into fen, exactly.

    Only digits and one ``.`` are accepted: how people type numbers
    (``1,234.50``, ``¥12``) is :mod:`importer.validate.number_text`' business, which hands
    its canonical text here. Digits beyond the second decimal must be zeros;
    anything else is refused rather than rounded.
    """
    match = _PLAIN.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"'{text}' is not a plain decimal number")
    part = (match.group("part") or "").ljust(2, "0")
    if part[2:].strip("0"):
        raise ValueError(f"'{text}' has more than two decimal places")
    fen = int(match.group("whole")) * 100 + int(part[:2])
    return -fen if match.group("sign") else fen


def to_fen(value: Any) -> int:
    """Fen of an amount in yuan given as Decimal, whole int or plain text; sub-fen amounts are refused.

    A float is refused outright: by the time a float exists the exact amount
    may already be lost, and the caller should keep the Decimal instead.
    """
    if isinstance(value, bool | float):
        raise TypeError(f"an amount must be exact (Decimal, int or text), not {type(value).__name__}")
    if isinstance(value, int):
        return value * 100
    if isinstance(value, Decimal):
        fen = value * 100
        if fen != fen.to_integral_value():
            raise ValueError(f"{value} has more than two decimal places")
        return int(fen)
    return text_to_fen(str(value))


def fen_to_yuan(fen: int) -> Decimal:
    """Exact yuan of an amount in fen, always with two decimals (for display and the adapters)."""
    return Decimal(fen).scaleb(-2)


def fen_text(fen: int) -> str:
    """``123450`` -> ``1234.50``: the canonical spelling of an amount."""
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(fen), 100)
    return f"{sign}{whole}.{part:02d}"


def sum_fen(amounts: Iterable[Any]) -> int:
    """Exact sum, in fen, of amounts as :func:`to_fen` takes them; blank ones (None, "") are skipped."""
    return sum(to_fen(amount) for amount in amounts if amount is not None and amount != "")


def fen_or_none(value: Any) -> int | None:
    """Fen of a result cell, or None for a blank or garbled one (so a sum skips it rather than stopping)."""
    if value is None or value == "" or isinstance(value, float):
        return None
    try:
        return to_fen(value)
    except (ValueError, TypeError, ArithmeticError):
        return None


def is_amount(value: Any) -> bool:
    """Whether ``value`` is an amount :func:`to_fen` takes (used to skip blank and garbled cells in sums)."""
    return fen_or_none(value) is not None
