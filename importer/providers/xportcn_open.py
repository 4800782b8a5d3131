"""Xportcn OpenAPI, Taobao purchase orders (provider key ``xportcn-open``).

Source: xportcn-openapi-purchase-order-create.txt and PROVIDERS.md §3.

- Preview: ``POST /open/order/render`` with ``orderLineList`` and ``receiver``
  as JSON-encoded strings (documented on the PandaPon twin).
- Create: ``POST /open/order`` with ``purchaseAmount`` (Σ price × quantity,
  as in the example: 400 = 1 × 200 + 1 × 200), ``receiver`` (JSON string),
  ``orderLineList`` (JSON string, every value a string), ``orderSource`` and
  ``sellerOrderNumber`` (our external id).
- Lookup: ``POST /open/purchase/page`` filtered by ``sellerOrderNumber``.

Every answer is HTTP 200 with ``{requestId, code, developId, msg, data}``;
``code == 200`` is success, and a successful create may still refuse single
lines in ``subOrderVOS[].errorCode/errorMessage``.

**[inferred]** (not in the public documents; confirm against a live account):
the render answer's shape, that money is in fen (``purchaseAmount``, line
``price``, render amounts), that ``originPrice``/``discountPrice`` are unit
prices, the error codes other than 3005, and the list endpoint's body and answer.
Whether ``purchaseAmount`` includes China freight is not stated; the example's
arithmetic has none (account option ``purchase_amount_includes_freight``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from ..errors import OutcomeUnknown, Rejected
from ..models import LineCreation, LinePreview, OrderCreation, OrderDraft, OrderLine, OrderPreview
from .base import ApiRequest, Found, JsonDict, LookupResult, Unsure, compact_json, fen_to_yuan, yuan_to_fen
from .capabilities import Capabilities, Fact, Lookup
from .fields import DOCUMENTED, INFERRED, Endpoint, RequestField
from .upstream import CURRENCY, as_list, as_object, match_lines, preview_from_render, text
from .xportcn import HEADER_FIELDS, XPORTCN_CONFIG, XportcnProvider, order_page_records

PAGE_PATH = "/open/purchase/page"
DEFAULT_COUNTRY = "中国"
DOC = "xportcn-openapi-purchase-order-create.txt"
TWIN_RENDER = "PandaPon twin api-250496540 (PROVIDERS.md §3)"
PREVIEW = Fact(
    "/open/order/render",
    "documented",
    "PROVIDERS.md §3 'purchase order render': path and body from the PandaPon twin api-250496540; answer inferred",
)
"""The preview call: the capability, the endpoint table and the render path all read it."""
CHECK_LINE = {"itemId": 600120680003951077, "quantity": "1", "skuId": 4951323355633}
"""The render example's line (PandaPon twin): previewing it buys nothing."""


def _receiver_field(key: str, column: str, default: str = "") -> RequestField:
    return RequestField(f"receiver.{key}", f"sheet {column}", DOCUMENTED, f"{DOC}, example", default, column)


RECEIVER_FIELDS: tuple[RequestField, ...] = (
    _receiver_field("zip", "zip"),
    _receiver_field("country", "country", DEFAULT_COUNTRY),
    _receiver_field("address", "address"),
    _receiver_field("city", "city"),
    _receiver_field("phone", "receiver_phone"),
    _receiver_field("mobile_phone", "receiver_mobile"),
    _receiver_field("district", "district"),
    _receiver_field("name", "receiver_name"),
    _receiver_field("state", "province"),
)
"""The Taobao Global receiver keys of the OpenAPI example (a JSON-encoded string)."""


class XportcnOpen(XportcnProvider):
    """Adapter for Xportcn OpenAPI's Taobao purchase orders."""

    key = "xportcn-open"
    title = "Xportcn OpenAPI (Taobao)"
    default_base_url = "https://www.xportcn.com/api"
    sandbox_prefix = "/xportcn/api"
    columns = ("order_source",)
    RENDER_PATH = PREVIEW.value
    CREATE_PATH = "/open/order"
    CONFIG = (
        *XPORTCN_CONFIG,
        ("order_source", "not sent", "orderSource when the sheet has no order_source column"),
        ("purchase_amount_includes_freight", "false", "add the previewed China freight to purchaseAmount"),
    )
    ENDPOINTS = (
        Endpoint("preview", "POST", PREVIEW.value, PREVIEW.basis, PREVIEW.source, "before create"),
        Endpoint("create", "POST", CREATE_PATH, DOCUMENTED, f"{DOC} (marked to be deprecated)", "once per order"),
        Endpoint("check-config", "POST", RENDER_PATH, DOCUMENTED, TWIN_RENDER + ", with its example line", "on demand"),
    )
    FIELDS = (
        *HEADER_FIELDS,
        RequestField("orderLineList", "JSON string of the lines", DOCUMENTED, f"{DOC}, example"),
        RequestField(
            "orderLineList[].itemId", "sheet item_id, as a string", DOCUMENTED, f"{DOC}, example", "", "item_id"
        ),
        RequestField(
            "orderLineList[].orderLineNo", "sheet line_no", DOCUMENTED, f"{DOC}, example", "1, 2, ...", "line_no"
        ),
        RequestField(
            "orderLineList[].quantity", "sheet quantity, as a string", DOCUMENTED, f"{DOC}, example", "", "quantity"
        ),
        RequestField(
            "orderLineList[].price",
            "previewed unit price in fen, as a string",
            INFERRED,
            'the example sends "1"; the unit is not stated (upstream: fen)',
            "",
            "unit_price",
        ),
        RequestField("orderLineList[].currency", "CNY", DOCUMENTED, f"{DOC}, example", "CNY"),
        RequestField("orderLineList[].skuId", "sheet sku_id, as a string", DOCUMENTED, f"{DOC}, example", "", "sku_id"),
        RequestField("receiver", "JSON string of the receiver", DOCUMENTED, f"{DOC}, example"),
        *RECEIVER_FIELDS,
        RequestField(
            "purchaseAmount",
            "Σ price × quantity, in fen",
            DOCUMENTED,
            f"{DOC}, example (400 = 1 × 200 + 1 × 200); the unit is inferred",
            "no freight (purchase_amount_includes_freight = false)",
        ),
        RequestField(
            "orderSource",
            "sheet order_source, else option order_source",
            DOCUMENTED,
            f"{DOC}, example",
            "not sent",
            "order_source",
        ),
        RequestField("sellerOrderNumber", "the importer's external id", DOCUMENTED, f"{DOC}, example"),
    )
    capabilities = Capabilities(
        caller_id_field=Fact(
            "sellerOrderNumber",
            "documented",
            "xportcn-openapi-purchase-order-create.txt, create body; PROVIDERS.md §3 'the only caller reference'",
        ),
        repeated_id=Fact(
            "not documented", "inferred", "PROVIDERS.md §3: dedupe on sellerOrderNumber not documented, assume none"
        ),
        lookup=Fact(
            Lookup(
                "POST",
                PAGE_PATH,
                "{pageNum: 1, pageSize: 50, sellerOrderNumber}",
                "OI0123456789ABCDEF0123",
                found={
                    "code": 200,
                    "data": {
                        "records": [
                            {
                                "orderNo": "1031992847781331418",
                                "sellerOrderNumber": "OI0123456789ABCDEF0123",
                                "subOrderVOS": [],
                            }
                        ],
                        "total": 1,
                    },
                },
                absent={"code": 200, "data": {"records": [], "total": 0}},
            ),
            "inferred",
            "PROVIDERS.md §1 'TaoBaoOrderList': the KA status document names /open/purchase/page; "
            "its body and answer are not documented",
        ),
        money_unit=Fact("fen", "inferred", "PROVIDERS.md §3: purchaseAmount's unit is not stated; upstream uses fen"),
        partial_create=Fact(
            True, "documented", "xportcn-openapi-purchase-order-create.txt, create answer subOrderVOS[].errorCode"
        ),
        splits_by_seller=Fact(False, "documented", "xportcn-openapi-purchase-order-create.txt: one data.orderNo"),
        preview=PREVIEW,
        create_needs_preview=Fact(
            True, "documented", f"{DOC}: create sends purchaseAmount and each line's price, read from the preview"
        ),
    )

    # ----- preview ---------------------------------------------------------------------
    def build_preview_request(self, order: OrderDraft) -> ApiRequest:
        lines = [{"itemId": ln.item_id, "quantity": str(ln.quantity), "skuId": ln.sku_id} for ln in order.lines]
        body = {"orderLineList": compact_json(lines), "receiver": compact_json(receiver_fields(order))}
        return ApiRequest("POST", self.RENDER_PATH, json=body)

    def parse_preview(self, order: OrderDraft, body: JsonDict) -> OrderPreview:
        """Parse the render answer: the upstream render result ([inferred], see :mod:`.upstream`)."""
        return preview_from_render(order, as_object(body.get("data")))

    # ----- create ----------------------------------------------------------------------
    def build_create_request(self, order: OrderDraft, preview: OrderPreview, external_id: str) -> ApiRequest:
        """The documented create body; every value inside ``orderLineList`` is a string, as in the example."""
        lines = []
        total_fen = 0
        for line in order.lines:
            unit_fen = self._planned_fen(order, line, preview)
            total_fen += unit_fen * line.quantity
            lines.append(
                {
                    "itemId": line.item_id,
                    "orderLineNo": line.line_no,
                    "quantity": str(line.quantity),
                    "price": str(unit_fen),  # [inferred] fen, like purchaseAmount
                    "currency": CURRENCY,
                    "skuId": line.sku_id,
                }
            )
        if preview.freight is not None and self.option_flag("purchase_amount_includes_freight", False):
            total_fen += yuan_to_fen(preview.freight)
        body: dict[str, Any] = {
            "purchaseAmount": total_fen,  # int64: Σ price × quantity as in the example; the unit is [inferred] fen
            "receiver": compact_json(receiver_fields(order)),
            "orderLineList": compact_json(lines),
        }
        source = order.extra.get("order_source") or self.account.options.get("order_source")
        if source:
            body["orderSource"] = str(source)
        body["sellerOrderNumber"] = external_id
        return ApiRequest("POST", self.CREATE_PATH, json=body)

    def _planned_fen(self, order: OrderDraft, line: OrderLine, preview: OrderPreview) -> int:
        """The unit price in fen, from the preview (the sheet's price only as a fallback)."""
        planned = preview.lines.get(line.line_no, LinePreview())
        unit = planned.unit_price if planned.unit_price is not None else line.unit_price
        if unit is None:
            raise Rejected(
                f"line {line.line_no} of order {order.order_ref} has no previewed price; preview the order first",
                provider=self.key,
                endpoint=f"POST {self.CREATE_PATH}",
            )
        return yuan_to_fen(unit)

    def parse_create(self, order: OrderDraft, body: JsonDict) -> OrderCreation:
        """Parse the create answer (documented).

        data: {id: "1031992847890383164", orderNo: "1031992847781331418", createTime: "2023-10-18 18:11:08",
               subOrderVOS: [{subOrderId, orderNo, quantity, title, purchaseCurrency, purchaseAmount, itemId,
                              domesticPostFee, closeReason, skuId, status, taobaoPurchaseId,
                              taobaoSubPurchaseId, errorCode, errorMessage}]}
        A line failed when its errorCode or errorMessage is set. purchaseAmount and
        domesticPostFee are null in the example; when given they are [inferred] fen.
        A success with neither an ``orderNo`` nor a refused line proves nothing
        either way, so it is an OutcomeUnknown, never a refusal.
        """
        data = as_object(body.get("data"))
        subs = [as_object(s) for s in as_list(data.get("subOrderVOS"))]
        refused = any(text(s.get("errorCode")) or text(s.get("errorMessage")) for s in subs)
        if not text(data.get("orderNo")) and not refused:
            raise OutcomeUnknown(
                "the provider answered success without an order number; check the order by hand",
                provider=self.key,
                endpoint=f"POST {self.CREATE_PATH}",
            )
        if not subs:
            order_no = text(data.get("orderNo"))
            lines = {line.line_no: LineCreation(provider_order_id=order_no) for line in order.lines}
            return OrderCreation(ok=True, provider_order_ids=(order_no,), lines=lines)
        return creation_from_data(order.lines, data)

    def check_options(self) -> None:
        self.option_flag("purchase_amount_includes_freight", False)

    def check_request(self) -> ApiRequest | None:
        """The documented render with the twin document's example line: it prices, and buys nothing."""
        receiver = {**dict.fromkeys(("zip", "phone", "district"), ""), "country": DEFAULT_COUNTRY}
        receiver.update(address="-", city="-", mobile_phone="13800000000", name="check-config", state="-")
        body = {"orderLineList": compact_json([CHECK_LINE]), "receiver": compact_json(receiver)}
        return ApiRequest("POST", self.RENDER_PATH, json=body)

    # ----- lookup -------------------------------------------------------------------------
    def lookup_request(self, external_id: str) -> ApiRequest:
        return ApiRequest("POST", PAGE_PATH, json={"pageNum": 1, "pageSize": 50, "sellerOrderNumber": external_id})

    def parse_lookup(self, external_id: str, body: JsonDict) -> LookupResult:
        """Read the order list, filtered by ``sellerOrderNumber`` ([inferred], see ``capabilities.lookup``).

        data: {records: [{id, orderNo, sellerOrderNumber, orderSource, status, createTime, purchaseAmount,
                          subOrderVOS: [... as on create, plus orderLineNo]}], total, size, current, pages}
        Absent only for ``records: []`` with ``total: 0``. Found when every record
        carries the id asked for and an ``orderNo``; several records for one id
        mean it was created more than once, and all their order numbers are
        returned so the duplicate shows. Any other shape is Unsure.
        """
        return read_order_page(body, "sellerOrderNumber", external_id)


def read_order_page(body: JsonDict, reference_field: str, external_id: str) -> LookupResult:
    """A lookup result from an Xportcn order page ``data: {records: [...], total}`` filtered by our id."""
    listed = order_page_records(body, reference_field, external_id)
    if not isinstance(listed, list):
        return listed
    if any(not text(r.get("orderNo")) for r in listed):
        return Unsure("the order list shows an order without orderNo")
    records = sorted(listed, key=lambda r: str(r.get("createTime") or ""))
    first = creation_from_record(records[0])
    order_nos = tuple(dict.fromkeys(text(r.get("orderNo")) for r in records))
    return Found(
        OrderCreation(
            ok=first.ok, provider_order_ids=order_nos, lines=first.lines, total=first.total, currency=first.currency
        )
    )


# ----- helpers shared by the parse functions ------------------------------------------------


def receiver_fields(order: OrderDraft) -> dict[str, str]:
    """The Taobao Global receiver keys, in the documented example's order."""
    r = order.receiver
    return {
        "zip": r.zip,
        "country": r.country or DEFAULT_COUNTRY,
        "address": r.address,
        "city": r.city,
        "phone": r.phone,
        "mobile_phone": r.mobile,
        "district": r.district,
        "name": r.name,
        "state": r.province,
    }


def creation_from_data(lines: Sequence[OrderLine], data: Mapping[str, Any]) -> OrderCreation:
    """An OrderCreation from a create ``data`` object, lines matched by item and SKU."""
    order_no = text(data.get("orderNo"))
    subs = [as_object(s) for s in as_list(data.get("subOrderVOS"))]
    matches = match_lines(lines, subs, lambda s: s)
    created = {line.line_no: _line_creation(sub, order_no) for line, sub in zip(lines, matches, strict=True)}
    return _creation(order_no, created, _freight(subs))


def creation_from_record(record: Mapping[str, Any]) -> OrderCreation:
    """An OrderCreation from a list record, lines keyed by the ``orderLineNo`` the list gives back."""
    order_no = text(record.get("orderNo"))
    created = {}
    for sub in (as_object(s) for s in as_list(record.get("subOrderVOS"))):
        line_no = text(sub.get("orderLineNo"))
        if line_no:
            created[line_no] = _line_creation(sub, order_no)
    return _creation(order_no, created, _freight(as_list(record.get("subOrderVOS"))))


def _freight(subs: Iterable[Any]) -> Decimal:
    """China freight of the bought lines: ``domesticPostFee`` ([inferred] fen), null counted as 0."""
    fees = (fen_to_yuan(as_object(s).get("domesticPostFee")) for s in subs if as_object(s).get("subOrderId"))
    return sum((fee for fee in fees if fee is not None), Decimal("0.00"))


def _creation(order_no: str, created: Mapping[str, LineCreation], freight: Decimal) -> OrderCreation:
    """Total = bought lines plus their freight, when every bought line has an amount."""
    failed = [no for no, line in created.items() if line.error]
    bought = [line for line in created.values() if not line.error]
    amounts = [line.amount for line in bought if line.amount is not None]
    total = sum(amounts, freight) if bought and len(amounts) == len(bought) else None
    error = None
    if failed:
        error = "every line was refused" if not bought else f"{len(failed)} of {len(created)} lines were refused"
    return OrderCreation(
        ok=not failed,
        provider_order_ids=(order_no,) if order_no else (),
        lines=created,
        total=total,
        currency=CURRENCY if total is not None else "",
        error=error,
    )


def _line_creation(sub: Mapping[str, Any] | None, order_no: str) -> LineCreation:
    if sub is None:
        return LineCreation(error="the provider's answer did not mention this line")
    code = text(sub.get("errorCode")) or None
    message = text(sub.get("errorMessage")) or None
    if code or message:
        return LineCreation(error=message or f"refused with code {code}", error_code=code)
    if not sub.get("subOrderId"):
        return LineCreation(error="the provider gave this line no sub-order id")
    amount = fen_to_yuan(sub.get("purchaseAmount"))
    return LineCreation(
        provider_order_id=text(sub.get("orderNo")) or order_no,
        provider_line_id=text(sub.get("subOrderId")),
        amount=amount,
        currency=text(sub.get("purchaseCurrency")) or (CURRENCY if amount is not None else ""),
    )
