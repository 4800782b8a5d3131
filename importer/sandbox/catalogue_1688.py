"""The 1688 offers the sandbox sells through the Xportcn KA AlibabaOrderController.

1688 buys by ``offerId`` (an integer) and ``specId`` (a 32-character hex
string); ``skuId`` is only echoed back. Prices are in fen. Stock lives in the
shared :class:`~importer.sandbox.state.SandboxState` under ``(offerId, specId)``.

| offerId      | specId                           | skuId         | title              | supplier | fen  | stock |
|--------------|----------------------------------|---------------|--------------------|----------|------|-------|
| 889512351602 | 530ad0e3e64c05d35bc0b1a2ec2a0652 | 5736673805656 | 儿童积木 (彩色)     | Letong   | 2900 | 5000  |
| 889512351602 | 7f2b61c4d9a84e0fb6a3c2d1e0f9a811 | 5736673805657 | 儿童积木 (蓝色)     | Letong   | 2900 | 0     |
| 743109225518 | 2c9d4e6f8a0b1c3d5e7f9a1b3c5d7e9f | 5012240981133 | 硅胶厨房铲          | Jinhua   | 650  | 20000 |
| 743109225518 | 4e6f8a0b1c3d5e7f9a1b3c5d7e9f1a2b | 5012240981134 | 硅胶厨房铲 (三件套) | Jinhua   | 1800 | 4     |
| 652876415053 | 9a1b3c5d7e9f1a2b4c6d8e0f2a4b6c8d | 4891238810001 | Type-C 数据线 1米   | Dongguan | 350  | 30000 |

The first row is the documented preview example's cargo line (its finalUnitPrice
is 2900 fen); the last is the offer the Shanjing collision example names.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Supplier:
    """A 1688 seller; an order is split into one 1688 order per supplier."""

    name: str
    open_id: str
    trade_modes: tuple[str, ...] = ("fxassure", "assureTrade")


@dataclass(frozen=True, slots=True)
class Spec:
    """One buyable variant of an offer."""

    spec_id: str
    sku_id: str
    props: str
    price: int
    stock: int


@dataclass(frozen=True, slots=True)
class Offer:
    """One 1688 listing."""

    offer_id: str
    title: str
    supplier: Supplier
    specs: tuple[Spec, ...]


LETONG = Supplier("义乌市乐童玩具厂", "BBBxZ2u3pYVdQk1xLetong")
JINHUA = Supplier("金华市优厨硅胶制品有限公司", "BBBq8Yc0cPjJinhuaKitchen")
DONGGUAN = Supplier("东莞市联芯电子有限公司", "BBB7rDongguanLianxin", ("assureTrade",))

OFFERS: tuple[Offer, ...] = (
    Offer(
        "889512351602",
        "儿童积木玩具套装",
        LETONG,
        (
            Spec("530ad0e3e64c05d35bc0b1a2ec2a0652", "5736673805656", "颜色:彩色", 2900, 5000),
            Spec("7f2b61c4d9a84e0fb6a3c2d1e0f9a811", "5736673805657", "颜色:蓝色", 2900, 0),
        ),
    ),
    Offer(
        "743109225518",
        "硅胶厨房铲",
        JINHUA,
        (
            Spec("2c9d4e6f8a0b1c3d5e7f9a1b3c5d7e9f", "5012240981133", "规格:单只", 650, 20000),
            Spec("4e6f8a0b1c3d5e7f9a1b3c5d7e9f1a2b", "5012240981134", "规格:三件套", 1800, 4),
        ),
    ),
    Offer(
        "652876415053",
        "Type-C 数据线",
        DONGGUAN,
        (Spec("9a1b3c5d7e9f1a2b4c6d8e0f2a4b6c8d", "4891238810001", "长度:1米", 350, 30000),),
    ),
)

_OFFERS = {offer.offer_id: offer for offer in OFFERS}


def find_offer(offer_id: str) -> Offer | None:
    """The offer with this id, or None."""
    return _OFFERS.get(offer_id)


def find_spec(offer_id: str, spec_id: str) -> tuple[Offer, Spec] | None:
    """The offer and spec of a cargo line, or None when either is unknown."""
    offer = _OFFERS.get(offer_id)
    if offer is None:
        return None
    return next(((offer, spec) for spec in offer.specs if spec.spec_id == spec_id), None)
