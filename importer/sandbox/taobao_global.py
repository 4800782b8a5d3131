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
- A ``purchase_amount`` below the goods plus China freight is refused.
- The caller reference is NOT deduplicated: sending it twice buys twice (a
  reseller of the same upstream reports exactly that).
- The query endpoint answers ``data.orders``: the create ``data`` of every
  order made with one caller reference.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from ..examples import example_lines
from .catalogue import find_raw
from .server import Handler, ProviderSandbox, Reply, Request
from .state import SandboxState
from .upstream import (
    CURRENCY,
    FREIGHT_FEN,
    Line,
    Verdict,
    check_purchase,
    render_data,
    render_verdicts,
    seller_groups,
    take,
)

ADDRESS_KEYS = ("zip", "country", "address", "city", "phone", "mobile_phone", "district", "name", "state")
ADDRESS_REQUIRED = ("name", "address", "state", "city")
PURCHASE_ID_BASE = 200049919000
SUB_PURCHASE_ID_BASE = 200049920000


class ParamError(ValueError):
    """A body the provider cannot read; each subclass answers it in its own shape."""


class TaobaoGlobalSandbox(ProviderSandbox):
    """Shared handlers of the Taobao-Global resellers; subclasses add auth and envelopes."""

    MAPPING_PATH: ClassVar[str]
    RENDER_PATH: ClassVar[str]
    CREATE_PATH: ClassVar[str]
    QUERY: ClassVar[tuple[str, str]]
    REFERENCE_FIELD: ClassVar[str]
    SOURCE_MARKET: ClassVar[str] = "淘宝精选"
    EXAMPLE_LINES: ClassVar[Mapping[str, list[dict[str, str]]]] = {
        # Raw Taobao ids, as a buyer copies them; the adapter maps them to mpId / mpSkuId first.
        "clean": example_lines("dajisaas"),
        "unknown_item": [{"item_id": "652000000001", "sku_id": "1", "quantity": "1"}],
        "out_of_stock": [{"item_id": "652711530188", "sku_id": "4412088130023", "quantity": "1"}],
    }

    def __init__(self, state: SandboxState) -> None:
        super().__init__(state)

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
        raw_id = request.query.get("item_id", "")
        if not raw_id:
            raise ParamError("item_id is required")
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
        lines = _lines(body, "render_item_List", create=False)
        _address(body, "receiver_address", required=True)
        _address(body, "warehouse_address", required=False)
        _tax_id(body)
        verdicts = render_verdicts(self.state, lines)
        return self.render_answer({"success": True, "errorCode": None, "errorMsg": None, "data": render_data(verdicts)})

    # ----- create ------------------------------------------------------------------------------
    def create(self, request: Request) -> Reply:
        body = _body(request)
        reference = _text(body, self.REFERENCE_FIELD, required=True)
        amount = _whole(body.get("purchase_amount"), "purchase_amount")
        lines = _lines(body, "order_line_list", create=True)
        receiver = _address(body, "receiver", required=True)
        _address(body, "warehouse_address_info", required=False)
        partial = body.get("support_partial_success") is True
        with self.state.lock:
            self.state.record_create(self.PROVIDER_KEY, reference)
            verdicts = [check_purchase(self.state, line) for line in lines]
            refusal = _refusal(verdicts, partial, amount)
            if refusal is not None:
                return self.ok({**refusal, "orderList": [], "paymentUrl": None, "outerPurchaseId": reference})
            take(self.state, verdicts)
            data = self._order_data(verdicts, reference)
            self.state.add_order(
                self.PROVIDER_KEY, {"reference": reference, "data": data, "receiver": receiver}, reference
            )
        return self.ok(data)

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
                    "purchaseId": self.state.next_id(PURCHASE_ID_BASE),
                    "supplierNick": lines[0]["supplierNick"],
                    "estimateAmount": sum(line["estimateAmount"] for line in lines) + FREIGHT_FEN,
                    "sourceMarket": self.SOURCE_MARKET,
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


def _refusal(verdicts: list[Verdict], partial: bool, amount: int) -> dict[str, Any] | None:
    """Why a create buys nothing, as the ``data`` fields of a refused order; None when it goes ahead."""
    failed = [v for v in verdicts if not v.ok]
    buyable = [v for v in verdicts if v.ok]
    if failed and (not partial or not buyable):
        return {"success": False, "errorCode": failed[0].error_code, "errorMessage": _reasons(failed)}
    needed = sum(v.unit_price * v.line.quantity for v in buyable) + FREIGHT_FEN * len(seller_groups(verdicts))
    if amount < needed:
        message = f"计划购买金额{amount}分低于实际金额{needed}分"
        return {"success": False, "errorCode": "PURCHASE_AMOUNT_NOT_ENOUGH", "errorMessage": message}
    return None


def _reasons(failed: list[Verdict]) -> str:
    return "; ".join(f"orderLineNo {v.line.line_no}: {v.reason}" for v in failed)


# ----- request parsing --------------------------------------------------------------------


def _body(request: Request) -> dict[str, Any]:
    if not isinstance(request.json, dict):
        raise ParamError("body must be a JSON object")
    return request.json


def _lines(body: dict[str, Any], name: str, *, create: bool) -> list[Line]:
    raw = body.get(name)
    if not isinstance(raw, str) or not raw:
        raise ParamError(f"{name} must be a JSON-encoded string")
    try:
        entries = json.loads(raw)
    except ValueError:
        raise ParamError(f"{name} is not valid JSON") from None
    if not isinstance(entries, list) or not entries:
        raise ParamError(f"{name} must encode a non-empty JSON array")
    lines = []
    for n, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise ParamError(f"{name}[{n}] must be an object")
        quantity = _whole(entry.get("quantity"), f"{name}[{n}].quantity")
        if quantity <= 0:
            raise ParamError(f"{name}[{n}].quantity must be above 0")
        line = Line(
            item_id=_id(entry.get("itemId"), f"{name}[{n}].itemId"),
            sku_id=_id(entry.get("skuId"), f"{name}[{n}].skuId"),
            quantity=quantity,
        )
        if create:
            line = Line(
                line.item_id,
                line.sku_id,
                quantity,
                line_no=_text(entry, "orderLineNo", required=True),
                price=_whole(entry.get("price"), f"{name}[{n}].price"),
                currency=str(entry.get("currency") or CURRENCY),
            )
        lines.append(line)
    return lines


def _address(body: dict[str, Any], name: str, *, required: bool) -> dict[str, Any] | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, dict):
        raise ParamError(f"{name} must be a JSON object, not {type(value).__name__}")
    unknown = sorted(set(value) - set(ADDRESS_KEYS) - {"tax_id"})
    if unknown:
        raise ParamError(f"{name} has unknown keys {unknown}")
    missing = [key for key in ADDRESS_REQUIRED if not value.get(key)]
    if missing:
        raise ParamError(f"{name} needs {', '.join(missing)}")
    _tax_id(value, f"{name}.tax_id")
    return value


def _tax_id(body: Mapping[str, Any], name: str = "tax_id") -> None:
    """``tax_id`` is a string, or null as in the documented example ("tax_id": null)."""
    value = body.get("tax_id")
    if value is not None and not isinstance(value, str):
        raise ParamError(f"{name} must be a string or null; got {type(value).__name__}")


def _id(value: Any, name: str) -> str:
    """Ids are exact JSON integers in the documented examples; digit strings are accepted too. Floats are not."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return value
    raise ParamError(f"{name} must be an integer id; got {value!r}")


def _whole(value: Any, name: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    raise ParamError(f"{name} must be a whole number; got {value!r}")


def _text(body: Mapping[str, Any], name: str, *, required: bool = False) -> str:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise ParamError(f"{name} is required")
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ParamError(f"{name} must be a string")
    return str(value)
