"""Sandbox of Xportcn KA AlibabaOrderController, 1688 orders (provider key ``xportcn-ka-1688``).

Served at ``/xportcn-ka-1688/api`` with the Xportcn signed headers and
envelope (:mod:`.xportcn_common`). Per xportcn-ka-alibaba-order-create.txt and
PROVIDERS.md §2:

- ``POST /alibaba/ka/order/create/preview`` with ``flow``, ``addressParam``
  (object) and ``cargoParamList`` (array of ``{offerId: int, specId: str,
  quantity: number}``) answers ``data`` as an **array, one element per
  supplier**: ``{sumCarriage, sumPayment, sumTotalPayment,
  sumPaymentNoCarriage, tradeModeNameList, orderItemTOList: [{amount, message,
  finalUnitPrice, specId, skuId, offerId, openOfferId}]}``, money in fen.
- ``POST /alibaba/ka/order/create`` with the same address and cargo plus
  ``outOrderId`` and ``tradeType`` answers ``data: {orderIds: [...]}``.

**[inferred]**, here and nowhere else: ``message`` on a line means it cannot be
bought; ``tradeModeNameList`` is on the KA preview; ``sumTotalPayment`` adds a
2.5 % service fee (the documented example: 6400 → 6561); a create must follow a
preview of the same cargo (the documents call preview mandatory) and buys all
or nothing (code 4001 otherwise); ``orderIds`` come in the preview's supplier
order; the order list is ``POST /alibaba/ka/order/list`` with ``{outOrderId,
pageNum, pageSize}`` answering ``{records: [{orderId, outOrderId, status,
createTime, sumPayment}], total}``. The caller reference is not deduplicated.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

from ..examples import example_lines
from .catalogue_1688 import Offer, Spec, find_offer, find_spec
from .server import Handler, ProviderSandbox, Reply, Request
from .state import SandboxState
from .xportcn_common import XportcnGate, bad_params, envelope

CARRIAGE_FEN = 600
SERVICE_FEE_PER_MILLE = 25
CODE_CREATE_FAILED = 4001  # [inferred]
ORDER_ID_BASE = 3_712_900_000_000_000
PREVIEW_MEMORY_SECONDS = 1800.0
ADDRESS_REQUIRED = ("fullName", "provinceText", "cityText", "address")
CHINA = timezone(timedelta(hours=8))


class ParamError(ValueError):
    """A body the endpoint cannot read: answered with code 3005."""


@dataclass(frozen=True)
class Cargo:
    """One parsed cargo line and what the catalogue says of it."""

    offer_id: str
    spec_id: str
    quantity: int
    offer: Offer | None = None
    spec: Spec | None = None
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.message is None


class XportcnKa1688Sandbox(ProviderSandbox):
    """The ``xportcn-ka-1688`` provider: preview, create and list 1688 orders."""

    PROVIDER_KEY = "xportcn-ka-1688"
    PREFIX = "/xportcn-ka-1688/api"
    CREDENTIALS: ClassVar[Mapping[str, str]] = {"access_key": "sandbox-ka1688-ak", "secret": "sandbox-ka1688-secret"}
    OPTIONS: ClassVar[Mapping[str, Any]] = {"user_id": "sandbox-user", "flow": "general"}
    PREVIEW_PATH = "/alibaba/ka/order/create/preview"
    CREATE_PATH = "/alibaba/ka/order/create"
    LIST_PATH = "/alibaba/ka/order/list"
    EXAMPLE_LINES: ClassVar[Mapping[str, list[dict[str, str]]]] = {
        "clean": example_lines("xportcn-ka-1688"),
        "unknown_item": [{"item_id": "999999999999", "sku_id": "0" * 32, "quantity": "1"}],
        "out_of_stock": [{"item_id": "889512351602", "sku_id": "7f2b61c4d9a84e0fb6a3c2d1e0f9a811", "quantity": "1"}],
    }

    def __init__(self, state: SandboxState) -> None:
        super().__init__(state)
        self.gate = XportcnGate({self.CREDENTIALS["access_key"]: self.CREDENTIALS["secret"]})
        self._previewed: dict[tuple[tuple[str, str, int], ...], float] = {}

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("POST", self.PREVIEW_PATH, self.gate.signed(self.preview)),
            ("POST", self.CREATE_PATH, self.gate.signed(self.create)),
            ("POST", self.LIST_PATH, self.gate.signed(self.list_orders)),
        ]

    def stock_keys(self, lines: Sequence[Mapping[str, str]]) -> list[tuple[str, str]]:
        """The stock keys of example lines (for tests that empty a shelf between preview and create)."""
        return [(line["item_id"], line["sku_id"]) for line in lines]

    def lookup_paths(self) -> list[str]:
        return [self.LIST_PATH]

    def error_envelope(self) -> Any:
        return envelope(500, "系统繁忙")  # [inferred] a busy answer

    # ----- preview ------------------------------------------------------------------------
    def preview(self, request: Request) -> Reply:
        try:
            body = _body(request)
            _text(body, "flow")
            _address(body)
            cargo = self._assess(_cargo(body))
        except ParamError as error:
            return bad_params(str(error))
        with self.state.lock:
            self._previewed[_cargo_key(cargo)] = time.monotonic()
        return self.gate.ok([_group_data(group) for group in _groups(cargo)])

    # ----- create -------------------------------------------------------------------------
    def create(self, request: Request) -> Reply:
        try:
            body = _body(request)
            _text(body, "flow")
            out_order_id = _text(body, "outOrderId")
            _address(body)
            trade_type = body.get("tradeType")
            lines = _cargo(body)
        except ParamError as error:
            return bad_params(str(error))
        with self.state.lock:
            self.state.record_create(self.PROVIDER_KEY, out_order_id)
            seen = self._previewed.get(_cargo_key(lines))
            if seen is None or time.monotonic() - seen > PREVIEW_MEMORY_SECONDS:
                return 200, envelope(CODE_CREATE_FAILED, "下单前请先调用预览接口 (preview the order first)")
            cargo = self._assess(lines)
            refused = [c for c in cargo if not c.ok]
            if refused:
                reasons = "; ".join(f"offerId {c.offer_id} specId {c.spec_id}: {c.message}" for c in refused)
                return 200, envelope(CODE_CREATE_FAILED, f"下单失败: {reasons}")
            groups = _groups(cargo)
            for group in groups:
                modes = group[0].offer.supplier.trade_modes if group[0].offer else ()
                if trade_type and trade_type not in modes:
                    return 200, envelope(CODE_CREATE_FAILED, f"交易方式{trade_type}不可用, 可用: {', '.join(modes)}")
            for c in cargo:
                self.state.take_stock(c.offer_id, c.spec_id, c.quantity)
            order_ids = [self.state.next_id(ORDER_ID_BASE) for _ in groups]
            for order_id, group in zip(order_ids, groups, strict=True):
                record = {
                    "orderId": order_id,
                    "outOrderId": out_order_id,
                    "status": "waitbuyerpay",
                    "createTime": datetime.now(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
                    "sumPayment": _group_data(group)["sumPayment"],
                }
                self.state.add_order(self.PROVIDER_KEY, record)
            self.state.count_order(self.PROVIDER_KEY, out_order_id)
        return self.gate.ok({"orderIds": order_ids})

    # ----- list ---------------------------------------------------------------------------
    def list_orders(self, request: Request) -> Reply:
        """[inferred] ``{outOrderId?, pageNum, pageSize}`` → a page of orders, newest first."""
        try:
            body = _body(request)
            size = max(1, min(_page_number(body, "pageSize", 20), 100))
            start = (max(1, _page_number(body, "pageNum", 1)) - 1) * size
        except ParamError as error:
            return bad_params(str(error))
        wanted = str(body.get("outOrderId") or "")
        orders = [o for o in reversed(self.state.orders(self.PROVIDER_KEY)) if not wanted or o["outOrderId"] == wanted]
        return self.gate.ok({"records": orders[start : start + size], "total": len(orders)})

    # ----- shared -------------------------------------------------------------------------
    def _assess(self, lines: list[Cargo]) -> list[Cargo]:
        """Check each cargo line against the catalogue and stock.

        Earlier buyable lines of the same call count against the stock, so two
        lines of one spec cannot together buy more than the shelf holds.
        """
        taken: dict[tuple[str, str], int] = {}
        result = []
        with self.state.lock:
            for line in lines:
                found = find_spec(line.offer_id, line.spec_id)
                if found is None:
                    missing = "商品不存在或已下架" if find_offer(line.offer_id) is None else "商品规格不存在"
                    result.append(Cargo(line.offer_id, line.spec_id, line.quantity, message=missing))
                    continue
                offer, spec = found
                key = (line.offer_id, line.spec_id)
                left = self.state.stock(*key) - taken.get(key, 0)
                message: str | None = None
                if left < line.quantity:
                    message = "商品已售罄" if left <= 0 else f"库存不足, 仅剩{left}件"
                else:
                    taken[key] = taken.get(key, 0) + line.quantity
                result.append(Cargo(line.offer_id, line.spec_id, line.quantity, offer, spec, message))
        return result


def _groups(cargo: list[Cargo]) -> list[list[Cargo]]:
    """Lines per supplier in first-seen order; unknown offers in a last group of their own."""
    groups: dict[str, list[Cargo]] = {}
    for line in cargo:
        groups.setdefault(line.offer.supplier.open_id if line.offer else "", []).append(line)
    return list(groups.values())


def _group_data(group: list[Cargo]) -> dict[str, Any]:
    items = []
    goods = 0
    for c in group:
        price = c.spec.price if c.spec else 0
        amount = price * c.quantity if c.ok else 0
        goods += amount
        items.append(
            {
                "amount": amount,
                "message": c.message,
                "finalUnitPrice": price,
                "specId": c.spec_id,
                "skuId": int(c.spec.sku_id) if c.spec else None,
                "offerId": int(c.offer_id),
                "openOfferId": f"+{c.offer_id[::-1]}==",
            }
        )
    carriage = CARRIAGE_FEN if goods else 0
    payment = goods + carriage
    return {
        "sumCarriage": carriage,
        "sumPayment": payment,
        "sumTotalPayment": payment + payment * SERVICE_FEE_PER_MILLE // 1000,
        "sumPaymentNoCarriage": goods,
        "tradeModeNameList": list(group[0].offer.supplier.trade_modes) if group[0].offer else [],
        "orderItemTOList": items,
    }


def _cargo_key(cargo: list[Cargo]) -> tuple[tuple[str, str, int], ...]:
    return tuple((c.offer_id, c.spec_id, c.quantity) for c in cargo)


# ----- request parsing: every failure is a 3005 -------------------------------------------------


def _body(request: Request) -> dict[str, Any]:
    if not isinstance(request.json, dict):
        raise ParamError("body must be a JSON object")
    return request.json


def _text(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ParamError(f"{name} is required")
    return value


def _address(body: Mapping[str, Any]) -> dict[str, Any]:
    address = body.get("addressParam")
    if not isinstance(address, dict):
        raise ParamError("addressParam must be a JSON object")
    missing = [key for key in ADDRESS_REQUIRED if not address.get(key)]
    if not (address.get("mobile") or address.get("phone")):
        missing.append("mobile or phone")
    if missing:
        raise ParamError(f"addressParam needs {', '.join(missing)}")
    if not all(isinstance(v, str) for v in address.values()):
        raise ParamError("addressParam values must be strings")
    return address


def _cargo(body: Mapping[str, Any]) -> list[Cargo]:
    raw = body.get("cargoParamList")
    if not isinstance(raw, list) or not raw:
        raise ParamError("cargoParamList must be a non-empty JSON array")
    lines = []
    for n, entry in enumerate(raw, start=1):
        name = f"cargoParamList[{n}]"
        if not isinstance(entry, dict):
            raise ParamError(f"{name} must be an object")
        offer_id, spec_id, quantity = entry.get("offerId"), entry.get("specId"), entry.get("quantity")
        if not isinstance(offer_id, int) or isinstance(offer_id, bool):
            raise ParamError(f"{name}.offerId must be a JSON integer; got {offer_id!r}")
        if not isinstance(spec_id, str) or not spec_id:
            raise ParamError(f"{name}.specId must be a string")
        count = _whole_above_zero(quantity)
        if count is None:
            raise ParamError(f"{name}.quantity must be a whole number above 0; got {quantity!r}")
        lines.append(Cargo(str(offer_id), spec_id, count))
    return lines


def _page_number(body: Mapping[str, Any], name: str, default: int) -> int:
    """A paging field: absent means ``default``; anything but a whole number is a 3005."""
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParamError(f"{name} must be a whole number; got {value!r}")
    return value


def _whole_above_zero(value: Any) -> int | None:
    """A JSON number that is whole and positive, as an int (the documented example sends ``2.0``); else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if float(value).is_integer() and value > 0 else None
