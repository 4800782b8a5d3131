"""The upstream Taobao Global purchase logic every Taobao-family sandbox shares.

Xportcn OpenAPI, Xportcn KA TaoOrder, Dajisaas and Shanjing all wrap the same
upstream (PROVIDERS.md §0), so checking a line against the catalogue, taking
stock and building the camelCase render result happen here once; each provider
module adds only its own request parsing, auth and envelope.

The render ``data`` is **[inferred]** (no public page shows it)::

    {renderItemList: [{nick, sellerId,
                       itemPriceInfos: [{itemId, skuId, quantity, originPrice: {amount, currency},
                                         discountPrice: {amount, currency}}],
                       mainlandShippingFee: {amount, currency}, orderFee: {amount, currency}}],
     unavailableSkuList: [{itemId, skuId, reason, errorCode, errorMsg}],
     totalRealPayPrice: {amount, currency}}

Money is in fen; stock, freight and prices follow the sandbox's own rules (:mod:`.rules`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .catalogue import Item, Sku, find_item, find_sku
from .rules import FREIGHT_FEN, stock_refusal
from .state import SandboxState

CURRENCY = "CNY"


@dataclass(frozen=True)
class Line:
    """One parsed line of ``orderLineList``; ``price`` (fen) only on create."""

    item_id: str
    sku_id: str
    quantity: int
    line_no: str = ""
    price: int | None = None
    currency: str = CURRENCY


@dataclass(frozen=True)
class Verdict:
    """A line checked against the catalogue: its item and SKU, or why it cannot be bought."""

    line: Line
    item: Item | None = None
    sku: Sku | None = None
    unit_price: int = 0
    origin_price: int = 0
    discount_price: int | None = None
    error_code: str | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_code is None


def assess(state: SandboxState, line: Line, left: Callable[[tuple[str, str]], int]) -> Verdict:
    """Whether a line can be bought now, and at what unit price (fen)."""
    found = find_sku(line.item_id, line.sku_id)
    if found is None:
        if find_item(line.item_id) is None:
            return refuse(line, "ITEM_NOT_FOUND", "商品不存在或已下架")
        if not line.sku_id:
            return refuse(line, "SKU_REQUIRED", "该商品有多个规格，请指定skuId")
        return refuse(line, "SKU_NOT_FOUND", "商品规格不存在")
    item, sku = found
    origin = state.price(item.item_id, sku.sku_id, sku.price)
    discount = sku.discount_price if origin == sku.price else None
    unit = discount if discount is not None else origin
    refusal = stock_refusal(left((item.item_id, sku.sku_id)), line.quantity)
    if refusal is not None:
        return refuse(line, *refusal, item, sku)
    return Verdict(line, item, sku, unit, origin, discount)


def refuse(line: Line, code: str, reason: str, item: Item | None = None, sku: Sku | None = None) -> Verdict:
    """A verdict that the line cannot be bought, with the upstream error code and reason."""
    return Verdict(line, item, sku, error_code=code, reason=reason)


def money(fen: int) -> dict[str, Any]:
    """The upstream money object."""
    return {"amount": fen, "currency": CURRENCY}


def render_data(verdicts: list[Verdict]) -> dict[str, Any]:
    """The [inferred] render ``data``: one group per seller, unavailable lines apart."""
    groups: dict[str, dict[str, Any]] = {}
    unavailable = []
    for verdict in verdicts:
        line = verdict.line
        if not verdict.ok or verdict.item is None or verdict.sku is None:
            sku_id = verdict.sku.sku_id if verdict.sku else line.sku_id
            unavailable.append(
                {
                    "itemId": line.item_id,
                    "skuId": sku_id,
                    "reason": verdict.reason,
                    "errorCode": verdict.error_code,
                    "errorMsg": verdict.reason,
                }
            )
            continue
        seller = verdict.item.seller
        group = groups.setdefault(
            seller.seller_id, {"nick": seller.nick, "sellerId": seller.seller_id, "itemPriceInfos": [], "goods": 0}
        )
        info: dict[str, Any] = {
            "itemId": verdict.item.item_id,
            "skuId": verdict.sku.sku_id,
            "quantity": line.quantity,
            "originPrice": money(verdict.origin_price),
        }
        if verdict.discount_price is not None:
            info["discountPrice"] = money(verdict.discount_price)
        group["itemPriceInfos"].append(info)
        group["goods"] += verdict.unit_price * line.quantity
    items = []
    for group in groups.values():
        goods = group.pop("goods")
        items.append({**group, "mainlandShippingFee": money(FREIGHT_FEN), "orderFee": money(goods + FREIGHT_FEN)})
    total = sum(group["orderFee"]["amount"] for group in items)
    return {"renderItemList": items, "unavailableSkuList": unavailable, "totalRealPayPrice": money(total)}


def render_verdicts(state: SandboxState, lines: Sequence[Line]) -> list[Verdict]:
    """Assess every line of a render, counting stock the earlier lines of the same call would take."""
    with state.lock:
        reserved: Counter[tuple[str, str]] = Counter()
        verdicts = []
        for line in lines:
            verdict = assess(state, line, lambda key: state.stock(*key) - reserved[key])
            if verdict.ok and verdict.sku is not None:
                reserved[(line.item_id, verdict.sku.sku_id)] += line.quantity
            verdicts.append(verdict)
    return verdicts


def check_purchase(state: SandboxState, line: Line) -> Verdict:
    """Check one create line against the catalogue and stock; the caller holds the state lock.

    The line's declared ``price`` and ``currency`` are not checked: the sandbox
    charges its own price (see :mod:`.rules`).
    """
    return assess(state, line, lambda key: state.stock(*key))


def take(state: SandboxState, verdicts: Sequence[Verdict]) -> None:
    """Take the stock of every buyable verdict; the caller holds the state lock."""
    for verdict in verdicts:
        if verdict.ok and verdict.sku is not None:
            state.take_stock(verdict.line.item_id, verdict.sku.sku_id, verdict.line.quantity)


def seller_groups(verdicts: Sequence[Verdict]) -> dict[str, list[Verdict]]:
    """Buyable verdicts by seller id, in first-seen order (upstream splits an order per seller)."""
    groups: dict[str, list[Verdict]] = {}
    for verdict in verdicts:
        if verdict.ok and verdict.item is not None:
            groups.setdefault(verdict.item.seller.seller_id, []).append(verdict)
    return groups
