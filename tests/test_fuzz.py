"""Generated sheets through read -> validate -> group: only InputError may escape, and no row is lost.

A short run is part of the default suite; ``pytest -m fuzz`` runs many more examples.
"""

import csv
import io

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

import importer
from importer.errors import InputError
from importer.models import CANONICAL_COLUMNS

HEADERS = st.one_of(
    st.sampled_from([*CANONICAL_COLUMNS, "Item ID", "数量", "收货人", "订单号", "qty", "商品链接", "", "备注"]),
    st.text(min_size=0, max_size=12),
)
CELLS = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["600126245031041190", "2", "2.5", "-1", "=1+1", "+86 138", "０１２", "xportcn-open", ""]),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=True, allow_infinity=True),
)
SHEETS = st.tuples(
    st.lists(HEADERS, min_size=1, max_size=8),
    st.lists(st.lists(CELLS, min_size=0, max_size=9), min_size=0, max_size=12),
)
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"])


def check_pipeline(path):
    try:
        sheet = importer.load(path)
    except InputError:
        return
    report = importer.validate(sheet)
    grouping = importer.group(report)
    grouped = {line.row_id for order in grouping.orders for line in order.lines}
    decided = set(report.outcomes.index) | set(grouping.outcomes.index) | grouped
    assert decided == set(sheet.frame.index), "every row read must get an outcome"
    assert grouped.isdisjoint(set(report.invalid_row_ids))


def _storable(value):
    """Spreadsheet programs cannot store XML-illegal control characters; drop them from generated text."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def _xlsx(path, header, rows):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([_storable(v) for v in header])
    for row in rows:
        sheet.append([_storable(v) for v in row])
    book.save(path)


def _csv(path, header, rows, encoding):
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    try:
        path.write_bytes(text.getvalue().encode(encoding))
    except UnicodeEncodeError:
        path.write_bytes(text.getvalue().encode("utf-8"))


def _settings(examples):
    return settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_settings(25)
@given(sheet=SHEETS)
def test_generated_workbooks(tmp_path, sheet):
    path = tmp_path / "fuzz.xlsx"
    _xlsx(path, *sheet)
    check_pipeline(path)


@_settings(25)
@given(sheet=SHEETS, encoding=ENCODINGS)
def test_generated_csv(tmp_path, sheet, encoding):
    path = tmp_path / "fuzz.csv"
    _csv(path, *sheet, encoding)
    check_pipeline(path)


@_settings(40)
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".xlsx"]))
def test_random_bytes(tmp_path, data, suffix):
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    check_pipeline(path)


@pytest.mark.fuzz
@_settings(2000)
@given(sheet=SHEETS, encoding=ENCODINGS)
def test_generated_sheets_long(tmp_path, sheet, encoding):
    _xlsx(tmp_path / "f.xlsx", *sheet)
    check_pipeline(tmp_path / "f.xlsx")
    _csv(tmp_path / "f.csv", *sheet, encoding)
    check_pipeline(tmp_path / "f.csv")
