"""What an analyst meets through the Python API: the documented snippet, numeric money, one call to write results."""

import io
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import importer
from importer.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "python-api.md"
MONEY = ("estimated_unit_price", "estimated_amount", "freight", "order_total")
CSV = (
    "provider,order_ref,item_id,sku_id,quantity,receiver_name,receiver_mobile,province,city,address\n"
    "xportcn-open,PO-1,600126245031041190,5016042822039,1,张三,13800138000,浙江省,杭州市,文一西路969号\n"
    "xportcn-open,PO-2,600126245031041190,5016042822039,2,李四,,浙江省,杭州市,文一西路969号\n"
)


def snippet() -> str:
    """The block of docs/python-api.md marked as run by this test, exactly as written."""
    found = re.search(r"<!-- snippet: tests/test_analyst.py[^>]*-->\n```python\n(.*?)```", DOC.read_text("utf-8"), re.S)
    assert found, "docs/python-api.md lost its snippet marker"
    return found.group(1)


def test_the_documented_snippet_runs_as_written_in_a_fresh_process(tmp_path):
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    before = sorted(p.name for p in (tmp_path / "samples").iterdir())
    run = subprocess.run(
        [sys.executable, "-c", snippet()], cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False
    )
    assert run.returncode == 0, run.stderr
    assert re.search(r"^spent \d+\.\d+ CNY; exactly \d+ fen$", run.stdout, re.M)
    assert "orders.xlsx: 8 rows, 5 orders (8 CREATED); bought CNY 441.02" in run.stdout
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == before  # nothing written over the samples
    statuses = {
        row[0]
        for row in openpyxl.load_workbook(tmp_path / "orders.results.xlsx")["Summary"].iter_rows(values_only=True)
    }
    assert "CREATED" in statuses
    errors = openpyxl.load_workbook(tmp_path / "errors.results.xlsx")
    status_column = [c.value for c in errors["Orders"][1]].index("status")
    found = {row[status_column] for row in errors["Orders"].iter_rows(min_row=2, values_only=True)}
    assert {"INVALID", "HELD", "CREATED"} <= found  # every stage's answer, laid over each other


@pytest.fixture
def staged(sandbox):
    sheet = importer.load(ROOT / "samples" / "orders-with-errors.xlsx")
    report = importer.validate(sheet)
    orders = importer.group(report)
    previewed = importer.preview(orders, sandbox.settings())
    return sheet, report, orders, previewed


def test_money_columns_are_numbers_with_missing_values_and_exact_fen(staged, sandbox, tmp_path):
    previewed = staged[3]
    for column in MONEY:
        assert previewed[column].dtype == "float64"
        assert str(previewed[f"{column}_fen"].dtype) == "Int64"
        assert (previewed[column].isna() == previewed[f"{column}_fen"].isna()).all()
    assert previewed["freight"].isna().any()  # only an order's first line carries its freight
    assert previewed["freight"].sum() == pytest.approx(int(previewed["freight_fen"].sum()) / 100)
    total = sum(Decimal(int(f)).scaleb(-2) for f in previewed["order_total_fen"].dropna())
    assert Decimal(str(round(previewed["order_total"].sum(), 2))) == total
    result = importer.run(ROOT / "samples" / "orders.xlsx", settings=sandbox.settings(), output=tmp_path / "r.xlsx")
    assert result.outcomes["order_total_fen"].sum() == 44102 and result.outcomes["order_total"].sum() == pytest.approx(
        441.02
    )


def test_write_results_needs_only_the_sheet_the_stage_answers_and_a_path(staged, sandbox, tmp_path):
    sheet, report, orders, previewed = staged
    created = importer.create(orders, previewed, sandbox.settings())
    path = importer.write_results(sheet, [report, orders, previewed, created], tmp_path / "out.xlsx")
    book = openpyxl.load_workbook(path)
    rows = list(book["Orders"].iter_rows(values_only=True))
    header = list(rows[0])
    status, total = header.index("status"), header.index("order_total")
    assert len(rows) - 1 == len(sheet.frame)  # every input row, once
    assert {"INVALID", "HELD", "CREATED"} <= {row[status] for row in rows[1:]}
    amounts = [row[total] for row in rows[1:] if row[total] is not None]
    assert amounts and all(isinstance(a, int | float) for a in amounts)  # numbers, not text
    problems = list(book["Errors"].iter_rows(values_only=True))
    assert len(problems) - 2 >= len(report.errors)  # the report's cell errors are listed
    again = importer.write_results(sheet, created, report.errors, tmp_path / "old-order.xlsx")  # the older call
    assert again.is_file()


def test_load_keeps_phones_exact_when_a_blank_made_the_column_floats():
    frame = pd.read_csv(io.StringIO(CSV))  # the usual pandas way: numbers, and a blank mobile
    assert frame["receiver_mobile"].dtype == "float64"
    sheet = importer.load(frame)
    assert list(sheet.frame["receiver_mobile"]) == ["13800138000", ""]
    assert list(sheet.frame["quantity"]) == ["1", "2"]
    report = importer.validate(sheet)
    assert "13800138000.0" not in " ".join(report.errors["value"].astype(str))
    assert not ((report.errors["row"] == 2) & (report.errors["column"] == "receiver_mobile")).any()


def test_load_refuses_an_id_a_float_cannot_hold_and_says_how_to_read_it():
    frame = pd.read_csv(io.StringIO(CSV))  # item_id 600126245031041190 is above 2**53: read as a float it is lost
    frame["item_id"] = frame["item_id"].astype("float64")
    with pytest.raises(InputError) as refused:
        importer.load(frame)
    message = str(refused.value)
    assert "row 2" in message and "column 'item_id'" in message and "dtype=str" in message
