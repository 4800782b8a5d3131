"""Sandbox of Xportcn OpenAPI's Taobao purchase orders (provider key ``xportcn-open``).

Endpoints, under the documented base ``https://www.xportcn.com/api`` (served at
``/xportcn/api``):

- ``POST /open/order/render``: price an order and say which lines cannot be bought.
- ``POST /open/order``: create the order, line by line (partial success is possible).
- ``POST /open/purchase/page``: list created orders, filterable by ``sellerOrderNumber``.

The create request and answer follow xportcn-openapi-purchase-order-create.txt.
The render answer, the list body and answer, and the money unit are not
documented; they are **[inferred]** as PROVIDERS.md §0/§3 describe: the
upstream Taobao Global render result in camelCase, money in fen, unit prices in
``originPrice``/``discountPrice``::

    data: {renderItemList: [{nick, sellerId,
                             itemPriceInfos: [{itemId, skuId, quantity, originPrice: {amount, currency},
                                               discountPrice: {amount, currency}}],
                             mainlandShippingFee: {amount, currency}, orderFee: {amount, currency}}],
           unavailableSkuList: [{itemId, skuId, reason, errorCode, errorMsg}],
           totalRealPayPrice: {amount, currency}}

Freight is 600 fen per seller group. A create takes stock; an order is
remembered (and listed) when at least one of its lines was bought.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

from ..examples import example_lines
from .server import Handler, ProviderSandbox, Reply, Request
from .state import SandboxState
from .upstream import CURRENCY, FREIGHT_FEN, Line, Verdict, check_purchase, render_data, render_verdicts, take
from .xportcn_common import XportcnGate, bad_params, envelope

RECEIVER_KEYS = frozenset({"zip", "country", "address", "city", "phone", "mobile_phone", "district", "name", "state"})
RECEIVER_REQUIRED = ("name", "address", "state", "city")
STATUS_WAIT_BUYER_PAY = 0  # TAOBAO_ORDER_WAIT_BUYER_PAY in the order status enum
CHINA = timezone(timedelta(hours=8))
CODE_SYSTEM_ERROR = 500  # [inferred]: Xportcn's error-code table is not public

# Id ranges shaped like the documented answer's ids.
ORDER_ID_BASE = 1031992847890000000
ORDER_NO_BASE = 1031992847781000000
SUB_ORDER_ID_BASE = 1031992851828000000
TAOBAO_ID_BASE = 200027842000


class ParamError(ValueError):
    """A body Xportcn could not read: answered with code 3005."""


class XportcnOpenSandbox(ProviderSandbox):
    """The ``xportcn-open`` provider: render, create and list Taobao purchase orders."""

    PROVIDER_KEY = "xportcn-open"
    PREFIX = "/xportcn/api"
    CREDENTIALS: ClassVar[Mapping[str, str]] = {"access_key": "sandbox-xportcn-ak", "secret": "sandbox-xportcn-secret"}
    OPTIONS: ClassVar[Mapping[str, Any]] = {"user_id": "sandbox-user"}
    EXAMPLE_LINES: ClassVar[Mapping[str, list[dict[str, str]]]] = {
        "clean": example_lines("xportcn-open"),
        "unknown_item": [{"item_id": "999999999999999999", "sku_id": "1", "quantity": "1"}],
        "out_of_stock": [{"item_id": "600126245031041190", "sku_id": "5016042822041", "quantity": "1"}],
    }
    DEVELOP_ID = "1028257583384757029"
    RENDER_PATH = "/open/order/render"
    CREATE_PATH = "/open/order"
    PAGE_PATH = "/open/purchase/page"

    def __init__(self, state: SandboxState) -> None:
        super().__init__(state)
        self.gate = XportcnGate({self.CREDENTIALS["access_key"]: self.CREDENTIALS["secret"]}, self.DEVELOP_ID)

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("POST", self.RENDER_PATH, self.gate.signed(self.render)),
            ("POST", self.CREATE_PATH, self.gate.signed(self.create)),
            ("POST", self.PAGE_PATH, self.gate.signed(self.page)),
        ]

    def lookup_paths(self) -> list[str]:
        return [self.PAGE_PATH]

    def error_envelope(self) -> Any:
        return envelope(CODE_SYSTEM_ERROR, "系统繁忙")  # [inferred] a busy answer

    # ----- render ---------------------------------------------------------------------
    def render(self, request: Request) -> Reply:
        try:
            body = _body(request)
            lines = self.parse_lines(body, create=False)
            _receiver(body)
        except ParamError as error:
            return bad_params(str(error))
        verdicts = render_verdicts(self.state, lines)
        return self.gate.ok(render_data(verdicts))

    # ----- create ---------------------------------------------------------------------
    def create(self, request: Request) -> Reply:
        try:
            body = _body(request)
            lines = self.parse_lines(body, create=True)
            receiver = _receiver(body)
            purchase_amount = self.parse_purchase_amount(body)
            external_id = _optional_text(body, "sellerOrderNumber")
            source = _optional_text(body, "orderSource")
        except ParamError as error:
            return bad_params(str(error))
        with self.state.lock:
            self.state.record_create(self.PROVIDER_KEY, external_id)
            verdicts = [self._buy(line) for line in lines]
            data = self._order_data(verdicts)
            if data["orderNo"] is not None:
                record = {
                    **data,
                    "sellerOrderNumber": external_id,
                    "orderSource": source,
                    "status": STATUS_WAIT_BUYER_PAY,
                    "purchaseAmount": purchase_amount,
                    "receiver": receiver,
                }
                self.state.add_order(self.PROVIDER_KEY, record, external_id)
        for sub in data["subOrderVOS"]:
            sub.pop("orderLineNo", None)  # the documented create answer has no line number
        return self.gate.ok(data)

    def parse_lines(self, body: dict[str, Any], *, create: bool) -> list[Line]:
        """The order lines of a render or create body (``orderLineList``, a JSON string)."""
        return _lines(body, create=create)

    def parse_purchase_amount(self, body: dict[str, Any]) -> int | None:
        """``purchaseAmount``, required on this create."""
        return whole_number(body.get("purchaseAmount"), "purchaseAmount")

    def _buy(self, line: Line) -> Verdict:
        """Check one create line and take its stock; caller holds the state lock."""
        verdict = check_purchase(self.state, line)
        take(self.state, [verdict])
        return verdict

    def _order_data(self, verdicts: list[Verdict]) -> dict[str, Any]:
        """The documented create ``data``; ``orderLineNo`` is kept on each line for the list endpoint."""
        bought = any(v.ok for v in verdicts)
        order_no = self.state.next_id(ORDER_NO_BASE) if bought else None
        subs: list[dict[str, Any]] = []
        purchase_ids: dict[str, str] = {}
        for verdict in verdicts:
            line = verdict.line
            sub: dict[str, Any] = {
                "subOrderId": None,
                "orderNo": order_no,
                "quantity": line.quantity,
                "title": verdict.item.title if verdict.item else None,
                "purchaseCurrency": None,
                "purchaseAmount": None,
                "itemId": line.item_id,
                "domesticPostFee": None,
                "closeReason": None,
                "skuId": verdict.sku.sku_id if verdict.sku else line.sku_id,
                "status": None,
                "taobaoPurchaseId": None,
                "taobaoSubPurchaseId": None,
                "errorCode": verdict.error_code,
                "errorMessage": verdict.reason,
                "orderLineNo": line.line_no,
            }
            if verdict.ok and verdict.item is not None:
                seller = verdict.item.seller.seller_id
                first_of_group = seller not in purchase_ids
                if first_of_group:
                    purchase_ids[seller] = self.state.next_id(TAOBAO_ID_BASE)
                sub.update(
                    subOrderId=self.state.next_id(SUB_ORDER_ID_BASE),
                    purchaseCurrency=CURRENCY,
                    purchaseAmount=verdict.unit_price * line.quantity,
                    domesticPostFee=FREIGHT_FEN if first_of_group else 0,
                    status=STATUS_WAIT_BUYER_PAY,
                    taobaoPurchaseId=purchase_ids[seller],
                    taobaoSubPurchaseId=self.state.next_id(TAOBAO_ID_BASE),
                )
            subs.append(sub)
        return {
            "id": self.state.next_id(ORDER_ID_BASE) if bought else None,
            "orderNo": order_no,
            "subOrderVOS": subs,
            "createTime": datetime.now(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
        }

    # ----- list -------------------------------------------------------------------------
    def page(self, request: Request) -> Reply:
        """[inferred] ``{pageNum, pageSize, sellerOrderNumber?, orderNo?}`` → a MyBatis-style page of orders."""
        body = request.json if request.json is not None else {}
        if not isinstance(body, dict):
            return bad_params("body must be a JSON object")
        try:
            page_no = whole_number(body.get("pageNum", 1), "pageNum")
            size = min(whole_number(body.get("pageSize", 20), "pageSize"), 100)
            external_id = _optional_text(body, "sellerOrderNumber")
            order_no = _optional_text(body, "orderNo")
        except ParamError as error:
            return bad_params(str(error))
        page_no, size = max(page_no, 1), max(size, 1)
        orders = list(reversed(self.state.orders(self.PROVIDER_KEY)))  # newest first
        if external_id:
            orders = [o for o in orders if o["sellerOrderNumber"] == external_id]
        if order_no:
            orders = [o for o in orders if o["orderNo"] == order_no]
        start = (page_no - 1) * size
        return self.gate.ok(
            {
                "records": orders[start : start + size],
                "total": len(orders),
                "size": size,
                "current": page_no,
                "pages": -(-len(orders) // size),
            }
        )

    # ----- shared ---------------------------------------------------------------------


# ----- request parsing: every failure is a 3005 ---------------------------------------------


def _body(request: Request) -> dict[str, Any]:
    if not isinstance(request.json, dict):
        raise ParamError("body must be a JSON object")
    return request.json


def _json_string(body: dict[str, Any], name: str, kind: type) -> Any:
    """A field documented as a JSON-encoded string; a real array or object is refused."""
    raw = body.get(name)
    if raw is None or raw == "":
        raise ParamError(f"{name} is required")
    if not isinstance(raw, str):
        raise ParamError(f"{name} must be a JSON string, not a {type(raw).__name__}")
    try:
        value = json.loads(raw)
    except ValueError:
        raise ParamError(f"{name} is not valid JSON") from None
    if not isinstance(value, kind):
        raise ParamError(f"{name} must encode a JSON {'array' if kind is list else 'object'}")
    return value


def _receiver(body: dict[str, Any]) -> dict[str, str]:
    receiver: dict[str, str] = _json_string(body, "receiver", dict)
    unknown = sorted(set(receiver) - RECEIVER_KEYS)
    if unknown:
        raise ParamError(f"receiver has unknown keys {unknown}")
    if not all(isinstance(v, str) for v in receiver.values()):
        raise ParamError("receiver values must be strings")
    missing = [key for key in RECEIVER_REQUIRED if not receiver.get(key)]
    if missing:
        raise ParamError(f"receiver needs {', '.join(missing)}")
    if not (receiver.get("phone") or receiver.get("mobile_phone")):
        raise ParamError("receiver needs phone or mobile_phone")
    return receiver


def _lines(body: dict[str, Any], *, create: bool) -> list[Line]:
    raw = _json_string(body, "orderLineList", list)
    if not raw:
        raise ParamError("orderLineList is empty")
    lines = []
    for n, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict):
            raise ParamError(f"orderLineList[{n}] must be an object")
        quantity = whole_number(entry.get("quantity"), f"orderLineList[{n}].quantity")
        if quantity <= 0:
            raise ParamError(f"orderLineList[{n}].quantity must be above 0")
        line = Line(
            item_id=digits_id(entry.get("itemId"), f"orderLineList[{n}].itemId"),
            sku_id=digits_id(entry.get("skuId", ""), f"orderLineList[{n}].skuId", blank_ok=True),
            quantity=quantity,
        )
        if create:
            line = Line(
                line.item_id,
                line.sku_id,
                line.quantity,
                line_no=str(entry.get("orderLineNo", "")),
                price=whole_number(entry.get("price"), f"orderLineList[{n}].price"),
                currency=str(entry.get("currency") or CURRENCY),
            )
        lines.append(line)
    return lines


def digits_id(value: Any, name: str, *, blank_ok: bool = False) -> str:
    """An id sent as digits, in a string or (as some examples do) a JSON integer."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and (_digits(value) or (blank_ok and value == "")):
        return value
    raise ParamError(f"{name} must be digits; got {value!r}")


def whole_number(value: Any, name: str) -> int:
    """A whole number sent as a JSON integer or a string of digits."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _digits(value):
        return int(value)
    raise ParamError(f"{name} must be a whole number; got {value!r}")


def _digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def _optional_text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None:
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ParamError(f"{name} must be a string")
    return str(value)
