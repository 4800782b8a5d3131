# ruff: noqa: E501 - the rows are written out as the sheets hold them
"""The remaining kinds of sheet teams receive, each made the way it arrives, imported against the sandbox.

An ERP export re-saved as a GBK CSV, a hand-made monthly sheet (title rows, merged receiver cells, an
autofilter hiding a cancelled order), an English hand-made PO sheet, and a sheet saved by WPS. Each is
imported through the command line as received: every row ends with a status, and the orders bought are
counted at the sandbox.
"""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from importer.cli import app

CUP, CUP_BLACK = "600126245031041190", "5016042822039"  # xportcn-open distributor ids the sandbox sells
TOTE, TOTE_KHAKI = "600129202197070073", "4860968496626"


@pytest.fixture
def config(fresh_sandbox, tmp_path, monkeypatch):
    path = tmp_path / "importer.toml"
    for name, value in fresh_sandbox.write_config(path).items():
        monkeypatch.setenv(name, value)
    return path


def import_sheet(sheet: Path, config: Path, *extra: str):
    result = CliRunner().invoke(app, ["import", str(sheet), "--config", str(config), *extra], env={"COLUMNS": "200"})
    results = sheet.with_name(f"{sheet.stem}.results.xlsx")
    book = openpyxl.load_workbook(results, read_only=True)
    return result, book


def statuses(book, header_row: int = 1) -> list[str]:
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    header = list(rows[header_row - 1])
    at = header.index("status")
    return [r[at] for r in rows[header_row:] if any(v not in (None, "") for v in r[:at])]


def test_an_erp_export_saved_as_a_gbk_csv_imports_as_received(fresh_sandbox, config, tmp_path):
    sheet = tmp_path / "erp-export.csv"
    columns = ["线上订单号", "商品编码", "规格ID", "数量（件）", "单价（元）", "收货人姓名", "联系手机", "省", "市", "区",
               "详细地址", "备注"]  # fmt: skip
    rows = [
        ["ERP-001", CUP, CUP_BLACK, "2", "12.50", "王五", "138 0013 8000", "浙江省", "杭州市", "西湖区", "文三路100号", ""],
        ["ERP-001", TOTE, TOTE_KHAKI, "1", "39.90", "", "", "", "", "", "", ""],
        ["ERP-002", CUP, CUP_BLACK, "1", "12.50", "赵六", "13900139000", "广东省", "深圳市", "南山区", "科技园路1号", "加急"],
    ]  # fmt: skip
    with sheet.open("w", newline="", encoding="gbk") as handle:  # no BOM, as an ERP re-save writes it
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(rows)
    result, book = import_sheet(sheet, config, "--provider", "xportcn-open")
    assert result.exit_code == 0, result.output
    assert statuses(book) == ["CREATED"] * 3
    assert len(fresh_sandbox.state.orders_per_external_id()) == 2


def test_a_hand_made_monthly_sheet_with_titles_merged_receivers_and_a_filter(fresh_sandbox, config, tmp_path):
    sheet = tmp_path / "十一月采购.xlsx"
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "11月"
    ws.append(["2026年11月 采购单"])
    ws.append(["制表：采购部"])
    header = ["平台", "订单号", "商品ID", "SKU ID", "数量", "收货人", "手机", "省", "市", "区", "地址", "状态"]
    ws.append(header)
    lines = [
        ["xportcn-open", "NOV-1", CUP, CUP_BLACK, "2", "张三", "13800138000", "浙江省", "杭州市", "西湖区", "文三路100号", "待下单"],
        ["xportcn-open", "NOV-1", TOTE, TOTE_KHAKI, "1", None, None, None, None, None, None, "待下单"],
        ["xportcn-open", "NOV-2", CUP, CUP_BLACK, "1", "李四", "13900139000", "广东省", "深圳市", "南山区", "科技园路1号", "已取消"],
        ["xportcn-open", "NOV-3", TOTE, TOTE_KHAKI, "3", "王五", "13700137000", "江苏省", "南京市", "鼓楼区", "中山路1号", "待下单"],
    ]  # fmt: skip
    for line in lines:
        ws.append(line)
    for column in "FGHIJK":  # the receiver of NOV-1 typed once, merged over its two rows
        ws.merge_cells(f"{column}4:{column}5")
    ws.auto_filter.ref = "A3:L7"
    ws.auto_filter.add_filter_column(11, ["待下单"])
    ws.row_dimensions[6].hidden = True  # the filter hides the cancelled order
    book.save(sheet)
    result, results = import_sheet(sheet, config)
    assert result.exit_code == 0, result.output
    assert statuses(results, header_row=3) == ["CREATED", "CREATED", "SKIPPED", "CREATED"]
    assert len(fresh_sandbox.state.orders_per_external_id()) == 2  # NOV-1 and NOV-3; the cancelled NOV-2 not bought
    assert "skipped" in result.output


def test_an_english_hand_made_po_sheet_imports_as_received(fresh_sandbox, config, tmp_path):
    sheet = tmp_path / "PO-2026-11.xlsx"
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["PO #", "Product URL", "SKU ID", "Qty", "Ship To", "Contact No.", "Province", "City", "District",
               "Address"])  # fmt: skip
    ws.append(["PO-7", f"https://item.taobao.com/item.htm?id={CUP}", CUP_BLACK, "2", "Li Lei", "+86 138 0013 8000",
               "Zhejiang", "Hangzhou", "Xihu", "100 Wensan Rd"])  # fmt: skip
    ws.append(["PO-8", f"https://item.taobao.com/item.htm?id={TOTE}", TOTE_KHAKI, "1", "Han Meimei", "13900139000",
               "广东省", "深圳市", "南山区", "1 Keji Rd"])  # fmt: skip
    book.save(sheet)
    result, results = import_sheet(sheet, config, "--provider", "xportcn-open")
    assert result.exit_code in (0, 1), result.output
    assert statuses(results) == ["CREATED", "CREATED"], result.output
    assert len(fresh_sandbox.state.orders_per_external_id()) == 2


def test_a_sheet_saved_by_wps_imports_as_received(fresh_sandbox, config, tmp_path):
    plain = tmp_path / "plain.xlsx"
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(
        ["平台", "订单编号", "商品ID", "规格ID", "宝贝总数量", "收货人姓名", "联系手机", "省", "市", "区", "详细地址"]
    )
    ws.append(
        [
            "xportcn-open",
            "WPS-1",
            CUP,
            CUP_BLACK,
            "１",
            "张三",
            "13800138000",
            "浙江省",
            "杭州市",
            "西湖区",
            "文三路100号",
        ]
    )
    book.save(plain)
    sheet = tmp_path / "WPS表格.xlsx"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(sheet, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "docProps/app.xml":  # what WPS writes about itself
                data = data.replace(
                    b"<Application>Microsoft Excel</Application>",
                    b"<Application>WPS \xe8\xa1\xa8\xe6\xa0\xbc</Application>",
                )
                data = data.replace(b"</Properties>", b"<AppVersion>12.1000</AppVersion></Properties>")
            target.writestr(item, data)
        target.writestr("docProps/custom.xml", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="KSOProductBuildVer"><vt:lpwstr>2052-12.1.0.16120</vt:lpwstr></property></Properties>')  # fmt: skip
    result, results = import_sheet(sheet, config)
    assert result.exit_code == 0, result.output
    assert statuses(results) == ["CREATED"]
    assert len(fresh_sandbox.state.orders_per_external_id()) == 1


def test_a_price_rise_beyond_the_tolerance_is_an_error_and_not_also_a_warning(fresh_sandbox, config, tmp_path):
    sheet = tmp_path / "rise.csv"
    sheet.write_text(
        "provider,order_ref,item_id,sku_id,quantity,unit_price,receiver_name,receiver_mobile,province,city,district,address\n"
        f"xportcn-open,R-1,{TOTE},{TOTE_KHAKI},1,30.00,张三,13800138000,浙江省,杭州市,西湖区,文三路100号\n",
        encoding="utf-8",
    )
    result, book = import_sheet(sheet, config)
    assert result.exit_code == 1 and statuses(book) == ["PRICE_CHANGED"]
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    warning = rows[1][list(rows[0]).index("warning")]
    assert not warning, warning
    assert fresh_sandbox.state.orders_per_external_id() == {}
