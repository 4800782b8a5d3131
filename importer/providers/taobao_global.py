"""What Dajisaas and Shanjing share: both resell the Taobao Global distributor API.

Their render and create bodies use the upstream field names (PROVIDERS.md §0,
§4, §5): ``render_item_List`` and ``order_line_list`` are JSON-encoded strings
whose ids are exact JSON integers (mpId / mpSkuId) and whose quantities are
strings; ``receiver``, ``receiver_address`` and the warehouse address are real
objects; money is in fen. They differ in auth, envelope, paths and the name of
the caller reference, which each subclass declares.

Items are bought by distributor ids, so raw Taobao ids in a sheet are mapped
first (撞库) through the provider's product endpoint; see :meth:`prepare`.
"""

from __future__ import annotations

import threading
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, ClassVar

from ..errors import OutcomeUnknown, Rejected
from ..models import LineCreation, OrderCreation, OrderDraft, OrderLine, OrderPreview, Receiver
from .base import (
    Absent,
    ApiRequest,
    Found,
    JsonDict,
    LookupResult,
    Provider,
    Unsure,
    compact_json,
    fen_to_yuan,
    yuan_to_fen,
)
from .capabilities import Lookup
from .upstream import CURRENCY, as_list, as_object, json_id, preview_from_render, text

MP_ID_MIN_DIGITS = 16
"""Ids this long are taken as distributor ids already (the documented mpIds have 16-18 digits,
raw Taobao ids 12-13); the account option ``map_items`` ("auto", "always", "never") overrides."""


CALL_PROBLEMS = frozenset({"400", "401", "403", "token_refresh", "IllegalAccessToken", "AccessTokenExpired"})
"""Refusal codes of a collision call that say nothing about the item, so they fail the whole order."""


@dataclass(frozen=True)
class ItemMapping:
    """A raw Taobao item as the provider knows it: its mpId and raw SKU id → mpSkuId."""

    raw_id: str
    mp_id: str
    skus: Mapping[str, str]
    title: str = ""

    def mp_sku_for(self, sku_id: str) -> str | None:
        """The mpSkuId for a raw SKU id (or an mpSkuId given directly); the only SKU when blank."""
        if not sku_id:
            return next(iter(self.skus.values())) if len(self.skus) == 1 else None
        if sku_id in self.skus:
            return self.skus[sku_id]
        return sku_id if sku_id in self.skus.values() else None


class TaobaoGlobalProvider(Provider):
    """Base of the adapters that resell the Taobao Global distributor API."""

    MAPPING_PATH: ClassVar[str]
    RENDER_PATH: ClassVar[str]
    CREATE_PATH: ClassVar[str]
    REFERENCE_FIELD: ClassVar[str]
    """The create field that carries the importer's external id (the caller reference)."""

    def parse_lookup(self, external_id: str, body: JsonDict) -> LookupResult:
        return read_order_query(body)

    columns = ("order_source",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._mappings: dict[str, ItemMapping | str] = {}
        self._mapping_lock = threading.Lock()

    # ----- provider differences ----------------------------------------------------------
    @abstractmethod
    def mapping_request(self, raw_id: str) -> ApiRequest:
        """The collision (撞库) call for one raw item id."""

    @abstractmethod
    def render_result(self, body: JsonDict) -> JsonDict:
        """The upstream render result ``{success, errorCode, errorMsg, data}`` inside this provider's envelope."""

    # ----- item mapping ----------------------------------------------------------------------
    def needs_mapping(self, item_id: str) -> bool:
        mode = str(self.account.options.get("map_items", "auto"))
        if mode == "never":
            return False
        return mode == "always" or len(item_id) < MP_ID_MIN_DIGITS

    def prepare(self, order: OrderDraft) -> tuple[OrderDraft, Mapping[str, str]]:
        """Swap raw Taobao ids for mpId / mpSkuId; lines that cannot be mapped are refused with the reason."""
        lines: list[OrderLine] = []
        refused: dict[str, str] = {}
        for line in order.lines:
            if not self.needs_mapping(line.item_id):
                lines.append(line)
                continue
            mapping = self.item_mapping(line.item_id)
            if isinstance(mapping, str):
                refused[line.line_no] = f"item {line.item_id} cannot be bought through {self.title}: {mapping}"
                continue
            mp_sku = mapping.mp_sku_for(line.sku_id)
            if mp_sku is None:
                refused[line.line_no] = _sku_problem(line, mapping)
                continue
            lines.append(replace(line, item_id=mapping.mp_id, sku_id=mp_sku))
        return replace(order, lines=tuple(lines)), refused

    def item_mapping(self, raw_id: str) -> ItemMapping | str:
        """The mapping of one raw id (or the provider's reason it has none).

        Asked once per run; a found mapping is also kept in the run's ledger
        (when there is one) and reused by later runs for a day.
        """
        with self._mapping_lock:
            known = self._mappings.get(raw_id)
        if known is not None:
            return known
        stored = self.mapping_store.cached_mapping(self.key, self.account.name, raw_id) if self.mapping_store else None
        if stored is not None:
            found: ItemMapping | str = ItemMapping(raw_id, stored["mp_id"], stored["skus"], stored.get("title", ""))
        else:
            found = self._ask_mapping(raw_id)
        with self._mapping_lock:
            self._mappings[raw_id] = found
        return found

    def _ask_mapping(self, raw_id: str) -> ItemMapping | str:
        request = self.mapping_request(raw_id)
        try:
            found = self.parse_mapping(raw_id, self.send(request, may_have_side_effects=False))
        except Rejected as error:
            if error.code in CALL_PROBLEMS:
                raise  # the call itself was refused (credentials, token, body): not a fact about the item
            return error.message
        if isinstance(found, ItemMapping) and self.mapping_store is not None:
            value = {"mp_id": found.mp_id, "skus": dict(found.skus), "title": found.title}
            self.mapping_store.remember_mapping(self.key, self.account.name, raw_id, value)
        return found

    def parse_mapping(self, raw_id: str, body: JsonDict) -> ItemMapping | str:
        """Read the collision answer.

        data: {mpId, itemId, title, itemType, quantity, skuList: [{skuId, mpSkuId, price, quantity, status}]}
        The docs write the SKU key as "mpSkuid"; both spellings are read.
        """
        data = as_object(body.get("data"))
        mp_id = text(data.get("mpId"))
        if not mp_id:
            return "the provider has no distributor id (mpId) for it"
        skus = {}
        for sku in (as_object(s) for s in as_list(data.get("skuList"))):
            mp_sku = text(sku.get("mpSkuId") or sku.get("mpSkuid"))
            if mp_sku:
                skus[text(sku.get("skuId")) or mp_sku] = mp_sku
        return ItemMapping(raw_id=raw_id, mp_id=mp_id, skus=skus, title=text(data.get("title")))

    # ----- preview -----------------------------------------------------------------------------
    def build_preview_request(self, order: OrderDraft) -> ApiRequest:
        items = [
            {"itemId": json_id(ln.item_id), "quantity": str(ln.quantity), "skuId": json_id(ln.sku_id)}
            for ln in order.lines
        ]
        body: dict[str, Any] = {
            "need_supplychain_service": False,
            "render_item_List": compact_json(items),
            "receiver_address": receiver_object(order.receiver),
        }
        if order.receiver.tax_id:
            body["tax_id"] = order.receiver.tax_id  # the upstream render's own field for it (Brazil)
        warehouse = self.warehouse()
        if warehouse:
            body["warehouse_address"] = warehouse
        return ApiRequest("POST", self.RENDER_PATH, json=body)

    def parse_preview(self, order: OrderDraft, body: JsonDict) -> OrderPreview:
        """The upstream render result: ``{success, errorCode, errorMsg, data: <render data>}`` ([inferred])."""
        result = self.render_result(body)
        if result.get("success") is False:
            reason = text(result.get("errorMsg")) or text(result.get("errorCode")) or "refused"
            raise self._error(Rejected, f"render refused: {reason}", ApiRequest("POST", self.RENDER_PATH))
        return preview_from_render(order, as_object(result.get("data")))

    # ----- create ------------------------------------------------------------------------------
    def build_create_request(self, order: OrderDraft, preview: OrderPreview, external_id: str) -> ApiRequest:
        """The documented create body; ids inside ``order_line_list`` are exact JSON integers, as in the examples."""
        lines = [self._create_line(order, line, preview) for line in order.lines]
        body: dict[str, Any] = {
            self.REFERENCE_FIELD: external_id,
            "purchase_amount": sum(line["price"] * int(line["quantity"]) for line in lines) + _freight_fen(preview),
            "seller_order_number": order.order_ref,
            "order_line_list": compact_json(lines),
            "receiver": receiver_object(order.receiver),
            "channel_order_type": str(self.account.options.get("channel_order_type", "PANAMA")),
            "support_partial_success": bool(self.account.options.get("support_partial_success", False)),
            "need_supply_chain_service": False,
            "need_sys_retry": False,
        }
        source = order.extra.get("order_source") or self.account.options.get("order_source")
        if source:
            body["order_source"] = str(source)
        if order.remark:
            body["order_remark"] = order.remark
        warehouse = self.warehouse()
        if warehouse:
            body["warehouse_address_info"] = warehouse
        return ApiRequest("POST", self.CREATE_PATH, json=body)

    def _create_line(self, order: OrderDraft, line: OrderLine, preview: OrderPreview) -> dict[str, Any]:
        planned = preview.lines.get(line.line_no)
        unit = planned.unit_price if planned is not None and planned.unit_price is not None else line.unit_price
        if unit is None:
            raise Rejected(
                f"line {line.line_no} of order {order.order_ref} has no previewed price; preview the order first",
                provider=self.key,
                endpoint=f"POST {self.CREATE_PATH}",
            )
        entry: dict[str, Any] = {
            "itemId": json_id(line.item_id),
            "orderLineNo": line.line_no,
            "quantity": str(line.quantity),
            "price": yuan_to_fen(unit),
            "currency": CURRENCY,
            "title": line.title,
            "skuId": json_id(line.sku_id),
        }
        if line.remark:
            entry["orderRemark"] = line.remark
        return entry

    def parse_create(self, order: OrderDraft, body: JsonDict) -> OrderCreation:
        """Parse the create answer (documented).

        ::

            data: {success, errorMessage, errorCode, paymentUrl, outerPurchaseId,
                   orderList: [{purchaseId, supplierNick, estimateAmount, estimateCurrency, sourceMarket,
                                orderLineList: [{itemId, orderLineNo, quantity, estimateAmount, estimateCurrency,
                                                 subPurchaseOrderId, skuId, supplierNick}]}]}

        ``data.success == false`` refuses the whole order. With partial success
        allowed, a line left out of every ``orderLineList`` was not bought
        ([inferred]). Lines are matched by the ``orderLineNo`` we sent.
        """
        data = body.get("data")
        endpoint = f"POST {self.CREATE_PATH}"
        if not isinstance(data, dict):
            raise OutcomeUnknown("the provider answered without order data", provider=self.key, endpoint=endpoint)
        if data.get("success") is not True:
            reason = text(data.get("errorMessage")) or "the order was refused"
            code = text(data.get("errorCode")) or None
            raise Rejected(reason, provider=self.key, endpoint=endpoint, code=code)
        return creation_from_order_list(order, data)

    # ----- shared ------------------------------------------------------------------------------
    def warehouse(self) -> dict[str, Any]:
        """The China warehouse address from the account's ``warehouse`` table (empty when not set)."""
        value = self.account.options.get("warehouse")
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, Mapping) else {}


def receiver_object(receiver: Receiver) -> dict[str, str]:
    """The upstream receiver object (real JSON, not a string) with the documented keys.

    ``tax_id`` is in the documented receiver ("tax_id": null in Dajisaas' create
    example; the upstream render names it for Brazil); it is sent only when the
    sheet gives one, so mainland orders are exactly as before.
    """
    address = {
        "zip": receiver.zip,
        "country": receiver.country or "中国",
        "address": receiver.address,
        "city": receiver.city,
        "phone": receiver.phone,
        "mobile_phone": receiver.mobile or receiver.phone,
        "district": receiver.district,
        "name": receiver.name,
        "state": receiver.province,
    }
    if receiver.tax_id:
        address["tax_id"] = receiver.tax_id
    return address


def creation_from_order_list(order: OrderDraft, data: Mapping[str, Any]) -> OrderCreation:
    """Map ``orderList[].orderLineList[]`` back to the order's lines by ``orderLineNo``."""
    groups = [as_object(g) for g in as_list(data.get("orderList"))]
    answered: dict[str, tuple[str, dict[str, Any]]] = {}
    for group in groups:
        for entry in (as_object(e) for e in as_list(group.get("orderLineList"))):
            answered[text(entry.get("orderLineNo"))] = (text(group.get("purchaseId")), entry)
    left_out = text(data.get("errorMessage")) or "the provider did not buy this line"
    lines: dict[str, LineCreation] = {}
    for line in order.lines:
        if line.line_no not in answered:
            lines[line.line_no] = LineCreation(error=left_out, error_code=text(data.get("errorCode")) or None)
            continue
        purchase_id, entry = answered[line.line_no]
        lines[line.line_no] = LineCreation(
            provider_order_id=purchase_id,
            provider_line_id=text(entry.get("subPurchaseOrderId")),
            amount=fen_to_yuan(entry.get("estimateAmount")),
            currency=text(entry.get("estimateCurrency")) or CURRENCY,
        )
    failed = [no for no, line in lines.items() if line.error]
    amounts = [fen_to_yuan(g.get("estimateAmount")) for g in groups]
    total = sum((a for a in amounts if a is not None), Decimal("0.00")) if groups else None
    return OrderCreation(
        ok=not failed,
        provider_order_ids=tuple(text(g.get("purchaseId")) for g in groups if g.get("purchaseId")),
        lines=lines,
        total=total,
        currency=text(groups[0].get("estimateCurrency")) or CURRENCY if groups else "",
        error=f"{len(failed)} of {len(lines)} lines were not bought" if failed else None,
    )


def _freight_fen(preview: OrderPreview) -> int:
    return yuan_to_fen(preview.freight) if preview.freight is not None else 0


def _sku_problem(line: OrderLine, mapping: ItemMapping) -> str:
    known = ", ".join(list(mapping.skus)[:5]) or "none"
    if not line.sku_id:
        return f"item {line.item_id} has several SKUs; put one in sku_id ({known})"
    return f"sku_id {line.sku_id} is not a SKU of item {line.item_id}; its SKUs are {known}"


def query_lookup(method: str, path: str, request: str) -> Lookup:
    """The query lookup both resellers are taken to have, with its example answers ([inferred])."""
    order = {"success": True, "orderList": [{"purchaseId": "200049919063", "orderLineList": []}]}
    return Lookup(
        method,
        path,
        request,
        "OI0123456789ABCDEF0123",
        found={"data": {"orders": [order]}},
        absent={"data": {"orders": []}},
    )


def read_order_query(body: JsonDict) -> LookupResult:
    """A lookup result from the query answer ``data: {orders: [<create data>, ...]}`` ([inferred]).

    Absent only for ``orders: []``; Found when every listed order is a create
    ``data`` object with an ``orderList`` and at least one ``purchaseId``; any
    other shape is Unsure.
    """
    data = body.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("orders"), list):
        return Unsure("the order query answer has no data.orders list")
    orders = data["orders"]
    if not orders:
        return Absent()
    if any(not isinstance(o, dict) or not isinstance(o.get("orderList"), list) for o in orders):
        return Unsure("the order query lists an order without orderList")
    found = found_order(orders)
    if not found.provider_order_ids:
        return Unsure("the order query lists orders without a purchaseId")
    return Found(found)


def found_order(orders: list[JsonDict]) -> OrderCreation:
    """Every purchase listed for one external id; lines keyed by the ``orderLineNo`` we sent.

    Several orders for one id mean it was created more than once; all their
    ids are returned so the duplicate shows.
    """
    line_nos = [
        text(e.get("orderLineNo"))
        for o in orders
        for g in as_list(o.get("orderList"))
        for e in as_list(as_object(g).get("orderLineList"))
    ]
    stand_in = OrderDraft(
        provider="",
        order_ref="",
        receiver=Receiver(),
        lines=tuple(
            OrderLine(row_id=n, line_no=no, item_id="", sku_id="", quantity=1)
            for n, no in enumerate(dict.fromkeys(line_nos))
        ),
    )
    first = creation_from_order_list(stand_in, orders[0])
    ids = tuple(dict.fromkeys(i for o in orders for i in creation_from_order_list(stand_in, o).provider_order_ids))
    return OrderCreation(
        ok=first.ok, provider_order_ids=ids, lines=first.lines, total=first.total, currency=first.currency
    )
