"""Xportcn OpenAPI, Taobao purchase orders (provider key ``xportcn-open``).

Source: xportcn-openapi-purchase-order-create.txt and PROVIDERS.md §3.

- Preview: ``POST /open/order/render`` with ``orderLineList`` and ``receiver``
  as JSON-encoded strings (documented on the PandaPon twin).
- Create: ``POST /open/order`` with ``purchaseAmount``, ``receiver`` (JSON
  string), ``orderLineList`` (JSON string, every value a string),
  ``orderSource`` and ``sellerOrderNumber`` (our external id).
- Lookup: ``POST /open/purchase/page`` filtered by ``sellerOrderNumber``.

Every answer is HTTP 200 with ``{requestId, code, developId, msg, data}``;
``code == 200`` is success, and a successful create may still refuse single
lines in ``subOrderVOS[].errorCode/errorMessage``.

**[inferred]** (not in the public documents; confirm against a live account):
the render answer's shape, that money is in fen (``purchaseAmount``, line
``price``, render amounts), that ``originPrice``/``discountPrice`` are unit
prices, the error codes other than 3005, and the list endpoint's body and answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from ..errors import OutcomeUnknown, Rejected
from ..models import LineCreation, LinePreview, OrderCreation, OrderDraft, OrderLine, OrderPreview
from .base import Absent, ApiRequest, Found, JsonDict, LookupResult, Unsure, compact_json, fen_to_yuan, yuan_to_fen
from .capabilities import Capabilities, Fact, Lookup
from .upstream import CURRENCY, as_list, as_object, match_lines, preview_from_render, text
from .xportcn import XportcnProvider

PAGE_PATH = "/open/purchase/page"
DEFAULT_COUNTRY = "中国"


class XportcnOpen(XportcnProvider):
    """Adapter for Xportcn OpenAPI's Taobao purchase orders."""

    key = "xportcn-open"
    title = "Xportcn OpenAPI (Taobao)"
    default_base_url = "https://www.xportcn.com/api"
    sandbox_prefix = "/xportcn/api"
    columns = ("order_source",)
    RENDER_PATH = "/open/order/render"
    CREATE_PATH = "/open/order"
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
        preview=Fact(RENDER_PATH, "inferred", "PROVIDERS.md §3: path from the PandaPon twin document"),
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
            unit_fen, amount_fen = self._planned_fen(order, line, preview)
            total_fen += amount_fen
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
        total_fen += yuan_to_fen(preview.freight) if preview.freight is not None else 0
        body: dict[str, Any] = {
            "purchaseAmount": total_fen,  # int64; the unit is [inferred] fen (upstream purchase_amount is fen)
            "receiver": compact_json(receiver_fields(order)),
            "orderLineList": compact_json(lines),
        }
        source = order.extra.get("order_source") or self.account.options.get("order_source")
        if source:
            body["orderSource"] = str(source)
        body["sellerOrderNumber"] = external_id
        return ApiRequest("POST", self.CREATE_PATH, json=body)

    def _planned_fen(self, order: OrderDraft, line: OrderLine, preview: OrderPreview) -> tuple[int, int]:
        """Unit price and line amount in fen, from the preview (the sheet's price only as a fallback)."""
        planned = preview.lines.get(line.line_no, LinePreview())
        unit = planned.unit_price if planned.unit_price is not None else line.unit_price
        if unit is None:
            raise Rejected(
                f"line {line.line_no} of order {order.order_ref} has no previewed price; preview the order first",
                provider=self.key,
                endpoint=f"POST {self.CREATE_PATH}",
            )
        amount = planned.amount if planned.amount is not None else unit * line.quantity
        return yuan_to_fen(unit), yuan_to_fen(amount)

    def parse_create(self, order: OrderDraft, body: JsonDict) -> OrderCreation:
        """Parse the create answer (documented).

        data: {id: "1031992847890383164", orderNo: "1031992847781331418", createTime: "2023-10-18 18:11:08",
               subOrderVOS: [{subOrderId, orderNo, quantity, title, purchaseCurrency, purchaseAmount, itemId,
                              domesticPostFee, closeReason, skuId, status, taobaoPurchaseId,
                              taobaoSubPurchaseId, errorCode, errorMessage}]}
        A line failed when its errorCode or errorMessage is set. purchaseAmount and
        domesticPostFee are null in the example; when given they are [inferred] fen.
        """
        data = body.get("data")
        if not isinstance(data, dict):
            raise OutcomeUnknown(
                "the provider answered success without order data",
                provider=self.key,
                endpoint=f"POST {self.CREATE_PATH}",
            )
        return creation_from_data(order.lines, data)

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
    data = body.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("records"), list):
        return Unsure("the order list answer has no data.records list")
    total = data.get("total")
    if isinstance(total, bool) or not isinstance(total, int):
        return Unsure("the order list answer has no whole-number data.total")
    listed = data["records"]
    if not listed:
        return Absent() if total == 0 else Unsure(f"the order list says {total} orders but shows none")
    if any(not isinstance(r, dict) or text(r.get(reference_field)) != external_id for r in listed):
        return Unsure(f"the order list was not filtered by {reference_field}")
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
