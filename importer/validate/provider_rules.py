"""What each provider will certainly refuse, found offline: the form of its ids and the address parts it needs.

The schema checks what every provider accepts (item_id is digits or a
product link); a row is only as good as what its own provider takes. 1688
buys a ``specId`` of 32 hex characters; the Taobao-family providers buy SKU
ids of digits only. Every
provider wants the province and the city apart from the street (``state`` and
``city``, 1688's ``provinceText`` and ``cityText``), so an address that holds
them while the province column is empty is refused before any request.
These rules are errors by default; ``[validation] severity`` can soften them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..columns import each_distinct
from ..models import CellError

_1688 = "xportcn-ka-1688"
_TAOBAO_FAMILY = ("xportcn-open", "xportcn-ka-taobao", "dajisaas", "shanjing")


@dataclass(frozen=True)
class IdRule:
    """The form one provider's ids take in one column."""

    pattern: re.Pattern[str]
    says: str

    def fits(self, value: object) -> bool:
        return self.pattern.fullmatch(str(value)) is not None


ID_RULES: dict[str, dict[str, IdRule]] = {
    _1688: {
        "sku_id": IdRule(
            re.compile(r"[0-9a-fA-F]{32}"),
            "the 1688 specId, 32 hex characters (规格ID; not spec text such as 颜色:彩色, nor the skuId digits)",
        ),
    },
    **{key: {"sku_id": IdRule(re.compile(r"[0-9]+"), "a Taobao SKU id, digits only")} for key in _TAOBAO_FAMILY},
}
"""Per provider key and column: the form the provider's ids must have."""


def provider_rules(checked: pd.DataFrame, locate: Any, provinces: Mapping[str, str]) -> list[CellError]:
    """Id forms per row's provider, and combined addresses where the province column is empty.

    ``checked`` holds the stripped canonical cells; ``provinces`` maps the
    short province names to the official ones (the mainland rule pack).
    """
    if "provider" not in checked:
        return []
    hits: list[tuple[int, str, str, str, str]] = []
    providers = checked["provider"].astype(str)
    for key, rules in ID_RULES.items():
        mine = providers == key
        if not mine.any():
            continue
        for column, rule in rules.items():
            if column not in checked:
                continue
            cells = checked.loc[mine, column].astype(str)
            wrong = (cells != "") & ~each_distinct(cells, rule.fits)
            for row_id, value in zip(cells.index[wrong].tolist(), cells[wrong].tolist(), strict=True):
                message = f"{column}: {key} needs {rule.says}; got '{value}'"
                hits.append((int(row_id), column, value, message, f"{column}.provider_form"))
    hits += _combined_addresses(checked, providers, provinces)
    if not hits:
        return []
    sheets, rows = locate([hit[0] for hit in hits])
    return [
        CellError(row_id, sheet, row, column, value, message, check=check)
        for (row_id, column, value, message, check), sheet, row in zip(hits, sheets, rows, strict=True)
    ]


def _combined_addresses(
    checked: pd.DataFrame, providers: pd.Series, provinces: Mapping[str, str]
) -> list[tuple[int, str, str, str, str]]:
    if "address" not in checked:
        return []
    names = sorted({*provinces, *provinces.values()}, key=len, reverse=True)
    starts = re.compile("(?:" + "|".join(map(re.escape, names)) + ")") if names else None
    province = checked["province"].astype(str) if "province" in checked else pd.Series("", index=checked.index)
    address = checked["address"].astype(str)
    suspects = (province == "") & (address != "") & providers.isin(ID_RULES)
    hits = []
    for row_id, value, key in zip(
        address.index[suspects].tolist(), address[suspects].tolist(), providers[suspects].tolist(), strict=True
    ):
        if starts is not None and starts.match(value):
            message = (
                f"address: '{value}' holds the province and city, but {key} needs them in their own "
                "columns; fill province and city (and district), or read the sheet with a mapping profile that has "
                'split = ["address"]'
            )
            hits.append((int(row_id), "address", value, message, "address.combined"))
    return hits
