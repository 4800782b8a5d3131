"""Write the sample sheets in this folder: ``python samples/make_samples.py``.

The item and SKU ids are those of the bundled sandbox catalogue
(``importer/sandbox/catalogue.py``), so the samples import cleanly against it.
Cells holding ids and phone numbers are written as text, as a careful user
(or the template) would.
"""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

HERE = Path(__file__).parent

HEADERS = [
    "provider",
    "order_ref",
    "item_id",
    "sku_id",
    "quantity",
    "unit_price",
    "currency",
    "title",
    "receiver_name",
    "receiver_mobile",
    "province",
    "city",
    "district",
    "town",
    "address",
    "zip",
    "order_remark",
    "buyer_note",
]

RECEIVER_A = ["张三", "13800138000", "浙江省", "杭州市", "余杭区", "五常街道", "文一西路969号", "311121", "请尽快发货"]
RECEIVER_B = ["李四", "13912345678", "内蒙古自治区", "呼和浩特市", "新城区", "中山东路街道", "新华东街88号", "010020", ""]
RECEIVER_C = ["王五", "+8615068763421", "广东省", "深圳市", "南山区", "粤海街道", "科技园南区1号", "518057", "易碎品请小心"]
BLANK_RECEIVER = [""] * 9

CLEAN_ROWS = [  # one sheet, every provider: the demo import
    [
        "xportcn-open",
        "PO-1001",
        "600126245031041190",
        "5016042822039",
        "2",
        "12.50",
        "CNY",
        "保温杯 500ml",
        *RECEIVER_A,
        "first order",
    ],
    ["xportcn-open", "PO-1001", "600129202197070073", "4860968496626", "1", "", "CNY", "帆布包", *BLANK_RECEIVER, ""],
    [
        "dajisaas",
        "PO-1002",
        "652711530188",
        "4412088130021",
        "5",
        "12.50",
        "CNY",
        "保温杯 (raw Taobao id)",
        *RECEIVER_B,
        "",
    ],
    [
        "shanjing",
        "PO-1003",
        "652734409921",
        "4420517730011",
        "3",
        "",
        "CNY",
        "帆布包 (raw Taobao id)",
        *RECEIVER_C,
        "=not a formula",
    ],
    ["shanjing", "PO-1003", "600126245031041190", "5016042822039", "1", "", "CNY", "保温杯 500ml", *BLANK_RECEIVER, ""],
    ["xportcn-ka-taobao", "PO-1004", "600131587420016652", "", "2", "", "CNY", "陶瓷马克杯", *RECEIVER_A, ""],
    [
        "xportcn-ka-1688",
        "PO-1005",
        "889512351602",
        "530ad0e3e64c05d35bc0b1a2ec2a0652",
        "2",
        "",
        "CNY",
        "儿童积木 (1688)",
        *RECEIVER_B,
        "",
    ],
    [
        "xportcn-ka-1688",
        "PO-1005",
        "652876415053",
        "9a1b3c5d7e9f1a2b4c6d8e0f2a4b6c8d",
        "10",
        "",
        "CNY",
        "数据线 (1688, 2nd supplier)",
        *BLANK_RECEIVER,
        "",
    ],
]

# One sheet per provider: what a team working with one agent fills in.
PROVIDER_ROWS = {
    "xportcn-open": [
        [
            "xportcn-open",
            "XO-1",
            "600126245031041190",
            "5016042822039",
            "2",
            "12.50",
            "CNY",
            "保温杯 500ml",
            *RECEIVER_A,
            "",
        ],
        [
            "xportcn-open",
            "XO-1",
            "600140872255310248",
            "5203301889021",
            "1",
            "",
            "CNY",
            "手机支架 (银)",
            *BLANK_RECEIVER,
            "",
        ],
        [
            "xportcn-open",
            "XO-2",
            "600086815456800431",
            "4766078803304",
            "4",
            "",
            "CNY",
            "儿童吸管水杯",
            *RECEIVER_B,
            "",
        ],
    ],
    "xportcn-ka-taobao": [
        [
            "xportcn-ka-taobao",
            "KT-1",
            "600126245031041190",
            "5016042822039",
            "1",
            "",
            "CNY",
            "保温杯 500ml",
            *RECEIVER_A,
            "",
        ],
        [
            "xportcn-ka-taobao",
            "KT-1",
            "600129202197070073",
            "4860968496627",
            "2",
            "",
            "CNY",
            "帆布包 (米)",
            *BLANK_RECEIVER,
            "",
        ],
        ["xportcn-ka-taobao", "KT-2", "600131587420016652", "", "3", "", "CNY", "陶瓷马克杯", *RECEIVER_C, ""],
    ],
    "xportcn-ka-1688": [
        [
            "xportcn-ka-1688",
            "AL-1",
            "889512351602",
            "530ad0e3e64c05d35bc0b1a2ec2a0652",
            "2",
            "",
            "CNY",
            "儿童积木",
            *RECEIVER_A,
            "",
        ],
        [
            "xportcn-ka-1688",
            "AL-1",
            "743109225518",
            "2c9d4e6f8a0b1c3d5e7f9a1b3c5d7e9f",
            "5",
            "",
            "CNY",
            "硅胶厨房铲",
            *BLANK_RECEIVER,
            "",
        ],
        [
            "xportcn-ka-1688",
            "AL-2",
            "652876415053",
            "9a1b3c5d7e9f1a2b4c6d8e0f2a4b6c8d",
            "20",
            "",
            "CNY",
            "数据线",
            *RECEIVER_C,
            "",
        ],
    ],
    "dajisaas": [
        ["dajisaas", "DJ-1", "652711530188", "4412088130021", "2", "", "CNY", "保温杯 (raw id)", *RECEIVER_A, ""],
        [
            "dajisaas",
            "DJ-1",
            "652876415053",
            "4891238819931",
            "3",
            "",
            "CNY",
            "数据线 2米 (raw id)",
            *BLANK_RECEIVER,
            "",
        ],
        ["dajisaas", "DJ-2", "600129202197070073", "4860968496626", "1", "", "CNY", "帆布包 (mpId)", *RECEIVER_B, ""],
    ],
    "shanjing": [
        ["shanjing", "SJ-1", "652901887342", "", "1", "", "CNY", "桌面收纳盒 (raw id, one SKU)", *RECEIVER_C, ""],
        ["shanjing", "SJ-1", "652790034416", "4450012398801", "2", "", "CNY", "手机支架 (raw id)", *BLANK_RECEIVER, ""],
        ["shanjing", "SJ-2", "600126245031041190", "5016042822039", "6", "", "CNY", "保温杯 (mpId)", *RECEIVER_A, ""],
    ],
}

ERROR_ROWS = [
    [
        "xportcn-open",
        "PO-2001",
        "600126245031041190",
        "5016042822039",
        "2",
        "12.50",
        "CNY",
        "clean order",
        *RECEIVER_A,
        "",
    ],
    [
        "xportcn-open",
        "PO-2002",
        "600126245031041190",
        "5016042822039",
        "2.5",
        "",
        "CNY",
        "quantity not whole",
        *RECEIVER_B,
        "",
    ],
    [
        "xportcn-open",
        "PO-2002",
        "600129202197070073",
        "4860968496626",
        "1",
        "",
        "CNY",
        "held with its order",
        *BLANK_RECEIVER,
        "",
    ],
    ["xportcn-open", "", "600126245031041190", "5016042822039", "1", "", "CNY", "no order_ref", *RECEIVER_C, ""],
    ["xportcn", "PO-2003", "600126245031041190", "5016042822039", "1", "", "CNY", "unknown provider", *RECEIVER_C, ""],
    [
        "xportcn-open",
        "PO-2004",
        "600126245031041190",
        "5016042822039",
        "1",
        "-3",
        "RMB",
        "bad price and currency",
        *RECEIVER_C,
        "",
    ],
    [
        "xportcn-open",
        "PO-2005",
        "600126245031041190",
        "5016042822039",
        "1",
        "",
        "CNY",
        "bad phone",
        "赵六",
        "call me",
        *RECEIVER_C[2:],
        "",
    ],
    [
        "xportcn-open",
        "PO-2006",
        "600126245031041190",
        "5016042822039",
        "1",
        "",
        "CNY",
        "receiver differs",
        *RECEIVER_A,
        "",
    ],
    [
        "xportcn-open",
        "PO-2006",
        "600129202197070073",
        "4860968496626",
        "1",
        "",
        "CNY",
        "receiver differs",
        "李四",
        *RECEIVER_A[1:],
        "",
    ],
    [
        "xportcn-open",
        "PO-2007",
        "999999999999999999",
        "1",
        "1",
        "",
        "CNY",
        "unknown item (fails at preview)",
        *RECEIVER_B,
        "",
    ],
    [
        "xportcn-open",
        "PO-2007",
        "600126245031041190",
        "5016042822039",
        "1",
        "",
        "CNY",
        "held: other line failed",
        *BLANK_RECEIVER,
        "",
    ],
    [
        "xportcn-open",
        "PO-2008",
        "600129202197070073",
        "4860968496626",
        "100000",
        "",
        "CNY",
        "out of stock (fails at preview)",
        *RECEIVER_C,
        "",
    ],
    [
        "xportcn-open",
        "PO-2009",
        "600126245031041190",
        "5016042822039",
        "1",
        "",
        "CNY",
        "no address",
        *RECEIVER_A[:6],
        "",
        *RECEIVER_A[7:],
        "",
    ],
]


WARNING_ROWS = [  # rows that go ahead, each with a note on it
    [
        "xportcn-open",
        "PO-3001",
        "600126245031041190",
        "5016042822039",
        "2",
        "16.00",
        "CNY",
        "price well above the provider's (warning)",
        *RECEIVER_A[:8],
        "请尽快发货" * 50,
        "",
    ],
    [
        "xportcn-open",
        "PO-3002",
        "600129202197070073",
        "4860968496626",
        "1",
        "",
        "CNY",
        "same receiver, other mobile (warning)",
        RECEIVER_A[0],
        "13900139000",
        *RECEIVER_A[2:8],
        "",
        "",
    ],
    [
        "xportcn-open",
        "PO-3003",
        "600126245031041190",
        "5016042822039",
        "1",
        "",
        "CNY",
        "full-width quantity, folded",
        *RECEIVER_B[:8],
        "",
        "",
    ],
]
WARNING_ROWS[2][4] = "１"
# Rows with a knowable fix: the message says it, and --fix applies it to a copy of the sheet.
WARNING_ROWS += [
    ["xportcn-open", "PO-3004", "https://detail.tmall.com/item.htm?id=600129202197070073", "4860968496626", "1", "¥39.90", "RMB", "fixable: link, price and currency", "王五", "+86 138-0013-8000", "浙江", "杭州市", "余杭区", "", "文一西路969号", "311121", "", ""],
]


# Numbers and dates as people type them, understood as the number and the day meant; the cells
# stay as typed in the results, and order_date_iso shows the day read.
WARNING_ROWS += [
    ["xportcn-open", "PO-3005", "600126245031041190", "5016042822039", "1", "12.5元", "", "price typed 12.5元, read as 12.50", *RECEIVER_B[:8], "", ""],
    ["xportcn-open", "PO-3006", "600126245031041190", "5016042822039", "1", "RMB 12.50", "CNY", "price typed RMB 12.50, read as 12.50", *RECEIVER_B[:8], "", ""],
]
WARNING_HEADERS = [*HEADERS, "order_date"]
# One date spelling per row: ISO, slashes, compact, dots, 年月日, an Excel serial, day first.
for row, day in zip(WARNING_ROWS, ["2026-11-24", "2026/11/24", "20261124", "2026.11.24", "2026年11月24日", "46350"], strict=True):
    row.append(day)


def write_xlsx(path: Path, rows: list[list[str]], headers: list[str] = HEADERS) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Orders"
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for row in rows:
        sheet.append(row)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.data_type = "s"  # typed as text, so ids and phones keep every digit
            cell.number_format = "@"
    widths = {"A": 14, "B": 10, "C": 21, "D": 15, "H": 30, "J": 16, "N": 22}
    for column, width in widths.items():
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    workbook.save(path)


def write_gbk_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="gbk", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        writer.writerows(rows)


def main() -> None:
    write_xlsx(HERE / "orders.xlsx", CLEAN_ROWS)
    for provider, rows in PROVIDER_ROWS.items():
        write_xlsx(HERE / f"orders-{provider}.xlsx", rows)
    write_xlsx(HERE / "orders-with-errors.xlsx", ERROR_ROWS)
    write_xlsx(HERE / "orders-with-warnings.xlsx", WARNING_ROWS, WARNING_HEADERS)
    write_gbk_csv(HERE / "orders.csv", CLEAN_ROWS)


if __name__ == "__main__":
    main()
