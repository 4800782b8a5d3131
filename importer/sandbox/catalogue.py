"""The sandbox's shared item catalogue: what every sandbox provider can sell.

Prices are in fen (1/100 yuan), as the upstream Taobao Global APIs quote them.
The samples and the tests use these ids; change them together.

| item_id (mpId)     | sku_id (mpSkuId) | raw item id  | raw sku id    | title               | seller   | fen  | stock |
|--------------------|------------------|--------------|---------------|---------------------|----------|------|-------|
| 600126245031041190 | 5016042822039    | 652711530188 | 4412088130021 | 不锈钢保温杯 (黑)   | Hangzhou | 1250 | 50000 |
| 600126245031041190 | 5016042822040    | 652711530188 | 4412088130022 | 不锈钢保温杯 (白)   | Hangzhou | 1250 | 5     |
| 600126245031041190 | 5016042822041    | 652711530188 | 4412088130023 | 不锈钢保温杯 (粉)   | Hangzhou | 1350 | 0     |
| 600129202197070073 | 4860968496626    | 652734409921 | 4420517730011 | 加厚帆布托特包 (卡其) | Yiwu   | 3990 | 9999  |
| 600129202197070073 | 4860968496627    | 652734409921 | 4420517730012 | 加厚帆布托特包 (米) | Yiwu     | 3990 | 9999  |
| 600086815456800431 | 4766078803304    | 652688120554 | 4398811202210 | 儿童吸管水杯 350ml  | Hangzhou | 1680 | 500   |
| 600131587420016652 | 5120033418870    | 652745562817 | 4431902277410 | 陶瓷马克杯 (单SKU)  | Hangzhou | 1890 | 800   |
| 600140872255310248 | 5203301889021    | 652790034416 | 4450012398801 | 手机支架 (银) *     | Shenzhen | 790  | 2000  |
| 600140872255310248 | 5203301889022    | 652790034416 | 4450012398802 | 手机支架 (黑)       | Shenzhen | 990  | 2000  |
| 600152876415053012 | 4891238819930    | 652876415053 | 4891238819930 | Type-C 数据线 1米   | Shenzhen | 500  | 10000 |
| 600152876415053012 | 4891238819931    | 652876415053 | 4891238819931 | Type-C 数据线 2米   | Shenzhen | 700  | 10000 |
| 600152901887342015 | 4893302211470    | 652901887342 | 4893302211470 | 桌面收纳盒 (单SKU)  | Yiwu     | 2450 | 300   |

| 908842788582       | 5770276409292    |              |               | 旅行收纳袋          | Hangzhou | 1590 | 1000  |
| 953853002606       | SKU987654322     |              |               | 折叠衣架            | Yiwu     | 860  | 1000  |
| 2048153758314474   | 3357413213162    | 703446760426 | 3357413213162 | 测试商品1           | Jingxuan | 2180 | 1000  |
| 600068435000185140 | 4683815098027    |              |               | 测试商品1 (闪鲸)    | Jingxuan | 1650 | 1000  |

The first two rows are the Xportcn OpenAPI create example's lines, the sixth the
documented create answer's line. The last four are the other documents' example
lines: KA TaoOrder's two (its ``skuId`` "SKU987654322" is not digits; the KA
surface takes it as written), Dajisaas' (2180 fen a unit, as its documented
answer charges 6540 for 3; its raw id is the Dajisaas collision example's) and
Shanjing's. ``*`` discounted from 990. The last two items keep their raw SKU ids as
mpSkuIds, as some mapped items do.

Sellers (nick, seller id): Hangzhou = 杭州优品家居旗舰店, 2206512345678;
Yiwu = 义乌小商品批发城, 1812345678; Shenzhen = 深圳数码配件专营店, 3937219703;
Jingxuan = 淘宝精选, 2200000000001.
Providers that buy by distributor ids (mpId / mpSkuId) map the raw Taobao ids
first (撞库); :func:`find_raw` is what their mapping endpoints look up.

An item with a single SKU may be ordered with an empty ``sku_id``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Seller:
    """A shop on the marketplace; orders are split into one group per seller."""

    nick: str
    seller_id: str


@dataclass(frozen=True, slots=True)
class Sku:
    """One buyable variant. ``price`` and ``discount_price`` are in fen."""

    sku_id: str
    props: str
    price: int
    stock: int
    discount_price: int | None = None
    raw_sku_id: str = ""

    @property
    def pay_price(self) -> int:
        """The unit price a buyer pays today."""
        return self.discount_price if self.discount_price is not None else self.price


@dataclass(frozen=True, slots=True)
class Item:
    """One listing with its SKUs; ``raw_id`` is the marketplace's own id of an mp-style item."""

    item_id: str
    title: str
    seller: Seller
    skus: tuple[Sku, ...]
    raw_id: str = ""
    platform: str = "taobao"


HANGZHOU = Seller("杭州优品家居旗舰店", "2206512345678")
YIWU = Seller("义乌小商品批发城", "1812345678")
SHENZHEN = Seller("深圳数码配件专营店", "3937219703")
JINGXUAN = Seller("淘宝精选", "2200000000001")

CATALOGUE: tuple[Item, ...] = (
    Item(
        "600126245031041190",
        "不锈钢保温杯 500ml",
        HANGZHOU,
        (
            Sku("5016042822039", "颜色:黑色;容量:500ml", 1250, 50000, raw_sku_id="4412088130021"),
            Sku("5016042822040", "颜色:白色;容量:500ml", 1250, 5, raw_sku_id="4412088130022"),
            Sku("5016042822041", "颜色:粉色;容量:500ml", 1350, 0, raw_sku_id="4412088130023"),
        ),
        raw_id="652711530188",
    ),
    Item(
        "600129202197070073",
        "加厚帆布托特包",
        YIWU,
        (
            Sku("4860968496626", "颜色:卡其", 3990, 9999, raw_sku_id="4420517730011"),
            Sku("4860968496627", "颜色:米白", 3990, 9999, raw_sku_id="4420517730012"),
        ),
        raw_id="652734409921",
    ),
    Item(
        "600086815456800431",
        "儿童吸管水杯 350ml",
        HANGZHOU,
        (Sku("4766078803304", "颜色:蓝色", 1680, 500, raw_sku_id="4398811202210"),),
        raw_id="652688120554",
    ),
    Item(
        "600131587420016652",
        "陶瓷马克杯",
        HANGZHOU,
        (Sku("5120033418870", "默认", 1890, 800, raw_sku_id="4431902277410"),),
        raw_id="652745562817",
    ),
    Item(
        "600140872255310248",
        "铝合金手机支架",
        SHENZHEN,
        (
            Sku("5203301889021", "颜色:银色", 990, 2000, discount_price=790, raw_sku_id="4450012398801"),
            Sku("5203301889022", "颜色:黑色", 990, 2000, raw_sku_id="4450012398802"),
        ),
        raw_id="652790034416",
    ),
    Item(
        "600152876415053012",
        "Type-C 数据线",
        SHENZHEN,
        (
            Sku("4891238819930", "长度:1米", 500, 10000, raw_sku_id="4891238819930"),
            Sku("4891238819931", "长度:2米", 700, 10000, raw_sku_id="4891238819931"),
        ),
        raw_id="652876415053",
    ),
    Item(
        "600152901887342015",
        "桌面收纳盒",
        YIWU,
        (Sku("4893302211470", "默认", 2450, 300, raw_sku_id="4893302211470"),),
        raw_id="652901887342",
    ),
    Item("908842788582", "旅行收纳袋", HANGZHOU, (Sku("5770276409292", "默认", 1590, 1000),)),
    Item("953853002606", "折叠衣架", YIWU, (Sku("SKU987654322", "默认", 860, 1000),)),
    Item(
        "2048153758314474",
        "测试商品1",
        JINGXUAN,
        (Sku("3357413213162", "默认", 2180, 1000, raw_sku_id="3357413213162"),),
        raw_id="703446760426",
    ),
    Item("600068435000185140", "测试商品1", JINGXUAN, (Sku("4683815098027", "默认", 1650, 1000),)),
)

_ITEMS = {item.item_id: item for item in CATALOGUE}
_BY_RAW_ID = {item.raw_id: item for item in CATALOGUE if item.raw_id}


def find_item(item_id: str) -> Item | None:
    """The catalogue item with this id, or None."""
    return _ITEMS.get(item_id)


def find_sku(item_id: str, sku_id: str) -> tuple[Item, Sku] | None:
    """The item and SKU for an order line, or None when either is unknown.

    An empty ``sku_id`` names the only SKU of a single-SKU item; on an item
    with several SKUs it matches nothing.
    """
    item = _ITEMS.get(item_id)
    if item is None:
        return None
    if not sku_id:
        return (item, item.skus[0]) if len(item.skus) == 1 else None
    for sku in item.skus:
        if sku.sku_id == sku_id:
            return item, sku
    return None


def find_raw(raw_item_id: str) -> Item | None:
    """The item a raw Taobao item id maps to (the collision endpoints' lookup), or None."""
    return _BY_RAW_ID.get(raw_item_id)
