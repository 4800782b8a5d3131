"""The rules an order sheet must meet, as a pandera schema plus one order-level check.

Every rule is a vectorised :class:`pandera.Check` whose ``error`` is the message
template a buyer reads, with ``{value}`` where the offending cell goes; the
validator formats it from pandera's failure cases. Cells reach the schema as
stripped text, so a rule never has to think about surrounding spaces, and an
empty optional cell always passes (only the required columns demand a value).

Order-level completeness (a receiver name, an address and a phone per order)
cannot be said of one row, so :func:`order_completeness` checks it separately.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from ..columns import TEXT, all_ascii_digits, each_distinct, filled, first_of_group, for_distinct, group_codes

KNOWN_CURRENCIES: tuple[str, ...] = (
    "CNY", "USD", "EUR", "GBP", "HKD", "JPY", "KRW", "SGD", "AUD", "CAD",
    "MYR", "THB", "VND", "PHP", "IDR", "BRL", "RUB",
)  # fmt: skip

# Every row needs these; the reader refuses files without them.
REQUIRED_COLUMNS: tuple[str, ...] = ("provider", "order_ref", "item_id", "quantity")
PHONE_COLUMNS: tuple[str, ...] = ("receiver_phone", "receiver_mobile")
# Per order, at least one row must fill each of these (the phone in either phone column).
ORDER_NEEDS: tuple[str, ...] = ("receiver_name", "address")

# A whole number above 0. Excel often shows a whole number as 2.0, so ".0"/".00" is accepted.
WHOLE_NUMBER = r"0*[1-9][0-9]*(?:\.0{1,2})?"
PRICE = r"[0-9]+(?:\.[0-9]{1,2})?"
PHONE = r"\+?[0-9 ()\-]+"
PHONE_DIGITS = (5, 20)
_PHONE_RE = re.compile(PHONE)
_DIGIT_RE = re.compile(r"[0-9]")
ITEM_ID = r"[0-9]+"
# Product links whose id the grouping step takes out: Taobao and Tmall carry it in the
# ``id`` query parameter, 1688 in the path.
ITEM_LINK = (
    r"(?:https?://)?(?:"
    r"(?:item\.taobao\.com|detail\.tmall\.com)/item\.htm\?(?:[^#]*&)?id=(?P<query_id>[0-9]+)(?:[&#].*)?"
    r"|detail\.1688\.com/offer/(?P<path_id>[0-9]+)\.html(?:[?#].*)?"
    r")"
)
_ITEM_LINK_RE = re.compile(ITEM_LINK, re.IGNORECASE)
# The same pattern without named groups, for pandas' vectorised matching.
_ITEM_LINK_PLAIN = re.sub(r"\(\?P<\w+>", "(?:", ITEM_LINK)

_SHOWN_VALUE_LENGTH = 60

MessageCheck = Callable[["pd.Series[str]"], "pd.Series[bool]"]


def shown(value: object) -> str:
    """Quote-ready form of a cell value: long values are cut so a message stays one line."""
    text = str(value)
    if len(text) > _SHOWN_VALUE_LENGTH:
        text = text[: _SHOWN_VALUE_LENGTH - 1] + "…"
    return text


def item_id_from_link(text: str) -> str | None:
    """Return the bare product id in a Taobao, Tmall or 1688 product link, or None when it is not one."""
    match = _ITEM_LINK_RE.fullmatch(text)
    if match is None:
        return None
    return match.group("query_id") or match.group("path_id")


def _blank_or(test: MessageCheck) -> MessageCheck:
    """Let empty cells pass: whether a value is required is the not-empty rule's business."""

    def check(series: pd.Series[str]) -> pd.Series[bool]:
        return ~filled(series) | test(series)

    return check


def _matches(pattern: str, *, flags: int = 0) -> MessageCheck:
    compiled = re.compile(pattern, flags)

    def check(series: pd.Series[str]) -> pd.Series[bool]:
        return each_distinct(series, lambda value: isinstance(value, str) and compiled.fullmatch(value) is not None)

    return check


def _not_empty(series: pd.Series[str]) -> pd.Series[bool]:
    return filled(series)


def _check(column: str, rule: str, test: MessageCheck, message: str) -> pa.Check:
    """One rule; ``message`` is the template, with ``{value}`` where the cell's value goes."""
    return pa.Check(test, name=f"{column}.{rule}", error=message)


def _one_of(values: Collection[str]) -> str:
    return ", ".join(values) if values else "(no provider is configured)"


def _required_checks(column: str, providers: Collection[str]) -> list[pa.Check]:
    needs = {
        "provider": f"the provider key, one of {_one_of(providers)}",
        "order_ref": "the order reference that groups it into an order",
        "item_id": "the product id or product link",
        "quantity": "the number of pieces to buy, a whole number above 0",
    }
    return [_check(column, "not_empty", _not_empty, f"{column} is empty; every row needs {needs[column]}")]


def _whole_number(column: str) -> pa.Check:
    return _check(
        column,
        "whole_number",
        _blank_or(_matches(WHOLE_NUMBER)),
        f"{column} must be a whole number above 0; got '{{value}}'",
    )


def _phone(column: str) -> pa.Check:
    low, high = PHONE_DIGITS

    def phone_shaped(value: object) -> bool:
        # The pattern admits ASCII digits only, so a value of digits alone has as many digits as characters.
        return (
            isinstance(value, str)
            and _PHONE_RE.fullmatch(value) is not None
            and low <= (len(value) if value.isdigit() else len(_DIGIT_RE.findall(value))) <= high
        )

    def phone_answers(values: list[Any]) -> np.ndarray[Any, np.dtype[np.bool_]]:
        if all_ascii_digits(values):  # the usual column: a number's length says it all
            lengths = np.fromiter(map(len, values), dtype=np.intp, count=len(values))
            return (low <= lengths) & (lengths <= high)
        return np.fromiter(map(phone_shaped, values), dtype=bool, count=len(values))

    def looks_like_phone(series: pd.Series[str]) -> pd.Series[bool]:
        return for_distinct(series, phone_answers)

    return _check(
        column, "phone", _blank_or(looks_like_phone), f"{column} does not look like a phone number; got '{{value}}'"
    )


def _format_checks(providers: Collection[str]) -> dict[str, list[pa.Check]]:
    """Collect the rules on a cell's value, by column; empty cells pass all of them."""
    known = frozenset(providers)
    currencies = frozenset(KNOWN_CURRENCIES)
    return {
        "provider": [
            _check(
                "provider",
                "known",
                _blank_or(lambda s: s.isin(known)),
                f"provider must be one of {_one_of(providers)}; got '{{value}}'",
            )
        ],
        "item_id": [
            _check(
                "item_id",
                "id_or_link",
                _blank_or(lambda s: _matches(ITEM_ID)(s) | _matches(_ITEM_LINK_PLAIN, flags=re.IGNORECASE)(s)),
                "item_id must be the product id (digits only) or its item.taobao.com, detail.tmall.com or "
                "detail.1688.com link; got '{value}'",
            )
        ],
        "quantity": [_whole_number("quantity")],
        "line_no": [_whole_number("line_no")],
        "unit_price": [
            _check(
                "unit_price",
                "price",
                _blank_or(_matches(PRICE)),
                "unit_price must be a number of at least 0 with at most 2 decimals, like 12.50; got '{value}'",
            )
        ],
        "currency": [
            _check(
                "currency",
                "known",
                _blank_or(lambda s: each_distinct(s, lambda value: str(value).upper() in currencies)),
                "currency must be a code such as CNY, USD, EUR, HKD or JPY (CNY for RMB); got '{value}'",
            )
        ],
        **{column: [_phone(column)] for column in PHONE_COLUMNS},
    }


def build_schema(providers: Collection[str], *, columns_present: Collection[str]) -> pa.DataFrameSchema:
    """Build the row-level schema for a sheet whose canonical columns are ``columns_present``.

    Required columns are always in the schema, so a missing one is reported as a
    missing column; optional columns are checked only when the sheet has them.
    Run it with ``lazy=True`` on stripped text cells to collect every failure.
    """
    present = set(columns_present)
    formats = _format_checks(tuple(providers))
    columns: dict[str, pa.Column] = {}
    for name in REQUIRED_COLUMNS:
        checks = [*_required_checks(name, tuple(providers)), *formats.get(name, [])]
        columns[name] = pa.Column(checks=checks, required=True)
    for name, checks in formats.items():
        if name not in columns and name in present:
            columns[name] = pa.Column(checks=checks, required=False)
    return pa.DataFrameSchema(columns, name="order sheet", strict=False)


def missing_column_message(column: str) -> str:
    """Say what to do about a required column the sheet does not have at all."""
    if column == "provider":
        return "provider: the sheet has no provider column; run with --provider KEY, or add a column headed provider"
    return f"{column}: the sheet has no {column} column; add a column headed {column} and fill it on every row"


def order_completeness(frame: pd.DataFrame, providers: Collection[str] | None = None) -> pd.DataFrame:
    """Find orders that lack a receiver name, an address or a phone on every one of their rows.

    ``frame`` holds stripped text. An order is the rows sharing provider and
    order_ref; rows missing either, or naming a provider not in ``providers``,
    are already errors and are left out, so a typo does not make an order. Returns
    one row per problem, indexed by the row id of the order's first row, with
    ``column`` and ``message``; the value of such a problem is always empty.
    """
    empty = pd.DataFrame({"column": pd.Series(dtype="str"), "message": pd.Series(dtype="str")})
    if "provider" not in frame or "order_ref" not in frame or frame.empty:
        return empty
    keep = filled(frame["provider"]) & filled(frame["order_ref"])
    if providers is not None:
        keep &= frame["provider"].isin(frozenset(providers))
    if not keep.any():
        return empty
    # Whether a row is kept depends on its provider and order_ref alone, so an order is kept or left out
    # whole: the orders are found on every row, and the ones left out are dropped at the end.
    key = group_codes(frame["provider"], frame["order_ref"])
    first = pd.Series((first_of_group(key) == np.arange(len(key))) & keep.to_numpy(), index=frame.index)
    phone_columns = [c for c in PHONE_COLUMNS if c in frame]
    needs: list[tuple[str, str, pd.Series[bool]]] = [
        (column, column, _filled(frame, [column] if column in frame else [])) for column in ORDER_NEEDS
    ]
    phone_label = " or ".join(PHONE_COLUMNS)
    needs.append((phone_columns[0] if phone_columns else PHONE_COLUMNS[0], phone_label, _filled(frame, phone_columns)))
    parts = []
    for column, label, rows_filled in needs:
        has = np.bincount(key, weights=rows_filled.to_numpy(), minlength=len(key)) > 0  # per order: any row filled
        lacking = first & ~has[key]
        if lacking.any():
            refs = frame.loc[lacking, "order_ref"].astype(TEXT)
            fill = "fill it" if label == column else "fill one"
            messages = f"{column}: order " + refs + f" has no {label}; {fill} on the order's first row"
            parts.append(pd.DataFrame({"column": column, "message": messages}, index=refs.index))
    if not parts:
        return empty
    return pd.concat(parts).sort_index(kind="stable")


def _filled(frame: pd.DataFrame, columns: list[str]) -> pd.Series[bool]:
    """Per row: whether any of ``columns`` holds a value (False when none of them exists)."""
    any_filled = pd.Series(False, index=frame.index)
    for column in columns:
        any_filled |= filled(frame[column])
    return any_filled
