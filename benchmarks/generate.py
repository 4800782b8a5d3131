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
NAMES = ["张三", "李四", "王五", "赵六", "陈七", "刘八"]


def rows(count: int, *, bad_share: float = 0.02, seed: int = 7) -> list[list[str]]:
    """``count`` order lines; orders of 1-4 lines share a receiver."""
    rng = random.Random(seed)
    out: list[list[str]] = []
    order = 0
    while len(out) < count:
        order += 1
        place = PLACES[order % len(PLACES)]
        receiver = [NAMES[order % len(NAMES)], f"138{order % 100_000_000:08d}", *place]
        for _ in range(min(rng.choice((1, 2, 2, 3, 3)), count - len(out))):
            item, sku, price, title = rng.choice(ITEMS)
            row = ["xportcn-open", f"PO-{order:07d}", item, sku, str(rng.randint(1, 5)), price, "CNY", title, *receiver]
            if rng.random() < bad_share:
                row[rng.choice((4, 13, 0))] = rng.choice(("2.5", "", "xportcn"))
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
