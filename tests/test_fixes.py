"""Fix suggestions: each message says the fix when it is knowable, and --fix applies the safe ones to a copy."""

import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

import importer
from importer.cli import app
from importer.models import Status
from importer.validate.fixes import suggest

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.mark.parametrize(
    ("column", "typed", "fixed"),
    [
        ("quantity", "２", "2"),
        ("item_id", "６００１２６２４５０３１０４１１９０", "600126245031041190"),
        ("receiver_mobile", "+86 138-0013-8000", "13800138000"),
        ("receiver_mobile", "86 13800138000", "13800138000"),
        ("receiver_mobile", "(+86) 138 0013 8000", "13800138000"),
        ("province", "浙江", "浙江省"),
        ("province", "广西", "广西壮族自治区"),
        ("currency", "RMB", "CNY"),
        ("currency", "¥", "CNY"),
        ("currency", "人民币", "CNY"),
        ("item_id", "https://item.taobao.com/item.htm?id=652711530188&spm=x", "652711530188"),
        ("unit_price", "¥12.50", "12.50"),
        ("unit_price", "12.5元", "12.5"),
        ("unit_price", "1,234.50", "1234.50"),
        # A column whose only deciding cell is European reads as European, and the copy says so plainly.
        ("unit_price", "1.234,50", "1234.50"),
        ("quantity", "1,000", "1000"),
    ],
)
def test_each_safe_fix(column, typed, fixed):
    sheet = importer.load(pd.DataFrame([{"order_ref": "R", column: typed}]))
    [fix] = [f for f in suggest(sheet) if f.column == column]
    assert (fix.old, fix.new) == (typed, fixed)


@pytest.mark.parametrize(
    ("column", "value"),
    [("receiver_mobile", "13800138000"), ("receiver_mobile", "0571-88886666"), ("province", "浙江省"),
     ("currency", "USD"), ("unit_price", "12.50"), ("receiver_name", "Ｚｈａｎｇ")],
)  # fmt: skip
def test_what_is_right_or_not_safe_is_left_alone(column, value):
    sheet = importer.load(pd.DataFrame([{"order_ref": "R", column: value}]))
    assert [f for f in suggest(sheet) if f.column == column] == []


def test_a_number_against_its_columns_decimal_mark_or_currency_gets_no_fix():
    sheet = importer.load(
        pd.DataFrame(
            {
                "order_ref": ["R", "R", "R", "R"],
                "unit_price": ["1,234.50", "3.5", "12,50", "¥8"],
                "currency": ["", "", "", "USD"],
            }
        )
    )
    fixed = {f.row: f.new for f in suggest(sheet) if f.column == "unit_price"}
    assert fixed == {2: "1234.50"}  # '12,50' (European among '.') and '¥8' in USD are the user's call


def test_fix_copies_the_sheet_lists_each_change_and_imports_the_copy(tmp_path, sandbox):
    original = shutil.copy(SAMPLES / "orders-with-warnings.xlsx", tmp_path / "w.xlsx")
    before = Path(original).read_bytes()
    runner = CliRunner()
    plain = runner.invoke(app, ["validate", str(original)])
    assert plain.exit_code == 1
    errors = pd.read_excel(tmp_path / "w.results.xlsx", dtype=str, engine="openpyxl")["error"].dropna()
    assert any("fix: 'CNY'; --fix applies it" in e for e in errors)
    fixed = runner.invoke(app, ["import", str(original), "--sandbox", "--fix"])
    assert fixed.exit_code == 0, fixed.output
    assert "--fix: 8 cells changed" in fixed.output  # 12.5元 and RMB 12.50 are tidied too
    assert "row 6 unit_price: '12.5元' -> '12.5'" in fixed.output
    assert "row 5 currency: 'RMB' -> 'CNY'" in fixed.output
    assert Path(original).read_bytes() == before  # the user's file is never changed
    copy = openpyxl.load_workbook(tmp_path / "w.fixed.xlsx")["Orders"]
    header = [c.value for c in copy[1]]
    assert copy.cell(row=5, column=header.index("currency") + 1).value == "CNY"
    assert copy.cell(row=5, column=header.index("receiver_mobile") + 1).value == "13800138000"
    results = pd.read_excel(tmp_path / "w.fixed.results.xlsx", dtype=str, engine="openpyxl")
    assert set(results["status"]) == {Status.CREATED}


def test_fix_on_a_csv(tmp_path):
    path = tmp_path / "o.csv"
    row = {"provider": "xportcn-open", "order_ref": "C", "item_id": "600126245031041190", "quantity": "２"}
    row |= {"currency": "RMB", "receiver_name": "张三", "receiver_mobile": "13800138000", "address": "x"}
    pd.DataFrame([row]).to_csv(path, index=False)
    result = CliRunner().invoke(app, ["validate", str(path), "--fix"])
    assert result.exit_code == 0, result.output
    fixed = pd.read_csv(tmp_path / "o.fixed.csv", dtype=str)
    assert fixed.loc[0, "quantity"] == "2" and fixed.loc[0, "currency"] == "CNY"


def test_fixed_csv_copy_is_formula_safe_and_reads_back_as_typed(tmp_path, sandbox):
    path = tmp_path / "o.csv"
    risky = {"title": '=HYPERLINK("http://x","y")', "line_remark": "-2 pieces", "order_remark": "@home"}
    row = {"provider": "xportcn-open", "order_ref": "C", "item_id": "600126245031041190", "sku_id": "5012345678901"}
    row |= {"quantity": "２", "currency": "RMB", "receiver_name": "张三", "receiver_mobile": "+86 138-0013-8000"}
    row |= {"province": "浙江", "city": "杭州市", "district": "西湖区", "address": "文三路 1 号", "zip": "310000"}
    pd.DataFrame([row | risky]).to_csv(path, index=False)
    result = CliRunner().invoke(app, ["validate", str(path), "--fix"])
    assert result.exit_code == 0, result.output
    raw = pd.read_csv(tmp_path / "o.fixed.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    for column, value in risky.items():
        assert raw.loc[0, column] == "'" + value  # a spreadsheet opening the copy shows text, runs nothing
    assert raw.loc[0, "receiver_mobile"] == "13800138000"
    again = importer.load(tmp_path / "o.fixed.csv").frame
    for column, value in risky.items():
        assert again.loc[0, column] == value  # the apostrophe is the CSV's escape, not part of the cell
    assert again.loc[0, "quantity"] == "2"


@pytest.mark.parametrize("value", ["=1+2", "+86 571", "-3", "@x", "\t=x", "\r=x", "'=x", "plain", "", "'quoted"])
def test_csv_escape_round_trips(value):
    from importer.csvsafe import FORMULA_STARTS, escape, unescape

    assert unescape(escape(value)) == value
    assert not escape(value).startswith(FORMULA_STARTS)
