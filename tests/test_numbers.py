"""Numbers as people type them: understood in the order, kept as typed in the results workbook."""

import csv
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sample_rows import ORDER_ROW

import importer
from importer.config import load_settings
from importer.errors import ConfigError
from importer.models import Status
from importer.validate.number_text import canonical, read_column, split_currency, style_of

ROW = {**ORDER_ROW, "currency": ""}  # quantity is set per row by frame()


def frame(prices: list[str], quantities: list[str] | None = None, **extra: list[str]) -> pd.DataFrame:
    rows = [
        {**ROW, "order_ref": f"PO-{n}", "quantity": (quantities or ["1"] * len(prices))[n], "unit_price": price}
        for n, price in enumerate(prices)
    ]
    table = pd.DataFrame(rows)
    for column, values in extra.items():
        table[column] = values
    return table


@pytest.mark.parametrize(
    ("text", "style"),
    [("1234", "plain"), ("12.5", "."), ("1,234.50", "."), ("1,234,567", "."), ("0.500", "."),
     ("12,50", ","), ("1.234,50", ","), ("1.234.567", ","), ("0,500", ","),
     ("1,234", "either"), ("1.234", "either"), ("12,34.5", None), ("1,2345", ","), ("abc", None), ("1.2.3", None)],
)  # fmt: skip
def test_which_convention_a_cell_shows(text, style):
    assert style_of(text) == style


def test_a_cell_that_depends_reads_with_the_convention_it_is_given():
    assert (canonical("1,234", "."), canonical("1,234", ",")) == ("1234", "1.234")
    assert (canonical("1.234", "."), canonical("1.234", ",")) == ("1.234", "1234")
    assert canonical("1.234,50", ".") == "1234.50"  # a deciding cell reads by its own style


@pytest.mark.parametrize(
    ("text", "body", "mark"),
    [("¥12.50", "12.50", "¥"), ("12.5元", "12.5", "元"), ("RMB 12.50", "12.50", "RMB"), ("cny12", "12", "cny"),
     ("12.50 RMB", "12.50", "RMB"), ("12.50", "12.50", ""), ("$12", "$12", "")],
)  # fmt: skip
def test_yuan_marks_come_off(text, body, mark):
    assert split_currency(text) == (body, mark)


def test_a_column_with_only_european_deciding_cells_reads_european():
    reading = read_column(["12,50", "1.234,50", "1.234", "7", ""], money=True)
    assert reading.convention == ","
    assert [c.value for c in reading.cells] == ["12.50", "1234.50", "1234", "7", ""]
    assert all(c.against is None for c in reading.cells)


def test_a_column_without_deciding_cells_reads_chinese_english():
    assert [c.value for c in read_column(["1,234", "1.234", "5"]).cells] == ["1234", "1.234", "5"]


def test_the_setting_forces_the_convention_and_unknown_settings_are_refused():
    reading = read_column(["1,234", "12.50"], forced=",")
    assert reading.convention == ","
    assert reading.cells[0].value == "1.234"
    assert reading.cells[1].against == "."
    with pytest.raises(ValueError, match="decimal_separator"):
        read_column(["1"], forced=";")


def test_prices_as_people_type_them_are_understood_and_the_order_uses_the_exact_number():
    report = importer.validate(
        frame(["1,234.50", "¥12.50", "12.5元", "RMB 12.50", "８.８"], ["1,000", "2", "2", "2", "2"])
    )
    assert report.ok, report.errors["message"].tolist()
    lines = [order.lines[0] for order in importer.group(report).orders]
    assert [line.unit_price for line in lines] == [Decimal("1234.50"), *[Decimal("12.50")] * 3, Decimal("8.8")]
    assert lines[0].quantity == 1000
    assert report.sheet.frame["unit_price"].tolist()[:2] == ["1,234.50", "¥12.50"]  # the user's cells, untouched


def test_a_european_column_is_read_european():
    report = importer.validate(frame(["1.234,50", "12,50", "1.234"]))
    assert report.ok, report.errors["message"].tolist()
    prices = [order.lines[0].unit_price for order in importer.group(report).orders]
    assert prices == [Decimal("1234.50"), Decimal("12.50"), Decimal("1234")]


def test_a_column_in_both_styles_errs_on_the_minority_naming_both():
    report = importer.validate(frame(["1,234.50", "3.5", "12,50", "8"]))
    [error] = report.errors.to_dict("records")
    assert (error["row"], error["column"], error["value"]) == (4, "unit_price", "12,50")
    assert "uses ',' as the decimal mark (like 1.234,50)" in error["message"]
    assert "2 other cells of this column use '.' (like 1,234.50)" in error["message"]
    assert "fix:" not in error["message"]  # which convention is right is the user's call


def test_a_cell_depending_on_the_convention_reads_chinese_english_and_keeps_the_two_decimals_rule():
    report = importer.validate(frame(["1,234", "1.234"], ["1.000", "1,000"]))
    messages = report.errors["message"].tolist()
    assert messages == [
        "quantity '1.000' is read with '.' as the decimal mark (as this column's numbers are), so it is not a "
        "whole number; write 1000 or 1, without a separator",
        "unit_price must be a number of at least 0 with at most 2 decimals, like 12.50; got '1.234'",
    ]
    understood = importer.validate(frame(["1,234", "5"], ["2", "1,000"])).valid
    assert (understood.loc[0, "unit_price"], understood.loc[1, "quantity"]) == ("1234", "1000")


def test_a_price_in_yuan_with_another_currency_is_an_error():
    report = importer.validate(frame(["¥12.50", "12.50"], currency=["USD", "USD"]))
    [error] = report.errors.to_dict("records")
    assert error["message"] == (
        "unit_price '¥12.50' is in yuan (¥) but currency is USD; remove the yuan mark or set currency to CNY"
    )


def test_the_config_sets_the_decimal_separator(tmp_path):
    config = tmp_path / "importer.toml"
    config.write_text('[validation]\ndecimal_separator = ","\n', encoding="utf-8")
    settings = load_settings(config, environ={})
    assert settings.decimal_separator == ","
    report = importer.validate(frame(["1,5", "1.234"]), decimal_separator=settings.decimal_separator)
    assert report.ok
    config.write_text('[validation]\ndecimal_separator = "comma"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape('decimal_separator must be one of "auto", ".", ","')):
        load_settings(config, environ={})


def _write_xlsx(path: Path, table: pd.DataFrame) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Orders"
    sheet.append(list(table.columns))
    for row in table.itertuples(index=False):
        sheet.append(list(row))
    workbook.save(path)
    return path


def test_import_through_the_cli_buys_at_the_number_meant_and_the_results_keep_the_cells(tmp_path, sandbox):
    # The sandbox prices this SKU at 12.50: a misread 12,50 (1250 or 1.25) would warn or hold the order.
    path = _write_xlsx(tmp_path / "orders.xlsx", frame(["12,50", "1.234,50"]).assign(order_ref=["PO-N1", "PO-N2"]))
    config = tmp_path / "importer.toml"
    env = {**os.environ, **sandbox.write_config(config)}
    command = [sys.executable, "-m", "importer", "import", str(path), "--config", str(config)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False, env=env)
    assert done.returncode == 0, done.stderr
    results = pd.read_excel(tmp_path / "orders.results.xlsx", sheet_name="Orders", dtype=str, engine="openpyxl")
    assert results["unit_price"].tolist() == ["12,50", "1.234,50"]
    assert results["status"].tolist() == ["CREATED", "CREATED"]
    assert results["warning"].isna().iloc[0]  # 12.50 asked, 12.50 previewed: nothing to say


def test_validate_through_the_cli_on_a_csv_reports_the_mixed_cell(tmp_path):
    path = tmp_path / "orders.csv"
    table = frame(["1,234.50", "12,50", "3.5"])
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(table.columns)
        writer.writerows(table.itertuples(index=False))
    command = [sys.executable, "-m", "importer", "validate", str(path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 1
    results = pd.read_excel(tmp_path / "orders.results.xlsx", sheet_name=0, dtype=str, engine="openpyxl")
    assert results["status"].tolist() == [Status.VALID, Status.INVALID, Status.VALID]
    assert "uses ',' as the decimal mark" in results.loc[1, "error"]


@given(st.lists(st.sampled_from(["12,50", "1.234,50", "12.50", "1,234.50", "1.234", "7", ""]), min_size=1, max_size=30))
def test_a_column_read_as_distinct_values_with_their_counts_reads_as_the_whole_column(cells):
    """Validation reads each distinct value once; the column's convention must come out as from every cell."""
    from collections import Counter

    whole = read_column(cells, money=True)
    counted = Counter(cells)
    distinct = read_column(list(counted), money=True, counts=list(counted.values()))
    assert distinct.convention == whole.convention and distinct.counts == whole.counts
    by_value = dict(zip(counted, distinct.cells, strict=True))
    assert [by_value[cell] for cell in cells] == whole.cells
