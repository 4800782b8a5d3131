"""Sandbox of Xportcn KA TaoOrder (provider key ``xportcn-ka-taobao``).

Served at ``/xportcn-ka-taobao/api``. Same signed headers, envelope and
purchase logic as the OpenAPI sandbox (:mod:`.xportcn_open`); only the request
fields differ, per xportcn-ka-taobao-order-create.txt:
``productOrderLineList`` is a real JSON array of ``{itemId: str, skuId: str,
quantity: int, orderLineNo: str}``, ``receiver`` a JSON-encoded string, no
price and no ``purchaseAmount``. The receiver has exactly the example's six
keys (``name, phone, address, country, state, city``), none empty; ids are
strings as written (the example's ``skuId`` "SKU987654322" is not digits).

**[inferred]**: the render path (``/open/ka/order/render``) and body (the
create body's lines and receiver), and both answers (the OpenAPI shapes); the
list is ``/open/purchase/page`` as the KA status document names it; item ids
are the distributor (mp-style) ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from .schema import INTEGER, STRING, Field, ParamError, check_fields, entries, json_text, optional, required
from .upstream import Line
from .xportcn_open import XportcnOpenSandbox

RECEIVER_FIELDS = tuple(required(key, STRING) for key in ("name", "phone", "address", "country", "state", "city"))
"""The KA receiver keys (a JSON string), exactly those of the document's example, none empty."""
LINE_FIELDS = (
    required("itemId", STRING),
    required("skuId", STRING, may_be_empty=True),
    required("quantity", INTEGER),
    required("orderLineNo", STRING),
)
RENDER_LINE_FIELDS = (*LINE_FIELDS[:3], optional("orderLineNo", STRING))
"""A line as the example shows it; an empty ``skuId`` names a single-SKU item's only SKU."""


class XportcnKaTaobaoSandbox(XportcnOpenSandbox):
    """The ``xportcn-ka-taobao`` provider: render, create and list through the KA surface."""

    PROVIDER_KEY = "xportcn-ka-taobao"
    PREFIX = "/xportcn-ka-taobao/api"
    CREDENTIALS: ClassVar[Mapping[str, str]] = {
        "access_key": "sandbox-ka-taobao-ak",
        "secret": "sandbox-ka-taobao-secret",
    }
    RENDER_PATH = "/open/ka/order/render"
    CREATE_PATH = "/open/ka/order/create"
    CREATE_FIELDS: ClassVar[tuple[Field, ...]] = (
        optional("sellerOrderNumber", STRING),
        optional("orderSource", STRING),
        required("productOrderLineList", "array"),
        required("receiver", STRING),
        optional("remark", STRING),
    )

    def parse_lines(self, body: dict[str, Any], *, create: bool) -> list[Line]:
        """``productOrderLineList``: a real array (a JSON string is refused); ids as strings, quantities as integers."""
        raw = body.get("productOrderLineList")
        if not isinstance(raw, list) or not raw:
            raise ParamError("productOrderLineList must be a non-empty JSON array")
        lines = []
        for n, entry in enumerate(entries(raw, "productOrderLineList"), start=1):
            name = f"productOrderLineList[{n}]"
            check_fields(entry, LINE_FIELDS if create else RENDER_LINE_FIELDS, name)
            if entry["quantity"] <= 0:
                raise ParamError(f"{name}.quantity must be above 0")
            lines.append(
                Line(str(entry["itemId"]), str(entry["skuId"]), entry["quantity"], line_no=entry.get("orderLineNo", ""))
            )
        return lines

    def parse_receiver(self, body: dict[str, Any]) -> dict[str, str]:
        """``receiver``: a JSON string of exactly the six documented keys, none empty."""
        receiver: dict[str, str] = json_text(body, "receiver", dict)
        check_fields(receiver, RECEIVER_FIELDS, "receiver", closed=True)
        return receiver

    def parse_purchase_amount(self, body: dict[str, Any], lines: list[Line]) -> int | None:
        """The KA create carries no amount."""
        return None
