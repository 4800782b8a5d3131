"""Realistic order sheets for the benchmarks: canonical columns, Chinese addresses, 18-digit ids.

About 2.2 lines per order and a configurable share of bad rows (a quantity
that is not whole, a missing address, an unknown provider), written as .xlsx
(text cells, as a careful user or the template would) or .csv.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

HEADERS = [
    "provider", "order_ref", "item_id", "sku_id", "quantity", "unit_price", "currency", "title",
    "receiver_name", "receiver_mobile", "province", "city", "district", "address", "zip",
]  # fmt: skip
ITEMS = [
    ("600126245031041190", "5016042822039", "12.50", "不锈钢保温杯 500ml"),
    ("600129202197070073", "4860968496626", "39.90", "加厚帆布托特包"),
    ("600086815456800431", "4766078803304", "16.80", "儿童吸管水杯 350ml"),
    ("600131587420016652", "5120033418870", "18.90", "陶瓷马克杯"),
    ("600140872255310248", "5203301889022", "9.90", "铝合金手机支架"),
]
PLACES = [
    ("浙江省", "杭州市", "余杭区", "文一西路969号", "311121"),
    ("上海市", "上海市", "浦东新区", "张江路88号", "201203"),
    ("广东省", "深圳市", "南山区", "科技园南区1号", "518057"),
    ("江苏省", "苏州市", "工业园区", "星湖街328号", "215123"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ["伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "杰", "军", "勇", "霞", "涛", "明", "超"]
RECEIVERS_PER_ORDER = 0.3
"""Distinct receivers per order: buyers reorder, so a consolidated sheet names the same people again."""


def receiver(number: int) -> list[str]:
    """Receiver ``number``: a name, one mobile kept on every order, a place and a house number."""
    name = SURNAMES[number % len(SURNAMES)] + GIVEN[number // len(SURNAMES) % len(GIVEN)]
    province, city, district, street, zip_code = PLACES[number % len(PLACES)]
    return [name, f"138{number % 100_000_000:08d}", province, city, district, f"{street}{number % 997 + 1}室", zip_code]


def rows(count: int, *, bad_share: float = 0.02, seed: int = 7) -> list[list[str]]:
    """``count`` order lines; orders of 1-4 lines share a receiver, and receivers come back on later orders.

    A bad row has a quantity that is not whole, a missing address, an
    unknown provider, or a mobile that differs from the receiver's other
    orders (a warning, not an error).
    """
    rng = random.Random(seed)
    receivers = max(1, int(count / 2.2 * RECEIVERS_PER_ORDER))
    out: list[list[str]] = []
    order = 0
    while len(out) < count:
        order += 1
        who = receiver(rng.randrange(receivers))
        for _ in range(min(rng.choice((1, 2, 2, 3, 3)), count - len(out))):
            item, sku, price, title = rng.choice(ITEMS)
            row = ["xportcn-open", f"PO-{order:07d}", item, sku, str(rng.randint(1, 5)), price, "CNY", title, *who]
            if rng.random() < bad_share:
                column = rng.choice((4, 13, 0, 9))
                row[column] = {4: "2.5", 13: "", 0: "xportcn", 9: f"139{rng.randrange(10**8):08d}"}[column]
            out.append(row)
    return out


def write_xlsx(path: Path, data: list[list[str]]) -> Path:
    """A workbook of text cells (xlsxwriter, streamed), as a user's careful sheet would be."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet("Orders")
    for c, header in enumerate(HEADERS):
        sheet.write_string(0, c, header)
    for r, row in enumerate(data, start=1):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value)
    workbook.close()
    return path


def write_csv(path: Path, data: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        writer.writerows(data)
    return path


def make(folder: Path, count: int, fmt: str = "xlsx") -> Path:
    """The sheet of ``count`` rows in ``folder`` (made once, then reused)."""
    path = folder / f"orders-{count}.{fmt}"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        data = rows(count)
        (write_xlsx if fmt == "xlsx" else write_csv)(path, data)
    return path
