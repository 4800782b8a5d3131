"""Order-sheet templates: one per provider and one for all, with help on every header.

A template is what a bulk-buying team fills in by hand, so it guards against
the usual Excel accidents: id, phone and zip columns are formatted as text
(Excel cannot turn ``600126245031041190`` into ``6.00126E+17``), provider and
currency are drop-downs, quantity only takes whole numbers, the header row is
frozen, and every header carries a note saying what goes there. A second sheet
explains the columns in English and Chinese. The example order uses ids of the
bundled sandbox. Each example row carries a defined name,
``OrderImporter_Example_<fingerprint>`` (see :func:`importer.examples.row_fingerprint`),
so an import skips it while it is unchanged: an untouched template buys
nothing, and an example row the user edited is read as an order.

``order-importer template PROVIDER -o FILE`` writes one; the files in
``templates/`` are made by ``order-importer template all -o templates/``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from .errors import ConfigError

ALL = "all"
TEXT_FORMAT = "@"
ROWS_PREPARED = 2000
KNOWN_CURRENCIES = ("CNY", "USD", "EUR", "HKD", "JPY")

# column -> (English help, Chinese help, example)
COLUMN_HELP: dict[str, tuple[str, str, str]] = {
    "provider": ("Provider key: where the order goes.", "下单渠道 (供应商接口)。", "xportcn-open"),
    "order_ref": (
        "Your order reference. Rows with the same provider and order_ref form one order.",
        "您的订单号; 渠道和订单号相同的行合为一个订单。",
        "PO-1001",
    ),
    "line_no": ("Line number in the order (optional; 1, 2, ... when empty).", "订单行号 (可空)。", "1"),
    "item_id": (
        "Product id, or the product link (item.taobao.com, detail.tmall.com, detail.1688.com).",
        "商品ID 或商品链接。",
        "600126245031041190",
    ),
    "sku_id": (
        "SKU id (1688: specId) when the product has several.",
        "SKU ID (1688 为规格ID specId)。",
        "5016042822039",
    ),
    "quantity": ("How many units: a whole number above 0.", "数量: 大于 0 的整数。", "2"),
    "unit_price": ("The unit price you expect (optional), e.g. 12.50.", "预期单价 (可空), 例如 12.50。", "12.50"),
    "currency": ("Currency code of unit_price, e.g. CNY.", "币种, 例如 CNY。", "CNY"),
    "title": ("Product name, for your own reference.", "商品名称 (备查)。", "保温杯 500ml"),
    "line_remark": ("A note for this line.", "行备注。", ""),
    "receiver_name": ("Receiver's name; on the order's first row.", "收货人姓名 (填在订单第一行)。", "张三"),
    "receiver_phone": ("Landline (optional if a mobile is given).", "固定电话 (有手机可不填)。", ""),
    "receiver_mobile": ("Mobile number; leading 0 or +86 are kept.", "手机号码, 保留开头的 0 或 +86。", "13800138000"),
    "country": ("Country (default 中国).", "国家 (默认 中国)。", "中国"),
    "province": ("Province.", "省。", "浙江省"),
    "city": ("City.", "市。", "杭州市"),
    "district": ("District.", "区/县。", "余杭区"),
    "address": ("Street address.", "详细地址。", "文一西路969号"),
    "zip": ("Postal code (kept as text).", "邮编。", "311121"),
    "tax_id": (
        "Receiver's tax or identity number where the destination needs one (Brazil: CPF or CNPJ).",
        "收货人税号/证件号 (目的地需要时, 如巴西 CPF/CNPJ)。",
        "",
    ),
    "order_remark": ("A note for the whole order.", "订单备注。", ""),
    "order_date": (
        "Your order date (optional), e.g. 2026-11-24, 2026/11/24 or 2026年11月24日.",
        "下单日期 (可空), 例如 2026-11-24、2026/11/24 或 2026年11月24日。",
        "2026-11-24",
    ),
    "order_source": ("Marketplace the order comes from (optional).", "订单来源平台 (可空)。", ""),
    "town": ("1688 only: the town or street (townText, required by 1688).", "1688: 镇/街道 (必填)。", "五常街道"),
    "district_code": ("1688 only: the district code of the address (optional).", "1688: 地区编码 (可空)。", ""),
}
TEXT_COLUMNS = frozenset(
    {"order_ref", "line_no", "item_id", "sku_id", "receiver_phone", "receiver_mobile", "zip", "district_code"}
    | {"tax_id", "order_date"}
)
WIDTHS = {"item_id": 22, "sku_id": 34, "address": 24, "title": 20, "provider": 18, "receiver_mobile": 16}
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def template_columns(provider: str) -> list[str]:
    """The sheet columns for one provider (canonical columns plus the adapter's own), or for all."""
    from .models import CANONICAL_COLUMNS
    from .providers import REGISTRY

    keys = list(REGISTRY) if provider == ALL else [provider]
    extra = [column for key in keys for column in REGISTRY[key].columns]
    return [*CANONICAL_COLUMNS, *dict.fromkeys(extra)]


def example_rows(provider: str) -> list[dict[str, str]]:
    """A two-line example order with the ids of :mod:`importer.examples` (the sandbox sells them)."""
    from .examples import example_lines

    key = "xportcn-open" if provider == ALL else provider
    lines = example_lines(key)
    first = {column: help_[2] for column, help_ in COLUMN_HELP.items() if help_[2]}
    rows = []
    for n, line in enumerate(lines):
        row = {**(first if n == 0 else {}), **line, "provider": key, "order_ref": "EXAMPLE-1", "line_no": str(n + 1)}
        row.pop("unit_price", None)
        row["title"] = first["title"] if n == 0 else ""
        rows.append(row)
    return rows


def write_template(provider: str, path: str | Path) -> Path:
    """Write the template for ``provider`` (a registered key, or ``all``) to ``path``."""
    from .providers import REGISTRY

    if provider != ALL and provider not in REGISTRY:
        raise ConfigError(f"unknown provider '{provider}'; known: {', '.join([ALL, *sorted(REGISTRY)])}")
    columns = template_columns(provider)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Orders"
    _header(sheet, columns)
    _examples(sheet, columns, example_rows(provider))
    _mark_examples(workbook, sheet, columns, example_rows(provider))
    _validations(sheet, columns, list(REGISTRY) if provider == ALL else [provider])
    _explanations(workbook, columns)
    target = Path(path)
    workbook.save(target)
    return target


def write_all(folder: str | Path) -> list[Path]:
    """One template per provider plus ``all-providers.xlsx`` in ``folder``."""
    from .providers import REGISTRY

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = [write_template(key, out / f"{key}.xlsx") for key in REGISTRY]
    written.append(write_template(ALL, out / "all-providers.xlsx"))
    return written


def _header(sheet: Any, columns: Sequence[str]) -> None:
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index, value=column)
        english, chinese, example = COLUMN_HELP.get(column, ("", "", ""))
        note = f"{english}\n{chinese}" + (f"\nExample / 例: {example}" if example else "")
        cell.comment = Comment(note, "order-importer", width=320, height=110)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = WIDTHS.get(column, max(12, len(column) + 4))
        if column in TEXT_COLUMNS:
            for row in range(2, ROWS_PREPARED + 2):
                sheet.cell(row=row, column=index).number_format = TEXT_FORMAT
    sheet.freeze_panes = "A2"


def _examples(sheet: Any, columns: Sequence[str], rows: Sequence[Mapping[str, str]]) -> None:
    for offset, values in enumerate(rows):
        for index, column in enumerate(columns, start=1):
            value = values.get(column, "")
            if value:
                cell = sheet.cell(row=2 + offset, column=index)
                cell.value = value
                cell.data_type = "s"


def _mark_examples(workbook: Workbook, sheet: Any, columns: Sequence[str], rows: Sequence[Mapping[str, str]]) -> None:
    """Name each example row after its fingerprint, so an import knows it for the untouched example."""
    from openpyxl.workbook.defined_name import DefinedName

    from .examples import row_fingerprint
    from .read.sheet import EXAMPLE_NAME_PREFIX

    last = get_column_letter(len(columns))
    for offset, values in enumerate(rows):
        row = 2 + offset
        name = EXAMPLE_NAME_PREFIX + row_fingerprint({c: values.get(c, "") for c in columns})
        workbook.defined_names[name] = DefinedName(name, attr_text=f"'{sheet.title}'!$A${row}:${last}${row}")


def _validations(sheet: Any, columns: Sequence[str], providers: Sequence[str]) -> None:
    last = ROWS_PREPARED + 1

    def column_range(name: str) -> str:
        letter = get_column_letter(columns.index(name) + 1)
        return f"{letter}2:{letter}{last}"

    lists = {"provider": providers, "currency": KNOWN_CURRENCIES}
    for name, values in lists.items():
        check = DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=True)
        check.error, check.errorTitle = f"Choose one of: {', '.join(values)}", name
        check.add(column_range(name))
        sheet.add_data_validation(check)
    quantity = DataValidation(type="whole", operator="greaterThan", formula1="0", allow_blank=True)
    quantity.error, quantity.errorTitle = "quantity must be a whole number above 0 / 数量须为正整数", "quantity"
    quantity.add(column_range("quantity"))
    sheet.add_data_validation(quantity)


def _explanations(workbook: Workbook, columns: Sequence[str]) -> None:
    sheet = workbook.create_sheet("说明 Help")
    sheet.append(["Column / 列名", "What goes here", "填写说明", "Example / 示例"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for column in columns:
        english, chinese, example = COLUMN_HELP.get(column, ("", "", ""))
        sheet.append([column, english, chinese, example])
    for letter, width in zip("ABCD", (18, 70, 45, 22), strict=True):
        sheet.column_dimensions[letter].width = width
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.data_type = "s"
