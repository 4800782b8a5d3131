"""The sandbox's own business rules: what it enforces that no provider document states.

The documents fix the request fields and answer shapes (checked in each
provider module with :mod:`.schema`); they say nothing of stock, freight,
fees or amount checks. The sandbox needs some such rules to be a useful
stand-in, and they are all here, named as the sandbox's, so a test or a reader
never mistakes one for a provider's documented behaviour:

- **Stock.** A line buys only what the shelf holds (the catalogues' ``stock``);
  earlier lines of the same call count against it.
- **Prices.** The sandbox charges its catalogue price. A line's ``price`` is
  the buyer's declared price and is not checked against it: the Dajisaas
  document's own example declares 100 fen for a line its answer charges
  2180 fen a unit (6540 for 3).
- **Freight.** China freight is :data:`FREIGHT_FEN` per seller group (Taobao
  family) and :data:`CARRIAGE_FEN` per 1688 supplier.
- **1688 service fee.** ``sumTotalPayment`` adds :data:`SERVICE_FEE_PER_MILLE`
  per mille (the documented example's 6400 → 6561 is about 2.5 %).
- **Xportcn OpenAPI purchaseAmount.** It must equal Σ line price × quantity,
  the arithmetic of the documented example (400 = 1 × 200 + 1 × 200).
- **1688 preview before create.** A create must follow a preview of the same
  cargo within :data:`PREVIEW_MEMORY_SECONDS`; ``tradeType``, when sent, must
  be a trade mode of every supplier.
- **Dajisaas warehouse.** ``warehouse_address_info`` is required when the
  receiver is in mainland China (upstream: "非跨境必填", required when the
  order is not cross-border).
- **No deduplication.** A caller reference sent twice buys twice.
"""

from __future__ import annotations

from collections.abc import Iterable

FREIGHT_FEN = 600
"""China freight per seller group on the Taobao-family sandboxes."""
CARRIAGE_FEN = 600
"""1688 carriage per supplier."""
SERVICE_FEE_PER_MILLE = 25
"""The 1688 service fee added in ``sumTotalPayment``."""
PREVIEW_MEMORY_SECONDS = 1800.0
"""How long a 1688 preview lets the same cargo be created."""
MAINLAND = frozenset({"中国", "中国大陆", "China", "CN", "CHN", "china", "cn"})
"""Receiver countries that make an order not cross-border (the Dajisaas warehouse rule)."""


def stock_refusal(left: int, quantity: int) -> tuple[str, str] | None:
    """``(error code, reason)`` when ``quantity`` is more than the ``left`` units on the shelf; None otherwise."""
    if left <= 0:
        return "SOLD_OUT", "商品已售罄"
    if quantity > left:
        return "INSUFFICIENT_STOCK", f"库存不足，仅剩{left}件"
    return None


def purchase_amount_refusal(amount: int, lines: Iterable[tuple[int, int]]) -> str | None:
    """Why an Xportcn OpenAPI ``purchaseAmount`` disagrees with its lines' ``(price, quantity)``; None when equal."""
    expected = sum(price * quantity for price, quantity in lines)
    if amount != expected:
        return f"purchaseAmount {amount} is not the sum of price x quantity of orderLineList ({expected})"
    return None


def needs_warehouse(receiver_country: str) -> bool:
    """Whether a Dajisaas create must carry ``warehouse_address_info`` (the order is not cross-border)."""
    return receiver_country.strip() in MAINLAND or not receiver_country.strip()


def service_fee(payment_fen: int) -> int:
    """The 1688 service fee on a supplier group's payment."""
    return payment_fen * SERVICE_FEE_PER_MILLE // 1000
