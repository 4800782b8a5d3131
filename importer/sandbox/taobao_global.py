"""The endpoints Dajisaas and Shanjing share, as they resell the Taobao Global distributor API.

A subclass declares its paths, the name of its caller reference, and how it
authenticates and wraps answers; the collision (撞库), render, create and
query logic is here once. Request fields follow the documented create
examples: ``render_item_List`` / ``order_line_list`` are JSON strings, the
receiver and warehouse addresses are objects, money is in fen.

Behaviour the documents leave open, **[inferred]** here and nowhere else:

- With ``support_partial_success`` false, one unbuyable line refuses the whole
  create (``data.success`` false, nothing bought); with it true, the buyable
  lines are bought and the others left out of ``orderList``.
- The caller reference is NOT deduplicated: sending it twice buys twice (a
  reseller of the same upstream reports exactly that).

Each subclass lists its documented fields (:mod:`.schema`); stock, freight and
the warehouse rule are the sandbox's own (:mod:`.rules`).
- The query endpoint answers ``data.orders``: the create ``data`` of every
  order made with one caller reference.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from ..examples import example_lines
from .catalogue import find_raw
from .rules import FREIGHT_FEN, MAINLAND, needs_warehouse
from .schema import (
    ID,
    NULLABLE_STRING,
    STRING,
    WHOLE,
    Field,
    ParamError,
    RequestLog,
    body_object,
    check_fields,
    entries,
    json_text,
    optional,
    required,
    whole,
)
from .server import Handler, ProviderSandbox, Reply, Request
from .state import SandboxState
from .upstream import (
    CURRENCY,
    Line,
    Verdict,
    check_purchase,
    render_data,
    render_verdicts,
    seller_groups,
    take,
)

ADDRESS_KEYS = ("zip", "country", "address", "city", "phone", "mobile_phone", "district", "name", "state")
PURCHASE_ID_BASE = 200049919000
SUB_PURCHASE_ID_BASE = 200049920000
RENDER_LINE_FIELDS = (required("itemId", ID), required("quantity", WHOLE), required("skuId", ID))


def address_fields(*, all_required: bool) -> tuple[Field, ...]:
    """The Taobao Global address keys: every one required and filled, or only name, address, state, city, country."""
    filled = {"name", "address", "state", "city", "country"}
    return (
        *(required(key, STRING) if all_required or key in filled else optional(key, STRING) for key in ADDRESS_KEYS),
        optional("tax_id", NULLABLE_STRING),
    )


class TaobaoGlobalSandbox(ProviderSandbox):
    """Shared handlers of the Taobao-Global resellers; subclasses add auth and envelopes."""

    MAPPING_PATH: ClassVar[str]
    RENDER_PATH: ClassVar[str]
    CREATE_PATH: ClassVar[str]
    QUERY: ClassVar[tuple[str, str]]
    REFERENCE_FIELD: ClassVar[str]
    SOURCE_MARKET: ClassVar[str] = "淘宝精选"
    MARKET_KEY: ClassVar[str] = "sourceMarket"
    """The name of an order group's market in the create answer (Dajisaas' ``sourceMarket``)."""
    CREATE_FIELDS: ClassVar[tuple[Field, ...]]
    LINE_FIELDS: ClassVar[tuple[Field, ...]]
    RENDER_FIELDS: ClassVar[tuple[Field, ...]]
    RECEIVER_FIELDS: ClassVar[tuple[Field, ...]]
    """The receiver's and the render's ``receiver_address`` keys."""
    WAREHOUSE_FIELDS: ClassVar[tuple[Field, ...]]
    WAREHOUSE_REQUIRED_IN_MAINLAND: ClassVar[bool] = False
    MAPPING_FIELDS: ClassVar[tuple[Field, ...]] = (required("item_id", WHOLE),)
    EXAMPLE_LINES: ClassVar[Mapping[str, list[dict[str, str]]]] = {
        # Raw Taobao ids, as a buyer copies them; the adapter maps them to mpId / mpSkuId first.
        "clean": example_lines("dajisaas"),
        "unknown_item": [{"item_id": "652000000001", "sku_id": "1", "quantity": "1"}],
        "out_of_stock": [{"item_id": "652711530188", "sku_id": "4412088130023", "quantity": "1"}],
    }

    def __init__(self, state: SandboxState) -> None:
        super().__init__(state)
        self.log = RequestLog()

    # ----- what a subclass provides ------------------------------------------------------
    @abstractmethod
    def authorize(self, request: Request) -> Reply | None:
        """The refusal for a call that fails this provider's auth check, or None."""

    @abstractmethod
    def ok(self, data: Any) -> Reply:
        """A successful answer carrying ``data``."""

    @abstractmethod
    def failure(self, code: str, message: str) -> Reply:
        """A refused call (unknown item, unreadable body...) in this provider's envelope."""

    @abstractmethod
    def render_answer(self, result: dict[str, Any]) -> Reply:
        """Wrap the upstream render result ``{success, errorCode, errorMsg, data}``."""

    def extra_routes(self) -> list[tuple[str, str, Handler]]:
        """Endpoints only this provider has (e.g. token refresh)."""
        return []

    # ----- routes ----------------------------------------------------------------------------
    def routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("GET", self.MAPPING_PATH, self._checked(self.product_get)),
            ("POST", self.RENDER_PATH, self._checked(self.render)),
            ("POST", self.CREATE_PATH, self._checked(self.create)),
            (self.QUERY[0], self.QUERY[1], self._checked(self.query)),
            *self.extra_routes(),
        ]

    def lookup_paths(self) -> list[str]:
        return [self.QUERY[1]]

    def error_envelope(self) -> Any:
        return self.failure("SYSTEM_ERROR", "system busy")[1]

    def _checked(self, handler: Handler) -> Handler:
        def checked(request: Request) -> Reply:
            self.log.remember(request)
            refusal = self.authorize(request)
            if refusal is not None:
                return refusal
            try:
                return handler(request)
            except ParamError as error:
                return self.failure("PARAM_ERROR", str(error))

        return checked

    # ----- collision (撞库) ---------------------------------------------------------------------
    def product_get(self, request: Request) -> Reply:
        """The item a raw Taobao id maps to: mpId and, per SKU, the raw skuId and its mpSkuId."""
        check_fields(request.query, self.MAPPING_FIELDS)
        raw_id = request.query["item_id"]
        item = find_raw(raw_id)
        if item is None:
            return self.failure("ITEM_NOT_FOUND", f"商品{raw_id}不存在或不支持代购")
        skus: list[dict[str, Any]] = [
            {
                "skuId": sku.raw_sku_id,
                "mpSkuId": sku.sku_id,
                "price": sku.pay_price,
                "quantity": self.state.stock(item.item_id, sku.sku_id),
                "status": "ONLINE",
            }
            for sku in item.skus
        ]
        data = {
            "mpId": item.item_id,
            "itemId": item.raw_id,
            "title": item.title,
            "shopName": item.seller.nick,
            "itemType": "WITHOUT_MATERIAL",
            "quantity": sum(s["quantity"] for s in skus),
            "skuList": skus,
        }
        return self.ok(data)

    # ----- render -----------------------------------------------------------------------------
    def render(self, request: Request) -> Reply:
        body = _body(request)
        check_fields(body, self.RENDER_FIELDS)
        lines = _lines(body, "render_item_List", RENDER_LINE_FIELDS, create=False)
        self.address(body, "receiver_address", self.RECEIVER_FIELDS)
        if "warehouse_address" in body:
            self.address(body, "warehouse_address", self.WAREHOUSE_FIELDS)
        _tax_id(body)
        verdicts = render_verdicts(self.state, lines)
        return self.render_answer({"success": True, "errorCode": None, "errorMsg": None, "data": render_data(verdicts)})

    # ----- create ------------------------------------------------------------------------------
    def create(self, request: Request) -> Reply:
        body = _body(request)
        check_fields(body, self.CREATE_FIELDS)
        reference = str(body[self.REFERENCE_FIELD])
        lines = _lines(body, "order_line_list", self.LINE_FIELDS, create=True)
        receiver = self.address(body, "receiver", self.RECEIVER_FIELDS)
        self.check_warehouse(body, receiver)
        partial = body.get("support_partial_success") is True
        with self.state.lock:
            self.state.record_create(self.PROVIDER_KEY, reference)
            verdicts = [check_purchase(self.state, line) for line in lines]
            refusal = _refusal(verdicts, partial)
            if refusal is not None:
                return self.ok({**refusal, "orderList": [], "paymentUrl": None, "outerPurchaseId": reference})
            take(self.state, verdicts)
            data = self._order_data(verdicts, reference)
            self.state.add_order(
                self.PROVIDER_KEY, {"reference": reference, "data": data, "receiver": receiver}, reference
            )
        return self.ok(data)

    def purchase_id(self) -> str | int:
        """A new upstream purchase id, as text (Dajisaas' documented answer; Shanjing's shows a number)."""
        return self.state.next_id(PURCHASE_ID_BASE)

    def address(self, body: dict[str, Any], name: str, fields: tuple[Field, ...]) -> dict[str, Any]:
        """An address object with this provider's documented keys (a district may be empty abroad)."""
        value: dict[str, Any] = body[name]
        if not isinstance(value, dict):
            raise ParamError(f"{name} must be a JSON object, not {type(value).__name__}")
        abroad = str(value.get("country") or "").strip() not in MAINLAND
        rules = tuple(optional(f.name, f.kind) if abroad and f.name == "district" else f for f in fields)
        check_fields(value, rules, name, closed=True)
        if not (value.get("phone") or value.get("mobile_phone")):
            raise ParamError(f"{name} needs phone or mobile_phone")
        return value

    def check_warehouse(self, body: dict[str, Any], receiver: dict[str, Any]) -> None:
        """``warehouse_address_info``: checked when sent; the sandbox's rule may require it (see :mod:`.rules`)."""
        if "warehouse_address_info" in body:
            self.address(body, "warehouse_address_info", self.WAREHOUSE_FIELDS)
        elif self.WAREHOUSE_REQUIRED_IN_MAINLAND and needs_warehouse(str(receiver.get("country") or "")):
            raise ParamError("warehouse_address_info is required when the order is not cross-border (非跨境必填)")

    def _order_data(self, verdicts: list[Verdict], reference: str) -> dict[str, Any]:
        orders = []
        for group in seller_groups(verdicts).values():
            lines: list[dict[str, Any]] = [
                {
                    "itemId": v.line.item_id,
                    "orderLineNo": v.line.line_no,
                    "quantity": v.line.quantity,
                    "supplierNick": v.item.seller.nick if v.item else None,
                    "estimateAmount": v.unit_price * v.line.quantity,
                    "subPurchaseOrderId": int(self.state.next_id(SUB_PURCHASE_ID_BASE)),
                    "estimateCurrency": CURRENCY,
                    "skuId": int(v.sku.sku_id) if v.sku else None,
                }
                for v in group
            ]
            orders.append(
                {
                    "orderLineList": lines,
                    "purchaseId": self.purchase_id(),
                    "supplierNick": lines[0]["supplierNick"],
                    "estimateAmount": sum(line["estimateAmount"] for line in lines) + FREIGHT_FEN,
                    self.MARKET_KEY: self.SOURCE_MARKET,
                    "estimateCurrency": CURRENCY,
                }
            )
        failed = [v for v in verdicts if not v.ok]
        return {
            "success": True,
            "errorMessage": _reasons(failed) or None,
            "errorCode": failed[0].error_code if failed else None,
            "orderList": orders,
            "paymentUrl": "https://distributor.taobao.global/apps/order/list",
            "outerPurchaseId": reference,
        }

    # ----- query ------------------------------------------------------------------------------
    def query(self, request: Request) -> Reply:
        """[inferred] every order made with one caller reference."""
        source = request.query if request.method == "GET" else _body(request)
        reference = str(source.get(self.REFERENCE_FIELD) or "")
        if not reference:
            raise ParamError(f"{self.REFERENCE_FIELD} is required")
        orders = [o["data"] for o in self.state.orders(self.PROVIDER_KEY) if o["reference"] == reference]
        return self.ok({"orders": orders})


def _refusal(verdicts: list[Verdict], partial: bool) -> dict[str, Any] | None:
    """Why a create buys nothing, as the ``data`` fields of a refused order; None when it goes ahead."""
    failed = [v for v in verdicts if not v.ok]
    buyable = [v for v in verdicts if v.ok]
    if failed and (not partial or not buyable):
        return {"success": False, "errorCode": failed[0].error_code, "errorMessage": _reasons(failed)}
    return None


def _reasons(failed: list[Verdict]) -> str:
    return "; ".join(f"orderLineNo {v.line.line_no}: {v.reason}" for v in failed)


# ----- request parsing --------------------------------------------------------------------


def _body(request: Request) -> dict[str, Any]:
    return body_object(request)


def _lines(body: dict[str, Any], name: str, fields: tuple[Field, ...], *, create: bool) -> list[Line]:
    raw = entries(json_text(body, name, list), name)
    lines = []
    for n, entry in enumerate(raw, start=1):
        check_fields(entry, fields, f"{name}[{n}]")
        quantity = whole(entry["quantity"])
        if quantity <= 0:
            raise ParamError(f"{name}[{n}].quantity must be above 0")
        line = Line(item_id=str(entry["itemId"]), sku_id=str(entry["skuId"]), quantity=quantity)
        if create:
            line = Line(
                line.item_id,
                line.sku_id,
                quantity,
                line_no=str(entry["orderLineNo"]),
                price=int(entry["price"]),
                currency=str(entry["currency"]),
            )
        lines.append(line)
    return lines


def _tax_id(body: Mapping[str, Any], name: str = "tax_id") -> None:
    """``tax_id`` is a string, or null as in the documented example ("tax_id": null)."""
    value = body.get("tax_id")
    if value is not None and not isinstance(value, str):
        raise ParamError(f"{name} must be a string or null; got {type(value).__name__}")
