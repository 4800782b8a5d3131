"""Sandbox of Xportcn KA TaoOrder (provider key ``xportcn-ka-taobao``).

Served at ``/xportcn-ka-taobao/api``. Same signed headers, envelope and
purchase logic as the OpenAPI sandbox (:mod:`.xportcn_open`); only the request
fields differ, per xportcn-ka-taobao-order-create.txt:
``productOrderLineList`` is a real JSON array of ``{itemId: str, skuId: str,
quantity: int, orderLineNo: str}``, ``receiver`` a JSON-encoded string, no
price and no ``purchaseAmount``.

**[inferred]**: the render path (``/open/ka/order/render``) and body (the
create body's lines and receiver), and both answers (the OpenAPI shapes); the
list is ``/open/purchase/page`` as the KA status document names it; item ids
are the distributor (mp-style) ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from .upstream import Line
from .xportcn_open import ParamError, XportcnOpenSandbox, digits_id


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

    def parse_lines(self, body: dict[str, Any], *, create: bool) -> list[Line]:
        """``productOrderLineList``: a real array (a JSON string is refused), quantities as integers."""
        raw = body.get("productOrderLineList")
        if not isinstance(raw, list) or not raw:
            raise ParamError("productOrderLineList must be a non-empty JSON array")
        lines = []
        for n, entry in enumerate(raw, start=1):
            name = f"productOrderLineList[{n}]"
            if not isinstance(entry, dict):
                raise ParamError(f"{name} must be an object")
            quantity = entry.get("quantity")
            if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
                raise ParamError(f"{name}.quantity must be a whole number above 0; got {quantity!r}")
            item_id, sku_id = entry.get("itemId"), entry.get("skuId", "")
            if not isinstance(item_id, str) or not isinstance(sku_id, str):
                raise ParamError(f"{name}.itemId and skuId must be strings")
            line_no = entry.get("orderLineNo", "")
            if create and not (isinstance(line_no, str) and line_no):
                raise ParamError(f"{name}.orderLineNo is required")
            lines.append(
                Line(
                    digits_id(item_id, f"{name}.itemId"),
                    digits_id(sku_id, f"{name}.skuId", blank_ok=True),
                    quantity,
                    line_no=str(line_no),
                )
            )
        return lines

    def parse_purchase_amount(self, body: dict[str, Any]) -> int | None:
        """The KA create carries no amount."""
        return None
