"""The example order lines a template shows, one two-line order per provider.

Templates print them in their example rows, and the bundled sandbox sells
exactly these items (it reads them from here), so an example order imports
against the sandbox as it stands. Keeping them here lets the templates run
without the sandbox: real code never imports the stand-in.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

_TAOBAO_MIRROR = (  # item ids of the Xportcn Taobao mirror (18 digits)
    {"item_id": "600126245031041190", "sku_id": "5016042822039", "quantity": "2"},
    {"item_id": "600129202197070073", "sku_id": "4860968496626", "quantity": "1"},
)
_ALIBABA_1688 = (  # 1688 offer ids with their 32-hex specIds
    {"item_id": "889512351602", "sku_id": "530ad0e3e64c05d35bc0b1a2ec2a0652", "quantity": "2"},
    {"item_id": "743109225518", "sku_id": "2c9d4e6f8a0b1c3d5e7f9a1b3c5d7e9f", "quantity": "3"},
)
_TAOBAO_RAW = (  # raw Taobao ids, as a buyer copies them; the adapters map them to mpId / mpSkuId first
    {"item_id": "652711530188", "sku_id": "4412088130021", "quantity": "2"},
    {"item_id": "652734409921", "sku_id": "4420517730011", "quantity": "1"},
)

TEMPLATE_LINES: dict[str, tuple[dict[str, str], ...]] = {
    "xportcn-open": _TAOBAO_MIRROR,
    "xportcn-ka-taobao": _TAOBAO_MIRROR,
    "xportcn-ka-1688": _ALIBABA_1688,
    "dajisaas": _TAOBAO_RAW,
    "shanjing": _TAOBAO_RAW,
}
"""Per provider key, the lines of the example order (item_id, sku_id, quantity as text)."""


def example_lines(provider: str) -> list[dict[str, str]]:
    """A fresh copy of ``provider``'s example lines."""
    return [dict(line) for line in TEMPLATE_LINES[provider]]


def row_fingerprint(cells: Mapping[str, str]) -> str:
    """A short hash of a row's filled cells (column -> text, outer spaces ignored).

    A template names each example row after this fingerprint; on import, a
    marked row whose cells still give the same fingerprint is the untouched
    example and is skipped, while a row the user changed is read as an order.
    """
    filled = sorted((str(column), str(value).strip()) for column, value in cells.items() if str(value).strip())
    return hashlib.sha256(json.dumps(filled, ensure_ascii=False).encode()).hexdigest()[:20]
