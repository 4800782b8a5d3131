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

from collections.abc import Mapping
from typing import Any

import pandas as pd

from .errors import ConfigError
from .models import CellError

REMARK_MAX_CHARS = 200
"""About what the providers keep of a remark; longer text may be cut."""

DEFAULT_SEVERITY: dict[str, str] = {
    "remark_length": "warning",
    "receiver_phone_differs": "warning",
    "price_below_expected": "warning",
}
SEVERITIES = ("error", "warning")


def severity_map(table: Mapping[str, Any]) -> dict[str, str]:
    """The config's ``[validation] severity`` table, checked."""
    wrong = {name: value for name, value in table.items() if value not in SEVERITIES}
    if wrong:
        raise ConfigError(f"[validation] severity: {wrong}; each rule is either 'error' or 'warning'")
    return {str(name): str(value) for name, value in table.items()}


def with_severity(found: list[CellError], overrides: Mapping[str, str]) -> list[CellError]:
    """Each problem with its severity: the config's choice, else the rule's default, else error."""
    from dataclasses import replace

    chosen = {**DEFAULT_SEVERITY, **overrides}
    return [replace(e, severity=chosen.get(e.check, e.severity)) if e.check in chosen else e for e in found]


def advisory_checks(checked: pd.DataFrame, locate: Any) -> list[CellError]:
    """Row rules beyond the schema: long remarks, one receiver with two phone numbers.

    ``checked`` holds the stripped canonical cells; ``locate(row_ids)`` gives
    their (sheet names, Excel rows).
    """
    found: list[CellError] = []
    for column in ("order_remark", "line_remark"):
        if column in checked:
            long = checked[column].str.len() > REMARK_MAX_CHARS
            for row_id, value in zip(checked.index[long], checked.loc[long, column], strict=True):
                found.append(
                    _problem(
                        locate,
                        int(row_id),
                        column,
                        value,
                        f"{column} has {len(value)} characters; providers keep about {REMARK_MAX_CHARS}, "
                        "so the end may be cut",
                        "remark_length",
                    )
                )
    found.extend(_phone_differs(checked, locate))
    return found


def _phone_differs(checked: pd.DataFrame, locate: Any) -> list[CellError]:
    """The same receiver (name and address) on another order with a different mobile: probably a typo."""
    needed = {"receiver_name", "address", "receiver_mobile", "order_ref"}
    if not needed <= set(checked.columns):
        return []
    filled = checked[(checked["receiver_name"] != "") & (checked["receiver_mobile"] != "")]
    first: dict[tuple[str, str], tuple[str, str]] = {}
    found = []
    for row_id, name, address, mobile, ref in zip(
        filled.index,
        filled["receiver_name"],
        filled["address"],
        filled["receiver_mobile"],
        filled["order_ref"],
        strict=True,
    ):
        key = (name, address)
        seen = first.setdefault(key, (mobile, ref))
        if seen[0] != mobile and seen[1] != ref:
            message = (
                f"{name} at this address has mobile {seen[0]} on order {seen[1]} but {mobile} here; "
                "check which one is right"
            )
            found.append(_problem(locate, int(row_id), "receiver_mobile", mobile, message, "receiver_phone_differs"))
    return found


def _problem(locate: Any, row_id: int, column: str, value: str, message: str, check: str) -> CellError:
    sheets, rows = locate([row_id])
    return CellError(row_id, sheets[0], rows[0], column, value, message, check=check, severity="warning")
