"""Xportcn KA client, TaoOrder (provider key ``xportcn-ka-taobao``).

Source: xportcn-ka-taobao-order-create.txt and PROVIDERS.md §1. Same signed
headers and envelope as the OpenAPI (:mod:`.xportcn_open`), whose parsing this
adapter reuses; the request bodies differ:

- Create: ``POST /open/ka/order/create`` (marked deprecated) with
  ``sellerOrderNumber`` (our external id), ``orderSource``,
  ``productOrderLineList`` as a **real array** of ``{itemId: str, skuId: str,
  quantity: int, orderLineNo: str}``, ``receiver`` as a **JSON string**, and
  ``remark``. No price and no amount are sent.

**[inferred]**: TaoBaoOrderRender's path (``/open/ka/order/render``) and body
(the create body's lines and receiver); that both answers have the OpenAPI
shapes (render: upstream render data; create: ``subOrderVOS``); that the list
endpoint is ``/open/purchase/page``; that item ids are the distributor ids.
"""

from __future__ import annotations

from typing import Any

from ..models import OrderDraft, OrderPreview
from .base import ApiRequest, compact_json
from .capabilities import Capabilities, Fact
from .xportcn_open import XportcnOpen, receiver_fields


class XportcnKaTaobao(XportcnOpen):
    """Adapter for the Xportcn KA TaoOrder surface."""

    key = "xportcn-ka-taobao"
    title = "Xportcn KA (Taobao)"
    sandbox_prefix = "/xportcn-ka-taobao/api"
    RENDER_PATH = "/open/ka/order/render"
    CREATE_PATH = "/open/ka/order/create"
    capabilities = Capabilities(
        caller_id_field=Fact(
            "sellerOrderNumber",
            "documented",
            "xportcn-ka-taobao-order-create.txt, TaoBaoOrderCreate body; PROVIDERS.md §1 'the only caller reference'",
        ),
        repeated_id=Fact("not documented", "inferred", "PROVIDERS.md §1 'Dedupe and idempotency': not documented"),
        lookup=XportcnOpen.capabilities.lookup,
        money_unit=Fact("fen", "inferred", "PROVIDERS.md §1: no amount is sent; answers read as the OpenAPI's (fen)"),
        partial_create=Fact(True, "inferred", "PROVIDERS.md §1: success shape not documented, probably as §3"),
        splits_by_seller=Fact(False, "inferred", "PROVIDERS.md §1: success shape probably as §3 (one orderNo)"),
        preview=Fact(RENDER_PATH, "inferred", "PROVIDERS.md §1 'TaoBaoOrderRender': path not recovered"),
    )

    def build_preview_request(self, order: OrderDraft) -> ApiRequest:
        body = {"productOrderLineList": _lines(order), "receiver": compact_json(receiver_fields(order))}
        return ApiRequest("POST", self.RENDER_PATH, json=body)

    def build_create_request(self, order: OrderDraft, preview: OrderPreview, external_id: str) -> ApiRequest:
        """The documented create body, keys in the example's order."""
        body: dict[str, Any] = {"sellerOrderNumber": external_id}
        source = order.extra.get("order_source") or self.account.options.get("order_source")
        if source:
            body["orderSource"] = str(source)
        body["productOrderLineList"] = _lines(order)
        body["receiver"] = compact_json(receiver_fields(order))
        if order.remark:
            body["remark"] = order.remark
        return ApiRequest("POST", self.CREATE_PATH, json=body)


def _lines(order: OrderDraft) -> list[dict[str, Any]]:
    return [
        {"itemId": line.item_id, "skuId": line.sku_id, "quantity": line.quantity, "orderLineNo": line.line_no}
        for line in order.lines
    ]
