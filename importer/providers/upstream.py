"""Shapes shared by the adapters that wrap the Taobao Global distributor API.

Xportcn OpenAPI, Dajisaas and Shanjing all pass the upstream render result
through in camelCase (PROVIDERS.md §0), so the render parser and the helpers
that read loosely typed JSON live here once.

The upstream render ``data`` **[inferred]** for all three (the public pages
do not show it; the upstream type definitions do)::

    {renderItemList: [{nick, sellerId,
                       itemPriceInfos: [{itemId, skuId, quantity, originPrice: {amount, currency},
                                         discountPrice: {amount, currency}}],
                       mainlandShippingFee: {amount, currency}, orderFee: {amount, currency}}],
     unavailableSkuList: [{itemId, skuId, reason, errorCode, errorMsg}],
     totalRealPayPrice: {amount, currency}}

Amounts are in fen; ``originPrice``/``discountPrice`` are unit prices.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from ..models import LinePreview, OrderDraft, OrderLine, OrderPreview
from .base import fen_to_yuan, yuan_to_fen

CURRENCY = "CNY"

T = TypeVar("T")


def preview_from_render(order: OrderDraft, data: Mapping[str, Any]) -> OrderPreview:
    """An OrderPreview from an upstream render ``data`` object (shape in the module docstring)."""
    groups = [as_object(g) for g in as_list(data.get("renderItemList"))]
    available = [("ok", as_object(i)) for g in groups for i in as_list(g.get("itemPriceInfos"))]
    unavailable = [("refused", as_object(u)) for u in as_list(data.get("unavailableSkuList"))]
    matches = match_lines(order.lines, available + unavailable, lambda entry: entry[1])
    lines = {line.line_no: _line_preview(line, match) for line, match in zip(order.lines, matches, strict=True)}
    freight = sum_present(money(g.get("mainlandShippingFee")) for g in groups)
    total_money = as_object(data.get("totalRealPayPrice"))
    ok = all(not p.error for p in lines.values())
    return OrderPreview(
        ok=ok,
        lines=lines,
        freight=freight,
        total=money(total_money),
        currency=str(total_money.get("currency") or CURRENCY),
        error=None if ok else "some lines cannot be bought",
    )


def _line_preview(line: OrderLine, match: tuple[str, Mapping[str, Any]] | None) -> LinePreview:
    if match is None:
        return LinePreview(error="the provider's preview did not mention this line")
    kind, entry = match
    if kind == "refused":
        reason = text(entry.get("reason")) or text(entry.get("errorMsg")) or "not available"
        return LinePreview(error=reason, error_code=text(entry.get("errorCode")) or None)
    price = as_object(entry.get("discountPrice")) or as_object(entry.get("originPrice"))
    unit = money(price)
    quantity = int_or_none(entry.get("quantity")) or line.quantity
    return LinePreview(
        unit_price=unit,
        amount=unit * quantity if unit is not None else None,
        currency=str(price.get("currency") or CURRENCY),
    )


def match_lines(
    lines: Sequence[OrderLine], entries: Iterable[T], fields: Callable[[T], Mapping[str, Any]]
) -> list[T | None]:
    """Pair each order line with the first unused answer entry for the same item and SKU.

    A second pass pairs lines sent without a SKU id with an entry for the same
    item, since the provider answers with the SKU it chose. Duplicated
    item+SKU lines therefore pair in order.
    """
    pool = [(entry, text(fields(entry).get("itemId")), text(fields(entry).get("skuId"))) for entry in entries]
    used = [False] * len(pool)
    result: list[T | None] = [None] * len(lines)
    for loose in (False, True):
        for n, line in enumerate(lines):
            if result[n] is not None or (loose and line.sku_id):
                continue
            for k, (entry, item_id, sku_id) in enumerate(pool):
                if not used[k] and item_id == line.item_id and (loose or sku_id == line.sku_id):
                    used[k], result[n] = True, entry
                    break
    return result


def planned_amount_fen(order: OrderDraft, preview: OrderPreview) -> int:
    """What the order is planned to cost in fen: previewed line amounts plus China freight."""
    total = sum(
        (yuan_to_fen(p.amount) for p in (preview.lines.get(line.line_no) for line in order.lines) if p and p.amount),
        0,
    )
    return total + (yuan_to_fen(preview.freight) if preview.freight is not None else 0)


def money(value: Any) -> Decimal | None:
    """``{amount, currency}`` with amount in fen, as yuan."""
    return fen_to_yuan(value.get("amount")) if isinstance(value, dict) else None


def sum_present(values: Iterable[Decimal | None]) -> Decimal | None:
    """The sum of the values that are present, or None when none is."""
    present = [v for v in values if v is not None]
    return sum(present, Decimal(0)) if present else None


def as_object(value: Any) -> dict[str, Any]:
    """A JSON object, or an empty one when the answer holds something else."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """A JSON array, or an empty one when the answer holds something else."""
    return value if isinstance(value, list) else []


def text(value: Any) -> str:
    """Ids and codes as text; JSON integers are turned into their digits, never into floats."""
    if value is None:
        return ""
    return str(value)


def int_or_none(value: Any) -> int | None:
    """A whole number given as a JSON integer or a string of digits; None otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


def json_id(value: str) -> int | str:
    """An id as the providers' examples send it inside JSON strings: an exact integer when it is digits."""
    return int(value) if value.isascii() and value.isdigit() else value
