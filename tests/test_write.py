"""The results workbook: the user's sheet with its formatting, the result columns, Summary and Errors; safe and atomic.

Two writers make it: openpyxl reopens an .xlsx input, xlsxwriter streams a new
workbook for a CSV input or a DataFrame. Cases that apply to both run on both.
"""

import gc
import os
import re
import warnings
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from defusedxml import ElementTree
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

import importer
import importer.write.workbook
from importer.errors import InputError
from importer.models import RESULT_COLUMNS, CellError, OrderSheet
from importer.outcomes import errors_frame, outcomes_frame
from importer.read.sheet import read_sheet
from importer.write.workbook import ERRORS_MARK, SUMMARY_MARK, default_output_path, write_results, xml_safe

HEADER = ["provider", "order_ref", "item_id", "quantity", "receiver_name", "receiver_mobile", "buyer_note"]
LAST_COLUMN = chr(ord("A") + len(HEADER) + len(RESULT_COLUMNS) - 1)  # where the autofilter ends
ROWS = [
    ["xportcn-open", "PO-1", "600126245031041190", "2", "张三", "013800138000", "first"],
    ["xportcn-open", "PO-1", "600129202197070073", "2.5", "", "", "second"],
    ["dajisaas", "PO-2", "652711530188", "1", "李四", "+8613912345678", "third"],
]
HOSTILE = ["=1+1", '=HYPERLINK("http://example.invalid","click")', "+8613800138000", "-2+3", "@SUM(A1:A2)"]
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
INPUTS = ["xlsx", "csv", "frame"]


# ----- inputs and outcomes ---------------------------------------------------------------------


def user_workbook(path: Path, rows: list[list[str]] = ROWS, *, titles: int = 0) -> Path:
    """The user's workbook: a bold, filled header cell, a wide column, a second sheet of their own."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Orders"
    for n in range(titles):
        sheet.append([f"Purchase orders {n + 1}"])
    for row in [HEADER, *rows]:
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            cell.data_type = "s"  # text as typed, even '=...' (Excel's leading apostrophe)
    header = sheet.cell(row=titles + 1, column=1)
    header.font = Font(bold=True)
    header.fill = PatternFill("solid", fgColor="FFFF00")
    sheet.column_dimensions["C"].width = 33
    book.create_sheet("Notes")["A1"] = "the buyer's own notes"
    book.save(path)
    return path


def order_sheet(tmp_path: Path, kind: str, rows: list[list[str]] = ROWS) -> OrderSheet:
    """The same rows read from an .xlsx, from a CSV, or given as a DataFrame."""
    if kind == "xlsx":
        return read_sheet(user_workbook(tmp_path / "orders.xlsx", rows))
    if kind == "csv":
        path = tmp_path / "orders.csv"
        pd.DataFrame(rows, columns=HEADER).to_csv(path, index=False, encoding="utf-8")
        return read_sheet(path)
    return importer.load(pd.DataFrame(rows, columns=HEADER))


def outcomes(*records: dict[str, object]) -> pd.DataFrame:
    return outcomes_frame(records)


MIXED = (
    {"row_id": 0, "status": "VALID"},
    {
        "row_id": 1,
        "status": "INVALID",
        "error": "quantity must be a whole number above 0; got '2.5'",
        "error_column": "quantity",
    },
    {"row_id": 2, "status": "HELD", "error": "held: order PO-1 has an error on row 3"},
)


def write(sheet: OrderSheet, results: pd.DataFrame, path: Path, problems: pd.DataFrame | None = None) -> Path:
    return write_results(sheet, results, problems if problems is not None else errors_frame([]), path)


# ----- reading the written workbook ------------------------------------------------------------------


def as_read(row: list[str]) -> tuple[object, ...]:
    """A row as openpyxl gives it back: an empty cell is None."""
    return tuple(value or None for value in row)


def rows_of(path: Path, sheet: str) -> list[tuple[object, ...]]:
    return list(openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True))


def order_sheet_name(path: Path) -> str:
    return openpyxl.load_workbook(path).sheetnames[0]


def sheet_xml(path: Path, name: str) -> bytes:
    """The worksheet XML of one sheet, found through the workbook's relationships."""
    with zipfile.ZipFile(path) as archive:
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
        targets = {rel.get("Id"): rel.get("Target") for rel in rels}
        for sheet in book.iter(f"{MAIN}sheet"):
            if sheet.get("name") == name:
                target = targets[sheet.get(RELS)].lstrip("/")
                return archive.read(target if target.startswith("xl/") else f"xl/{target}")
    raise AssertionError(f"no sheet {name} in {path}")


def cells_xml(path: Path, name: str) -> dict[str, object]:
    """Cell reference -> its <c> element."""
    root = ElementTree.fromstring(sheet_xml(path, name))
    return {cell.get("r"): cell for cell in root.iter(f"{MAIN}c")}


def opens_at(worksheet) -> tuple[int, int, str]:
    """Frozen columns, frozen rows, and the first cell shown right of and below them."""
    pane = worksheet.sheet_view.pane
    return int(pane.xSplit or 0), int(pane.ySplit or 0), str(pane.topLeftCell)


def temporaries(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp") or p.name.startswith(".")]


# ----- the user's workbook, kept -------------------------------------------------------------------


def test_the_users_formatting_and_sheets_survive_and_result_columns_are_appended(tmp_path):
    sheet = order_sheet(tmp_path, "xlsx")
    output = write(sheet, outcomes(*MIXED), tmp_path / "out.xlsx")
    book = openpyxl.load_workbook(output)
    assert book.sheetnames == ["Orders", "Notes", "Summary", "Errors"]
    orders = book["Orders"]
    assert orders["A1"].font.bold and orders["A1"].fill.fgColor.rgb == "00FFFF00"
    assert orders.column_dimensions["C"].width == 33
    assert book["Notes"]["A1"].value == "the buyer's own notes"
    rows = list(orders.iter_rows(values_only=True))
    assert rows[0] == (*HEADER, *RESULT_COLUMNS)
    assert [row[: len(HEADER)] for row in rows[1:]] == [as_read(r) for r in ROWS]  # the same rows, in their order
    status = len(HEADER)
    assert [row[status] for row in rows[1:]] == ["VALID", "INVALID", "HELD"]
    assert rows[2][status + RESULT_COLUMNS.index("error")] == MIXED[1]["error"]
    assert orders.auto_filter.ref == f"A1:{LAST_COLUMN}{len(ROWS) + 1}"
    assert opens_at(orders) == (1, 1, f"{get_column_letter(len(HEADER) + 1)}2")  # frozen, scrolled to the status
    assert book["Summary"]["A1"].value == SUMMARY_MARK and book["Errors"]["A1"].value == ERRORS_MARK


def test_results_land_on_the_rows_under_a_header_below_title_rows(tmp_path):
    sheet = read_sheet(user_workbook(tmp_path / "titled.xlsx", titles=2))
    assert sheet.header_rows == {"Orders": 3}
    output = write(sheet, outcomes(*MIXED), tmp_path / "out.xlsx")
    orders = openpyxl.load_workbook(output)["Orders"]
    status = len(HEADER) + 1
    assert orders.cell(row=3, column=status).value == "status"
    assert [orders.cell(row=r, column=status).value for r in (4, 5, 6)] == ["VALID", "INVALID", "HELD"]
    assert orders.cell(row=1, column=1).value == "Purchase orders 1"
    assert orders.cell(row=1, column=status).value is None
    assert opens_at(orders) == (1, 3, f"{get_column_letter(status)}4")


def test_a_second_write_replaces_summary_and_errors_rather_than_adding_more(tmp_path):
    first = write(order_sheet(tmp_path, "xlsx"), outcomes(*MIXED), tmp_path / "first.xlsx")
    again = read_sheet(first)  # the results workbook imported again
    assert [note.split(":")[0] for note in again.notes] == [
        "sheet 'Notes' skipped",
        "sheet 'Summary' skipped",
        "sheet 'Errors' skipped",
    ]
    second = write(again, outcomes(*MIXED), tmp_path / "second.xlsx")
    book = openpyxl.load_workbook(second)
    assert book.sheetnames == ["Orders", "Notes", "Summary", "Errors"]
    assert book["Summary"]["A1"].value == SUMMARY_MARK
    assert rows_of(second, "Errors") == rows_of(first, "Errors")


def test_a_results_workbook_imported_again_has_one_set_of_result_columns(tmp_path):
    first = write(order_sheet(tmp_path, "xlsx"), outcomes(*MIXED), tmp_path / "first.xlsx")
    second = write(read_sheet(first), outcomes(*MIXED), tmp_path / "second.xlsx")
    assert rows_of(second, "Orders")[0] == (*HEADER, *RESULT_COLUMNS)


def test_sheets_of_the_users_named_summary_or_errors_are_never_replaced(tmp_path):
    path = user_workbook(tmp_path / "orders.xlsx")
    book = openpyxl.load_workbook(path)
    book.create_sheet("Summary")["A1"] = "my totals"
    book.create_sheet("Errors")["A1"] = "my list"
    book.save(path)
    output = write(read_sheet(path), outcomes(*MIXED), tmp_path / "out.xlsx")
    result = openpyxl.load_workbook(output)
    assert result["Summary"]["A1"].value == "my totals" and result["Errors"]["A1"].value == "my list"
    assert result["Summary (results)"]["A1"].value == SUMMARY_MARK
    assert result["Errors (results)"]["A1"].value == ERRORS_MARK


@pytest.mark.parametrize(
    ("stem", "sheet_name"),
    [("Summary", "Summary (2)"), ("orders:march", "orders_march"), ("x" * 40, "x" * 31)],
)
def test_the_new_workbook_gets_a_valid_order_sheet_name(tmp_path, stem, sheet_name):
    path = tmp_path / f"{stem}.csv"
    pd.DataFrame(ROWS, columns=HEADER).to_csv(path, index=False)
    output = write(read_sheet(path), outcomes(*MIXED), tmp_path / "out.xlsx")
    assert openpyxl.load_workbook(output).sheetnames == [sheet_name, "Summary", "Errors"]


@pytest.mark.parametrize("kind", ["csv", "frame"])
def test_the_new_workbook_has_the_same_columns_and_rows(tmp_path, kind):
    output = write(order_sheet(tmp_path, kind), outcomes(*MIXED), tmp_path / "out.xlsx")
    name = order_sheet_name(output)
    assert name == ("orders" if kind == "csv" else "Sheet1")
    rows = rows_of(output, name)
    assert rows[0] == (*HEADER, *RESULT_COLUMNS)
    assert [row[: len(HEADER)] for row in rows[1:]] == [tuple(r) for r in ROWS]
    assert [row[len(HEADER)] for row in rows[1:]] == ["VALID", "INVALID", "HELD"]
    worksheet = openpyxl.load_workbook(output)[name]
    assert opens_at(worksheet) == (1, 1, f"{get_column_letter(len(HEADER) + 1)}2")
    assert worksheet.auto_filter.ref == f"A1:{LAST_COLUMN}{len(ROWS) + 1}"


def test_headers_keep_the_users_spelling_in_the_new_workbook(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("订单号,商品ID,数量\nPO-1,600126245031041190,2\n", encoding="utf-8")
    output = write(read_sheet(path), outcomes({"row_id": 0, "status": "VALID"}), tmp_path / "out.xlsx")
    assert rows_of(output, "orders")[0][:4] == ("订单号", "商品ID", "数量", "status")


def test_a_large_workbook_is_streamed_into_a_new_one_with_the_same_cells(tmp_path, monkeypatch):
    sheet = order_sheet(tmp_path, "xlsx")
    monkeypatch.setattr(importer.write.workbook, "FAST_WRITER_THRESHOLD", len(ROWS) - 1)
    output = write(sheet, outcomes(*MIXED), tmp_path / "out.xlsx")
    book = openpyxl.load_workbook(output)
    assert book.sheetnames == ["Orders", "Summary", "Errors"]  # a new workbook: the user's Notes sheet is not in it
    rows = list(book["Orders"].iter_rows(values_only=True))
    assert rows[0] == (*HEADER, *RESULT_COLUMNS)
    assert [row[len(HEADER)] for row in rows[1:]] == ["VALID", "INVALID", "HELD"]


def test_the_streamed_workbook_is_deflated_and_xlsxwriter_is_left_as_it_was(tmp_path, monkeypatch):
    """The faster zip level is used for the close only: xlsxwriter's own ZipFile is back afterwards."""
    import zipfile

    import xlsxwriter.workbook

    sheet = order_sheet(tmp_path, "xlsx")
    monkeypatch.setattr(importer.write.workbook, "FAST_WRITER_THRESHOLD", len(ROWS) - 1)
    levels: list[int | None] = []
    real_init = importer.write.workbook._FastDeflateZipFile.__init__

    def init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        levels.append(self.compresslevel)

    monkeypatch.setattr(importer.write.workbook._FastDeflateZipFile, "__init__", init)
    output = write(sheet, outcomes(*MIXED), tmp_path / "out.xlsx")
    assert levels == [1]
    assert xlsxwriter.workbook.ZipFile is zipfile.ZipFile
    with zipfile.ZipFile(output) as archive:
        assert {member.compress_type for member in archive.infolist()} == {zipfile.ZIP_DEFLATED}
        assert archive.testzip() is None


def test_xlsxwriter_gets_its_own_zipfile_back_when_packing_fails(monkeypatch):
    import zipfile

    import xlsxwriter.workbook

    class Failing:
        def close(self):
            assert xlsxwriter.workbook.ZipFile is importer.write.workbook._FastDeflateZipFile
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        importer.write.workbook._close_deflating_fast(Failing())
    assert xlsxwriter.workbook.ZipFile is zipfile.ZipFile


# ----- every row, once; the Summary and Errors sheets -------------------------------------------------


@pytest.mark.parametrize("kind", INPUTS)
def test_a_row_with_no_outcome_is_reported_not_dropped(tmp_path, kind):
    output = write(order_sheet(tmp_path, kind), outcomes(MIXED[0]), tmp_path / "out.xlsx")
    rows = rows_of(output, order_sheet_name(output))
    status, error = len(HEADER), len(HEADER) + RESULT_COLUMNS.index("error")
    assert [(row[status], row[error]) for row in rows[1:]] == [
        ("VALID", None),
        ("NOT_ATTEMPTED", "not processed"),
        ("NOT_ATTEMPTED", "not processed"),
    ]


@pytest.mark.parametrize("kind", INPUTS)
def test_summary_counts_rows_and_orders_and_sums_amounts_exactly(tmp_path, kind):
    results = outcomes(
        {"row_id": 0, "status": "CREATED", "estimated_amount": Decimal("25.10"), "currency_charged": "CNY"},
        {"row_id": 1, "status": "CREATED", "estimated_amount": Decimal("0.20"), "currency_charged": "CNY"},
        {"row_id": 2, "status": "PREVIEW_FAILED", "error": "out of stock", "error_column": "item_id"},
    )
    output = write(order_sheet(tmp_path, kind), results, tmp_path / "out.xlsx")
    summary = [row for row in rows_of(output, "Summary") if any(v is not None for v in row)]
    assert summary[0][0] == SUMMARY_MARK
    assert summary[1][:2] == ("input", {"xlsx": "orders.xlsx", "csv": "orders.csv", "frame": "(DataFrame)"}[kind])
    rows_table, orders_table = summary_table(summary, "status"), summary_table(summary, "order status")
    assert rows_table == {"PREVIEW_FAILED": 1, "CREATED": 2, "total": 3}
    assert orders_table == {"PREVIEW_FAILED": 1, "CREATED": 1, "total": 2}  # each order once, as the console counts
    currency = next(row for row in summary if row[0] == "CNY")
    assert currency[1:3] == (pytest.approx(25.30), 2)
    per_provider = [row[:7] for row in summary if row[0] in ("xportcn-open", "dajisaas")]
    assert per_provider == [
        ("dajisaas", 1, 1, 0, 1, None, 0),
        ("xportcn-open", 2, 1, 2, 0, "CNY", pytest.approx(25.30)),
    ]


def summary_table(summary, header):
    """A two-column block of the Summary, from its header row to its 'total' row, as a dict."""
    start = next(n for n, row in enumerate(summary) if row[0] == header) + 1
    block = {}
    for row in summary[start:]:
        block[row[0]] = row[1]
        if row[0] == "total":
            return block
    raise AssertionError(f"no total under {header}")


def test_the_summary_counts_an_order_with_a_bad_row_once_with_its_held_rows(tmp_path):
    output = write(order_sheet(tmp_path, "xlsx"), outcomes(*MIXED), tmp_path / "out.xlsx")
    summary = [row for row in rows_of(output, "Summary") if any(v is not None for v in row)]
    assert summary_table(summary, "status") == {"INVALID": 1, "HELD": 1, "VALID": 1, "total": 3}
    assert summary_table(summary, "order status") == {"INVALID": 1, "HELD": 1, "total": 2}  # PO-1 is INVALID whole
    providers = [row[0] for row in summary[[r[0] for r in summary].index("provider") + 1 :]]
    assert len(providers) == len(set(providers))  # no provider named twice


@pytest.mark.parametrize("kind", INPUTS)
def test_the_errors_sheet_lists_every_problem_and_every_failed_row(tmp_path, kind):
    sheet = order_sheet(tmp_path, kind)
    name = str(sheet.frame.loc[0, "_sheet"])
    problems = errors_frame([CellError(1, name, 3, "quantity", "2.5", "quantity must be a whole number")])
    output = write(sheet, outcomes(*MIXED), tmp_path / "out.xlsx", problems)
    rows = rows_of(output, "Errors")
    assert rows[0][0] == ERRORS_MARK
    assert rows[1] == ("sheet", "row", "column", "message", "value")
    assert [tuple(value or None for value in row[:4]) for row in rows[2:]] == [
        (name, 3, "quantity", "quantity must be a whole number"),
        (name, 4, None, "held: order PO-1 has an error on row 3"),  # no column: the whole row
    ]


@pytest.mark.parametrize("kind", INPUTS)
def test_an_amount_that_is_not_a_number_does_not_break_the_summary(tmp_path, kind):
    results = outcomes(
        {"row_id": 0, "status": "CREATE_FAILED", "estimated_amount": "n/a", "error": "refused"},
        {"row_id": 2, "status": "CREATED", "estimated_amount": Decimal("3.50"), "currency_charged": "CNY"},
    )
    output = write(order_sheet(tmp_path, kind), results, tmp_path / "out.xlsx")
    per_provider = [row[:7] for row in rows_of(output, "Summary") if row[0] in ("xportcn-open", "dajisaas")]
    assert per_provider == [
        ("dajisaas", 1, 1, 1, 0, "CNY", pytest.approx(3.5)),
        ("xportcn-open", 2, 1, 0, 2, None, 0),  # the garbled amount is skipped, not a crash
    ]


def test_the_run_title_is_on_the_summary(tmp_path):
    sheet = order_sheet(tmp_path, "xlsx")
    output = write_results(sheet, outcomes(*MIXED), errors_frame([]), tmp_path / "out.xlsx", title="nightly 02:30")
    assert ("run", "nightly 02:30") in [row[:2] for row in rows_of(output, "Summary")]


def test_the_users_frozen_panes_are_kept(tmp_path):
    path = user_workbook(tmp_path / "orders.xlsx")
    book = openpyxl.load_workbook(path)
    book["Orders"].freeze_panes = "C2"
    book.save(path)
    output = write(read_sheet(path), outcomes(*MIXED), tmp_path / "out.xlsx")
    assert openpyxl.load_workbook(output)["Orders"].freeze_panes == "C2"


# ----- formula safety ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", INPUTS)
def test_text_from_outside_is_never_a_formula(tmp_path, kind):
    rows = [[*ROWS[n % len(ROWS)][:-1], value] for n, value in enumerate(HOSTILE)]
    results = outcomes(
        *(
            {"row_id": n, "status": "CREATE_FAILED", "provider_order_id": value, "error": value}
            for n, value in enumerate(HOSTILE)
        )
    )
    output = write(order_sheet(tmp_path, kind, rows), results, tmp_path / "out.xlsx")
    name = order_sheet_name(output)
    worksheet = openpyxl.load_workbook(output)[name]
    note, order_id, error = len(HEADER), len(HEADER) + 2, len(HEADER) + 1 + RESULT_COLUMNS.index("error")
    xml = cells_xml(output, name)
    for n, value in enumerate(HOSTILE, start=2):
        for column in (note, order_id, error):
            cell = worksheet.cell(row=n, column=column)
            assert (cell.value, cell.data_type) == (value, "s"), cell.coordinate
            element = xml[cell.coordinate]
            assert element.find(f"{MAIN}f") is None, cell.coordinate
            assert element.get("t") in ("s", "inlineStr"), cell.coordinate
    for sheet_name in (name, "Summary", "Errors"):
        assert b"<f>" not in sheet_xml(output, sheet_name) and b"<f " not in sheet_xml(output, sheet_name)


@pytest.mark.parametrize("kind", INPUTS)
def test_long_ids_and_leading_zero_phones_stay_text(tmp_path, kind):
    output = write(order_sheet(tmp_path, kind), outcomes(*MIXED), tmp_path / "out.xlsx")
    worksheet = openpyxl.load_workbook(output)[order_sheet_name(output)]
    cells = {(c.row, c.column_letter): c for row in worksheet.iter_rows() for c in row}
    for coordinate, text in [
        ((2, "C"), "600126245031041190"),
        ((2, "F"), "013800138000"),
        ((4, "F"), "+8613912345678"),
    ]:
        assert (cells[coordinate].value, cells[coordinate].data_type) == (text, "s")


@pytest.mark.parametrize("kind", INPUTS)
def test_money_is_written_as_numbers_with_two_decimals(tmp_path, kind):
    results = outcomes(
        {"row_id": 0, "status": "PREVIEWED", "estimated_unit_price": Decimal("12.5"), "order_total": Decimal("30")},
    )
    output = write(order_sheet(tmp_path, kind), results, tmp_path / "out.xlsx")
    worksheet = openpyxl.load_workbook(output)[order_sheet_name(output)]
    price = worksheet.cell(row=2, column=len(HEADER) + 1 + RESULT_COLUMNS.index("estimated_unit_price"))
    total = worksheet.cell(row=2, column=len(HEADER) + 1 + RESULT_COLUMNS.index("order_total"))
    assert (price.value, price.data_type, price.number_format) == (12.5, "n", "0.00")
    assert (total.value, total.number_format) == (30, "0.00")


def test_control_characters_become_replacement_characters_and_line_breaks_survive(tmp_path):
    assert xml_safe("a\x00b\x1fc\ufffe") == "a\ufffdb\ufffdc\ufffd"
    assert xml_safe("tab\tline\nreturn\r") == "tab\tline\nreturn\r"
    results = outcomes({"row_id": 0, "status": "CREATE_FAILED", "error": "bad\x07bell\r\nnext line"})
    output = write(order_sheet(tmp_path, "xlsx"), results, tmp_path / "out.xlsx")
    error = rows_of(output, "Orders")[1][len(HEADER) + RESULT_COLUMNS.index("error")]
    assert error == "bad\ufffdbell_x000D_\nnext line"  # Excel's escape for a carriage return, which it decodes


# ----- the failing cell is marked -------------------------------------------------------------------


def fill(cell: object) -> str | None:
    pattern = cell.fill  # type: ignore[attr-defined]
    return str(pattern.fgColor.rgb)[-6:] if pattern is not None and pattern.fill_type == "solid" else None


@pytest.mark.parametrize("kind", INPUTS)
def test_the_failing_cell_of_an_invalid_row_is_red_with_the_message(tmp_path, kind):
    output = write(order_sheet(tmp_path, kind), outcomes(*MIXED), tmp_path / "out.xlsx")
    worksheet = openpyxl.load_workbook(output)[order_sheet_name(output)]
    quantity, status = HEADER.index("quantity") + 1, len(HEADER) + 1
    bad = worksheet.cell(row=3, column=quantity)
    assert fill(bad) == "FFC7CE"
    assert bad.comment is not None and bad.comment.text.startswith(str(MIXED[1]["error"]))
    assert [fill(worksheet.cell(row=r, column=status)) for r in (2, 3, 4)] == [
        "C6EFCE",
        "FFC7CE",
        "FFEB9C",
    ]  # done, refused by the sheet, held
    # only the failing cell is marked: not its neighbours, not the same column on other rows
    assert fill(worksheet.cell(row=3, column=quantity - 1)) is None
    assert fill(worksheet.cell(row=2, column=quantity)) is None
    assert worksheet.cell(row=4, column=quantity).comment is None  # HELD has no failing cell of its own


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_the_failing_cell_is_found_under_the_users_own_header(tmp_path, kind):
    header = ["平台", "订单号", "商品ID", " 数量 ", "收货人"]
    rows = [["xportcn-open", "PO-1", "600126245031041190", "2.5", "张三"]]
    if kind == "xlsx":
        path = tmp_path / "orders.xlsx"
        book = openpyxl.Workbook()
        for row in [header, *rows]:
            book.active.append(row)
        book.save(path)
    else:
        path = tmp_path / "orders.csv"
        path.write_text("\n".join(",".join(row) for row in [header, *rows]), encoding="utf-8")
    sheet = read_sheet(path)
    assert sheet.header_map["数量"] == "quantity"
    output = write(sheet, outcomes({**MIXED[1], "row_id": 0}), tmp_path / "out.xlsx")
    worksheet = openpyxl.load_workbook(output).worksheets[0]
    marked = [c.coordinate for c in worksheet[2] if fill(c) == "FFC7CE"]
    assert marked == ["D2", "F2"]  # the quantity cell and the status
    assert worksheet["D2"].comment is not None


def test_an_error_column_the_sheet_does_not_have_marks_only_the_status(tmp_path):
    results = outcomes({"row_id": 0, "status": "INVALID", "error": "no unit_price", "error_column": "unit_price"})
    output = write(order_sheet(tmp_path, "xlsx"), results, tmp_path / "out.xlsx")
    worksheet = openpyxl.load_workbook(output)["Orders"]
    marked = [c.coordinate for row in worksheet.iter_rows(min_row=2, max_row=2) for c in row if fill(c)]
    assert marked == [f"{openpyxl.utils.get_column_letter(len(HEADER) + 1)}2"]


# ----- where it is written, and how -----------------------------------------------------------------


def test_the_default_output_is_beside_the_input(tmp_path):
    sheet = order_sheet(tmp_path, "xlsx")
    assert default_output_path(tmp_path / "orders.xlsx") == tmp_path / "orders.results.xlsx"
    assert write_results(sheet, outcomes(*MIXED), errors_frame([])) == tmp_path / "orders.results.xlsx"
    assert (tmp_path / "orders.results.xlsx").is_file()


def test_a_missing_output_folder_is_created(tmp_path):
    target = tmp_path / "results" / "2024" / "out.xlsx"
    assert write(order_sheet(tmp_path, "csv"), outcomes(*MIXED), target) == target
    assert target.is_file()


def test_the_results_never_overwrite_the_input(tmp_path):
    sheet = order_sheet(tmp_path, "xlsx")
    before = (tmp_path / "orders.xlsx").read_bytes()
    with pytest.raises(InputError, match="would overwrite the input file"):
        write(sheet, outcomes(*MIXED), tmp_path / "orders.xlsx")
    assert (tmp_path / "orders.xlsx").read_bytes() == before


def test_a_sheet_built_in_code_needs_an_output_path(tmp_path):
    with pytest.raises(ValueError, match="give the path"):
        write_results(order_sheet(tmp_path, "frame"), outcomes(*MIXED), errors_frame([]))


@pytest.mark.parametrize("kind", INPUTS)
def test_a_write_leaves_only_the_finished_workbook(tmp_path, kind):
    sheet = order_sheet(tmp_path, kind)
    folder = tmp_path / "out"
    folder.mkdir()
    for _ in range(2):
        write(sheet, outcomes(*MIXED), folder / "out.xlsx")
        assert sorted(p.name for p in folder.iterdir()) == ["out.xlsx"]
        assert zipfile.ZipFile(folder / "out.xlsx").testzip() is None


@pytest.mark.parametrize("kind", INPUTS)
def test_a_failed_rename_leaves_the_previous_results_untouched(tmp_path, kind, monkeypatch):
    sheet = order_sheet(tmp_path, kind)
    target = write(sheet, outcomes(MIXED[0]), tmp_path / "out.xlsx")
    before = target.read_bytes()

    def refuse(source: object, destination: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write(sheet, outcomes(*MIXED), target)
    assert target.read_bytes() == before
    assert temporaries(tmp_path) == []


def test_a_writer_that_fails_midway_leaves_the_previous_results_untouched(tmp_path, monkeypatch):
    sheet = order_sheet(tmp_path, "xlsx")
    target = write(sheet, outcomes(MIXED[0]), tmp_path / "out.xlsx")
    before = target.read_bytes()

    def fail(*args: object) -> None:
        Path(args[-1]).write_bytes(b"half a workbook")
        raise RuntimeError("the writer broke")

    monkeypatch.setattr(importer.write.workbook, "_write_into_user_workbook", fail)
    monkeypatch.setattr(importer.write.workbook, "_write_new_workbook", fail)
    with pytest.raises(RuntimeError, match="the writer broke"):
        write(sheet, outcomes(*MIXED), target)
    assert target.read_bytes() == before
    assert temporaries(tmp_path) == []


def test_an_input_changed_since_it_was_read_gets_a_new_workbook_of_the_rows_as_read(tmp_path):
    sheet = order_sheet(tmp_path, "xlsx")
    book = openpyxl.load_workbook(tmp_path / "orders.xlsx")
    book["Orders"].insert_rows(2)  # a row typed in above the data while the run went on
    book["Orders"]["A2"] = "a row nobody imported"
    book.save(tmp_path / "orders.xlsx")
    notes: list[str] = []
    target = write_results(sheet, outcomes(*MIXED), errors_frame([]), tmp_path / "out.xlsx", notes=notes)
    assert any("orders.xlsx changed" in note for note in notes)
    rows = rows_of(target, "Orders")
    assert rows[0] == (*HEADER, *RESULT_COLUMNS)
    assert [as_read(list(row[: len(HEADER)])) for row in rows[1:]] == [as_read(row) for row in ROWS]
    assert [row[len(HEADER)] for row in rows[1:]] == ["VALID", "INVALID", "HELD"]


def test_a_user_workbook_that_will_not_save_again_gets_a_new_workbook(tmp_path, monkeypatch):
    sheet = order_sheet(tmp_path, "xlsx")

    def refuse(*args: object) -> None:
        raise ValueError("cannot be saved again")

    monkeypatch.setattr(importer.write.workbook, "_write_into_user_workbook", refuse)
    notes: list[str] = []
    target = write_results(sheet, outcomes(*MIXED), errors_frame([]), tmp_path / "out.xlsx", notes=notes)
    assert any("ValueError" in note and "new workbook" in note for note in notes)
    assert [row[len(HEADER)] for row in rows_of(target, "Orders")[1:]] == ["VALID", "INVALID", "HELD"]


def fail_streaming_write(sheet: OrderSheet, target: Path) -> list[str]:
    """Make xlsxwriter raise while it streams the rows; return the ResourceWarnings of files it left open."""
    unstorable = outcomes({"row_id": 0, "status": "CREATE_FAILED", "estimated_unit_price": Decimal("Infinity")})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        with pytest.raises(TypeError, match="NAN/INF"):  # xlsxwriter refuses it while the rows are being streamed
            write(sheet, unstorable, target)
        gc.collect()  # the traceback held the half-written workbook; collect it while warnings are recorded
    return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]


@pytest.mark.parametrize("kind", ["csv", "frame"])
def test_a_value_the_streaming_writer_cannot_store_leaves_the_previous_results_untouched(tmp_path, kind):
    sheet = order_sheet(tmp_path, kind)
    target = write(sheet, outcomes(MIXED[0]), tmp_path / "out.xlsx")
    before = target.read_bytes()
    fail_streaming_write(sheet, target)
    assert target.read_bytes() == before
    assert temporaries(tmp_path) == []


def test_a_failed_streaming_write_leaves_no_file_open(tmp_path):
    sheet = order_sheet(tmp_path, "csv")
    assert fail_streaming_write(sheet, tmp_path / "out.xlsx") == []


def test_the_streaming_writer_escapes_what_xml_cannot_hold(tmp_path):
    results = outcomes({"row_id": 0, "status": "CREATE_FAILED", "error": "bad\x07bell"})
    output = write(order_sheet(tmp_path, "csv"), results, tmp_path / "out.xlsx")
    error = rows_of(output, "orders")[1][len(HEADER) + RESULT_COLUMNS.index("error")]
    assert re.fullmatch(r"bad(_x0007_|\x07|\ufffd)bell", str(error))


# ----- the streamed rows are the cells xlsxwriter itself would write -------------------------------

TRICKY = [
    "=1+1",
    "+8613800138000",
    "-2+3",
    "@SUM(A1:A2)",
    "<r><t>rich?</t></r>",
    "a & b < c > d",
    " leading and trailing ",
    "literal _x0041_ escape",
    "bell\x07 and\r\nbreak",
    "",
    "商品 ☕ 𝟘",
]


def xlsxwriter_cells(path: Path, rows: list[list[object]]) -> None:
    """The same values written one cell at a time through xlsxwriter's public API (the reference)."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False})
    sheet = book.add_worksheet("Sheet1")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, str):
                sheet.write_string(r, c, value)
            else:
                sheet.write_number(r, c, float(value))  # type: ignore[arg-type]
    book.close()


def test_inline_strings_read_back_as_xlsxwriter_writes_them(tmp_path):
    rows: list[list[object]] = [[text, n] for n, text in enumerate(TRICKY)]
    xlsxwriter_cells(tmp_path / "reference.xlsx", rows)
    sheet = importer.load(pd.DataFrame({"note": TRICKY, "order_ref": [str(n) for n in range(len(TRICKY))]}))
    output = write(sheet, outcomes(), tmp_path / "out.xlsx")
    expected = [row[0] for row in rows_of(tmp_path / "reference.xlsx", "Sheet1")]
    written = [row[0] for row in rows_of(output, "Sheet1")[1:]]
    rich = TRICKY.index("<r><t>rich?</t></r>")
    assert expected[rich] == "rich?"  # xlsxwriter's cell writer takes text shaped like its markup as markup
    assert written[rich] == TRICKY[rich]  # the streamed rows keep it as the text it is
    assert written[:rich] + written[rich + 1 :] == expected[:rich] + expected[rich + 1 :]


def test_the_streamed_sheet_has_the_cells_of_the_workbook_writer_above_the_threshold(tmp_path, monkeypatch):
    # openpyxl cannot store a bell in the input, and reads Excel's _xHHHH_ escapes differently in inline and
    # shared strings; both are compared with xlsxwriter's own cells above
    storable = [text for text in TRICKY if "\x07" not in text and "_x" not in text]
    rows = [[*ROWS[n % len(ROWS)][:-1], text] for n, text in enumerate(storable)]
    sheet = order_sheet(tmp_path, "xlsx", rows)
    results = outcomes(
        {"row_id": 0, "status": "PREVIEWED", "estimated_unit_price": Decimal("12.5"), "warning": "check the mobile"},
        {"row_id": 1, "status": "INVALID", "error": "quantity must be whole", "error_column": "quantity"},
        {"row_id": 2, "status": "CREATE_FAILED", "provider_order_id": "=HYPERLINK(1)", "error": "=1+1"},
        {"row_id": 3, "status": "INVALID", "error": "no such column", "error_column": "not_in_sheet"},
    )
    small = write(sheet, results, tmp_path / "small.xlsx")
    monkeypatch.setattr(importer.write.workbook, "FAST_WRITER_THRESHOLD", 1)
    monkeypatch.setattr(importer.write.workbook, "_BLOCK_ROWS", 3)  # rows are put out in several blocks
    large = write(sheet, results, tmp_path / "large.xlsx")
    kept, streamed = openpyxl.load_workbook(small)["Orders"], openpyxl.load_workbook(large)["Orders"]
    assert [as_read(list(r)) for r in streamed.iter_rows(values_only=True)] == [  # an empty input cell: '' or None
        as_read(list(r)) for r in kept.iter_rows(values_only=True)
    ]
    for kept_row, streamed_row in zip(kept.iter_rows(min_row=2), streamed.iter_rows(min_row=2), strict=True):
        for a, b in zip(kept_row, streamed_row, strict=True):
            assert (fill(a), a.number_format) == (fill(b), b.number_format), b.coordinate
            assert a.value in (None, "") or a.data_type == b.data_type, b.coordinate
            assert (a.comment.text if a.comment else None) == (b.comment.text if b.comment else None), b.coordinate
    for name in ("Summary", "Errors"):
        streamed_rows, kept_rows = rows_of(large, name)[3:], rows_of(small, name)[3:]  # all but the time written
        assert [as_read(list(r)) for r in streamed_rows] == [as_read(list(r)) for r in kept_rows]
    assert streamed.auto_filter.ref == f"A1:{LAST_COLUMN}{len(rows) + 1}" and opens_at(streamed)[:2] == (1, 1)


@pytest.mark.parametrize("kind", INPUTS)
def test_the_summary_charts_rows_per_status_from_its_own_cells(tmp_path, kind):
    output = write(order_sheet(tmp_path, kind), outcomes(*MIXED), tmp_path / "out.xlsx")
    summary = rows_of(output, "Summary")
    first = [row[:2] for row in summary].index(("status", "rows")) + 2
    last = next(n for n, row in enumerate(summary, start=1) if row[0] == "total") - 1
    with zipfile.ZipFile(output) as archive:
        charts = [archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 1 and "barChart" in charts[0]
    refs = set(re.findall(r"<(?:c:)?f>'?Summary'?!(\$[A-Z]\$\d+:\$[A-Z]\$\d+)</(?:c:)?f>", charts[0]))
    assert refs == {f"$A${first}:$A${last}", f"$B${first}:$B${last}"}
    shown = {row[0]: row[1] for row in summary[first - 1 : last]}
    assert shown == {"VALID": 1, "INVALID": 1, "HELD": 1}  # each input row counted once


@pytest.mark.parametrize("kind", INPUTS)
def test_per_provider_totals_are_split_by_currency(tmp_path, kind):
    results = outcomes(
        {"row_id": 0, "status": "CREATED", "estimated_amount": Decimal("10.00"), "currency_charged": "CNY"},
        {"row_id": 1, "status": "CREATED", "estimated_amount": Decimal("2.50"), "currency_charged": "USD"},
        {"row_id": 2, "status": "CREATED", "estimated_amount": Decimal("1.25"), "currency_charged": "CNY"},
    )
    output = write(order_sheet(tmp_path, kind), results, tmp_path / "out.xlsx")
    summary = rows_of(output, "Summary")
    start = [row[0] for row in summary].index("provider")
    block = [row[:7] for row in summary[start + 1 :] if row[5]]
    assert block == [
        ("dajisaas", 1, 1, 1, 0, "CNY", pytest.approx(1.25)),
        ("xportcn-open", 2, 1, 2, 0, "CNY", pytest.approx(10.0)),
        (None, None, None, None, None, "USD", pytest.approx(2.5)),  # a second currency: no second provider line
    ]
