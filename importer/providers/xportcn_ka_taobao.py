"""Xportcn KA client, TaoOrder (provider key ``xportcn-ka-taobao``).

Source: xportcn-ka-taobao-order-create.txt and PROVIDERS.md §1. Same signed
headers and envelope as the OpenAPI (:mod:`.xportcn_open`), whose parsing this
adapter reuses; the request bodies differ:

- Create: ``POST /open/ka/order/create`` (marked deprecated) with
  ``sellerOrderNumber`` (our external id), ``orderSource`` (default
  ``TAOBAO``, as the example sends), ``productOrderLineList`` as a **real
  array** of ``{itemId: str, skuId: str, quantity: int, orderLineNo: str}``,
  ``receiver`` as a **JSON string** of exactly the example's keys ``name,
  phone, address, country, state, city`` (``phone`` is the mobile when the
  sheet has only a mobile), and ``remark``. No price and no amount are sent.
- Preview: no document gives TaoBaoOrderRender's path or body, and the create
  needs no price, so by default an order goes straight to create (the run's
  warning says so). Setting ``preview_path`` (e.g. the inferred
  ``/open/ka/order/render``) calls it with the create body's lines and receiver.

**[inferred]**: the success answer (the OpenAPI's ``data.subOrderVOS``; an
answer without an order number is an OutcomeUnknown, never a refusal); that
the list endpoint is ``/open/purchase/page``; that item ids are the ids the
KA surface sells by.
"""

from __future__ import annotations

from typing import Any

from ..models import OrderDraft, OrderPreview
from .base import ApiRequest, compact_json
from .capabilities import Capabilities, Fact
from .fields import DOCUMENTED, INFERRED, Endpoint, RequestField
from .xportcn import HEADER_FIELDS, XPORTCN_CONFIG
from .xportcn_open import DEFAULT_COUNTRY, XportcnOpen

DOC = "xportcn-ka-taobao-order-create.txt"
DEFAULT_ORDER_SOURCE = "TAOBAO"
INFERRED_RENDER_PATH = "/open/ka/order/render"
PREVIEW = Fact(
    INFERRED_RENDER_PATH,
    "inferred",
    "PROVIDERS.md §1 'TaoBaoOrderRender': in the navigation only; path and body not recovered",
)
"""The preview call: the capability and the endpoint table both read it."""


def _field(name: str, value: str, column: str = "", default: str = "") -> RequestField:
    return RequestField(name, value, DOCUMENTED, f"{DOC}, example", default, column)


class XportcnKaTaobao(XportcnOpen):
    """Adapter for the Xportcn KA TaoOrder surface."""

    key = "xportcn-ka-taobao"
    title = "Xportcn KA (Taobao)"
    sandbox_prefix = "/xportcn-ka-taobao/api"
    RENDER_PATH = INFERRED_RENDER_PATH
    CREATE_PATH = "/open/ka/order/create"
    CONFIG = (
        *XPORTCN_CONFIG,
        ("order_source", DEFAULT_ORDER_SOURCE, "orderSource when the sheet has no order_source column"),
        ("preview_path", "not set", "a preview path to call before create (none is documented)"),
    )
    ENDPOINTS = (
        Endpoint(
            "preview",
            "POST",
            "preview_path (e.g. /open/ka/order/render)",
            PREVIEW.basis,
            PREVIEW.source,
            "not called: orders go straight to create unless preview_path is set",
        ),
        Endpoint("create", "POST", CREATE_PATH, DOCUMENTED, f"{DOC} (marked deprecated)", "once per order"),
        Endpoint("check-config", "-", "-", INFERRED, "no documented call buys nothing", "says 'not checked'"),
    )
    FIELDS = (
        *HEADER_FIELDS,
        _field("sellerOrderNumber", "the importer's external id"),
        _field("orderSource", "sheet order_source, else option order_source", "order_source", DEFAULT_ORDER_SOURCE),
        _field("productOrderLineList", "array of the lines"),
        _field("productOrderLineList[].itemId", "sheet item_id, as a string", "item_id"),
        _field("productOrderLineList[].skuId", "sheet sku_id, as a string", "sku_id"),
        _field("productOrderLineList[].quantity", "sheet quantity, as an integer", "quantity"),
        _field("productOrderLineList[].orderLineNo", "sheet line_no", "line_no", "1, 2, ..."),
        _field("receiver", "JSON string of the receiver"),
        _field("receiver.name", "sheet receiver_name", "receiver_name"),
        _field("receiver.phone", "sheet receiver_phone, else receiver_mobile", "receiver_mobile"),
        _field("receiver.address", "sheet address", "address"),
        _field("receiver.country", "sheet country", "country", DEFAULT_COUNTRY),
        _field("receiver.state", "sheet province", "province"),
        _field("receiver.city", "sheet city", "city"),
        _field("remark", "sheet order_remark", "order_remark", "not sent"),
    )
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
        preview=PREVIEW,
        create_needs_preview=Fact(False, "documented", f"{DOC}, TaoBaoOrderCreate body: no price or amount is sent"),
    )

    def build_preview_request(self, order: OrderDraft) -> ApiRequest:
        """The configured preview path (none is documented) with the create body's lines and receiver."""
        body = {"productOrderLineList": _lines(order), "receiver": compact_json(ka_receiver(order))}
        return ApiRequest("POST", self.option_text("preview_path") or self.RENDER_PATH, json=body)

    def build_create_request(self, order: OrderDraft, preview: OrderPreview, external_id: str) -> ApiRequest:
        """The documented create body, keys in the example's order."""
        source = order.extra.get("order_source") or self.option_text("order_source", DEFAULT_ORDER_SOURCE)
        body: dict[str, Any] = {
            "sellerOrderNumber": external_id,
            "orderSource": source or DEFAULT_ORDER_SOURCE,
            "productOrderLineList": _lines(order),
            "receiver": compact_json(ka_receiver(order)),
        }
        if order.remark:
            body["remark"] = order.remark
        return ApiRequest("POST", self.CREATE_PATH, json=body)

    def check_request(self) -> None:
        """No document gives a TaoOrder call that buys nothing."""
        return None


def ka_receiver(order: OrderDraft) -> dict[str, str]:
    """The KA receiver: exactly the example's six keys; a mobile-only sheet's number goes in ``phone``."""
    r = order.receiver
    return {
        "name": r.name,
        "phone": r.phone or r.mobile,
        "address": r.address,
        "country": r.country or DEFAULT_COUNTRY,
        "state": r.province,
        "city": r.city,
    }


def _lines(order: OrderDraft) -> list[dict[str, Any]]:
    return [
        {"itemId": line.item_id, "skuId": line.sku_id, "quantity": line.quantity, "orderLineNo": line.line_no}
        for line in order.lines
    ]
