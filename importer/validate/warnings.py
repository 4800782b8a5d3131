"""Rules that warn rather than stop a row, and the severity switch for every rule.

A warning stands on its row in the results workbook (the ``warning`` column)
and the row still goes ahead; an error keeps the row from being sent. Every
rule has a name (pandera rules are ``column.rule``, e.g. ``receiver_mobile.phone``;
the rules here are listed in :data:`DEFAULT_SEVERITY`), and the ``[validation]``
table of the config can move any of them from one side to the other::

    [validation]
    severity = { remark_length = "error", "receiver_mobile.phone" = "warning" }
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import partial
from itertools import repeat
from operator import is_not
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..columns import (
    all_text,
    distinct_values,
    each_distinct,
    filled,
    first_of_group,
    for_distinct,
    group_codes,
    text_cells,
)
from ..models import CellError

REMARK_MAX_CHARS = 200
"""About what the providers keep of a remark; longer text may be cut."""

DEFAULT_SEVERITY: dict[str, str] = {
    "remark_length": "warning",
    "receiver_phone_differs": "warning",
    "price_below_expected": "warning",
    "cn.mobile": "warning",
    "cn.zip": "warning",
    "cn.required": "warning",
    # No provider receives the order date: a date that cannot be read is noted, not a reason to stop buying.
    "order_date.date": "warning",
    "order_date.date_order": "warning",
}
_Hit = tuple[int, str, str, str, str, str]
"""One problem found before its place is looked up: (row id, column, value, message, rule, severity)."""


def with_severity(found: list[CellError], overrides: Mapping[str, str]) -> list[CellError]:
    """Each problem with its severity: the config's choice, else the rule's default, else error."""
    from dataclasses import replace

    chosen = {**DEFAULT_SEVERITY, **overrides}
    return [replace(e, severity=chosen[e.check]) if chosen.get(e.check, e.severity) != e.severity else e for e in found]


def advisory_checks(checked: pd.DataFrame, locate: Any) -> list[CellError]:
    """Row rules beyond the schema: long remarks, one receiver with two phone numbers.

    ``checked`` holds the stripped canonical cells; ``locate(row_ids)`` gives
    their (sheet names, Excel rows).
    """
    hits: list[_Hit] = []
    for column in ("order_remark", "line_remark"):
        if column in checked:
            long = checked[column].str.len() > REMARK_MAX_CHARS
            for row_id, value in zip(checked.index[long], checked.loc[long, column], strict=True):
                message = (
                    f"{column} has {len(value)} characters; providers keep about {REMARK_MAX_CHARS}, "
                    "so the end may be cut"
                )
                hits.append((int(row_id), column, value, message, "remark_length", "warning"))
    found = _located(locate, hits)
    found.extend(_phone_differs(checked, locate))
    found.extend(address_rules(checked, locate))
    return found


RULES = Path(__file__).parent / "rules"
"""Where the rule packs are: one TOML file per destination, named by its country code."""


def rule_packs() -> dict[str, dict[str, Any]]:
    """Address rules per destination, one TOML file each in :data:`RULES` (named by its country code)."""
    import tomllib

    packs = {}
    for path in sorted(RULES.glob("*.toml")):
        with path.open("rb") as handle:
            packs[path.stem] = tomllib.load(handle)
    return packs


# The pack keys that predate ``[fields]``: which column each checks and what is ignored before matching.
_SHORTHAND = {"mobile": ("receiver_mobile", r"^\+?86|[\s\-()]"), "zip": ("zip", "")}


def address_rules(checked: pd.DataFrame, locate: Any) -> list[CellError]:
    """What the providers reject for a destination, checked before any request (rules in ``rules/*.toml``).

    A row's destination is its ``country`` cell; a pack applies when the
    country is one of its ``country_names``. A pack checks cells against
    patterns (``[fields.<column>]``: ``pattern``, ``message``, optional
    ``ignore`` — characters taken out first — and ``severity``; ``mobile`` and
    ``zip`` are shorthands) and demands columns on rows with an address
    (``[required]``). Each rule is named ``<pack>.<name>`` for the config's
    severity table.
    """
    hits: list[_Hit] = []
    if "country" in checked:
        countries = checked["country"]
    else:  # every row's country is empty: one category, no cell to look at
        countries = text_cells([""], checked.index, np.zeros(len(checked), dtype=np.intp), distinct=True)
    for code, pack in rule_packs().items():
        names = {str(n).casefold() for n in pack.get("country_names", [])}
        applies = each_distinct(countries, partial(_is_one_of, names))
        if not applies.any():
            continue
        rows = checked if applies.all() else checked[applies]  # most sheets go to one country
        for name, column, rule in _field_rules(pack):
            if column not in rows:
                continue
            bad = for_distinct(rows[column], _pattern_breaks(rule))
            hits += _rule_hits(rows, bad, column, f"{code}.{name}", rule)
        required = pack.get("required")
        if required and "address" in rows:
            addressed = filled(rows["address"]).to_numpy()
            for column in required["columns"]:
                empty = ~filled(rows[column]).to_numpy() if column in rows else np.ones(len(rows), dtype=bool)
                bad = pd.Series(addressed & empty, index=rows.index, dtype=bool)
                hits += _rule_hits(rows, bad, column, f"{code}.required", required)
    return _located(locate, hits)


def _is_one_of(names: set[str], country: Any) -> bool:
    return str(country).casefold() in names


def _pattern_breaks(rule: Mapping[str, Any]) -> Callable[[list[Any]], np.ndarray[Any, np.dtype[np.bool_]]]:
    """Per value, whether it is filled and fails a pack's pattern once the rule's ``ignore`` characters are out.

    The values are asked in one chain of C calls (``map`` over the compiled
    patterns' methods) rather than a Python function per value: a column of
    receivers' mobiles holds tens of thousands of distinct values.
    """
    pattern = re.compile(str(rule["pattern"]))
    ignore = re.compile(str(rule["ignore"])) if rule.get("ignore") else None

    def breaks(values: list[Any]) -> np.ndarray[Any, np.dtype[np.bool_]]:
        if all_text(values):  # always so for checked cells
            texts, not_text = values, np.zeros(len(values), dtype=bool)
        else:  # a value that is not text never meets a pattern
            texts = [value if isinstance(value, str) else "" for value in values]
            not_text = np.fromiter((not isinstance(value, str) for value in values), dtype=bool, count=len(values))
        cleaned = map(ignore.sub, repeat(""), texts) if ignore else texts
        meets = np.fromiter(map(is_not, map(pattern.fullmatch, cleaned), repeat(None)), dtype=bool, count=len(texts))
        is_filled = np.fromiter(map(bool, texts), dtype=bool, count=len(texts))  # an empty cell breaks no pattern
        broken: np.ndarray[Any, np.dtype[np.bool_]] = (is_filled & ~meets) | not_text
        return broken

    return breaks


def _field_rules(pack: Mapping[str, Any]) -> list[tuple[str, str, Mapping[str, Any]]]:
    """(rule name, column, rule table) for each pattern rule of a pack, the shorthands included."""
    rules: list[tuple[str, str, Mapping[str, Any]]] = []
    for key, (column, ignore) in _SHORTHAND.items():
        if key in pack:
            rules.append((key, column, {"ignore": ignore, **pack[key]}))
    for column, rule in pack.get("fields", {}).items():
        rules.append((str(rule.get("name", column)), str(column), rule))
    return rules


def _rule_hits(rows: pd.DataFrame, bad: pd.Series, column: str, check: str, rule: Mapping[str, Any]) -> list[_Hit]:
    values = rows[column] if column in rows else pd.Series("", index=rows.index)
    message, severity = str(rule["message"]), str(rule.get("severity", "error"))
    return [
        (int(row_id), column, str(value), f"{message}; got '{value}'", check, severity)
        for row_id, value in zip(rows.index[bad.to_numpy()], values[bad.to_numpy()], strict=True)
    ]


def _phone_differs(checked: pd.DataFrame, locate: Any) -> list[CellError]:
    """The same receiver (name and address) on another order with a different mobile: probably a typo."""
    needed = ["receiver_name", "address", "receiver_mobile", "order_ref"]
    if not set(needed) <= set(checked.columns):
        return []
    columns = checked[needed]
    receivers = columns[filled(columns["receiver_name"]) & filled(columns["receiver_mobile"])]
    first = first_of_group(group_codes(receivers["receiver_name"], receivers["address"]))
    mobile_codes, mobiles = distinct_values(receivers["receiver_mobile"])
    ref_codes, refs = distinct_values(receivers["order_ref"])
    differs = (mobile_codes != mobile_codes[first]) & (ref_codes != ref_codes[first])  # codes compare as values
    at = np.flatnonzero(differs)
    names = receivers["receiver_name"].iloc[at].tolist()
    hits: list[_Hit] = []
    for position, row_id, name in zip(at.tolist(), receivers.index[at].tolist(), names, strict=True):
        mobile, seen_mobile = mobiles[mobile_codes[position]], mobiles[mobile_codes[first[position]]]
        message = (
            f"{name} at this address has mobile {seen_mobile} on order {refs[ref_codes[first[position]]]} "
            f"but {mobile} here; check which one is right"
        )
        hits.append((int(row_id), "receiver_mobile", mobile, message, "receiver_phone_differs", "warning"))
    return _located(locate, hits)


def _located(locate: Any, hits: list[_Hit]) -> list[CellError]:
    """CellErrors for ``hits``, their places looked up in one call: one lookup per hit costs minutes at 100k rows."""
    if not hits:
        return []
    sheets, rows = locate([hit[0] for hit in hits])
    return [
        CellError(row_id, sheet, row, column, value, message, check=check, severity=severity)
        for (row_id, column, value, message, check, severity), sheet, row in zip(hits, sheets, rows, strict=True)
    ]
