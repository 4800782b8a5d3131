"""The reader: every cell comes back as the text its author typed, with the sheet and row Excel shows.

Input files are built here with openpyxl or as raw bytes, so each case is the
exact shape a spreadsheet program or a text editor produces.
"""

import shutil
import sys
import zipfile
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importer.errors import InputError
from importer.models import OrderSheet
from importer.read import sheet as read
from importer.read.limits import InputLimits
from importer.read.sheet import EXACT_FLOAT_LIMIT, HEADER_SEARCH_ROWS, cell_text, read_sheet

HEADER = ["provider", "order_ref", "item_id", "quantity", "receiver_name", "receiver_mobile", "zip"]
ROW = ["xportcn-open", "PO-1", "600126245031041190", "2", "张三", "013800138000", "010020"]
ROW2 = ["dajisaas", "PO-2", "652711530188", "5", "李四", "+8613912345678", "311121"]

# The extra cell each case puts in its rows picks the reader. Text-only sheets are read by fastexcel, or by
# python-calamine when fastexcel cannot be used; a number in a column the fast readers cannot take at face
# value (anything but quantity/unit_price) makes the reader use openpyxl, which knows cell formats.
READERS = {"text cells": "cost centre", "text cells, calamine": "cost centre", "a number cell": 4711}


@pytest.fixture(autouse=True)
def fastexcel_at_any_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """These sheets are small; fastexcel reads them as it would a large one, so both fast readers are tested."""
    monkeypatch.setattr(read, "FASTEXCEL_MIN_BYTES", 0)


@pytest.fixture(params=list(READERS), ids=list(READERS))
def extra(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> object:
    """The extra cell for each case's rows; the calamine case leaves fastexcel out of the readers tried."""
    if request.param == "text cells, calamine":
        monkeypatch.setattr(read, "FAST_READERS", (read._read_calamine,))
    return READERS[request.param]


def write_book(path: Path, sheets: dict[str, list[list[object]]], *, hidden: tuple[str, ...] = ()) -> Path:
    """A workbook with one sheet per entry, cells as given (str cells stored as text)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        worksheet = book.create_sheet(name)
        for row in rows:
            worksheet.append(row)
        if name in hidden:
            worksheet.sheet_state = "hidden"
    book.save(path)
    return path


def write_csv(path: Path, rows: list[list[str]], encoding: str, delimiter: str = ",") -> Path:
    path.write_bytes("\r\n".join(delimiter.join(row) for row in rows).encode(encoding))
    return path


def load_error(path: Path, **options: object) -> InputError:
    with pytest.raises(InputError) as caught:
        read_sheet(path, **options)  # type: ignore[arg-type]
    return caught.value


# ----- CSV: encodings and delimiters -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "recorded"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("gb18030", "gb18030"), ("utf-16", "utf-16")],
)
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_encodings_and_delimiters_round_trip_chinese_text(tmp_path, encoding, recorded, delimiter):
    path = write_csv(tmp_path / "orders.csv", [HEADER, ROW, ROW2], encoding, delimiter)
    sheet = read_sheet(path)
    frame = sheet.frame
    assert sheet.encoding == recorded
    assert list(frame["receiver_name"]) == ["张三", "李四"]
    assert list(frame["item_id"]) == ["600126245031041190", "652711530188"]
    assert list(frame["receiver_mobile"]) == ["013800138000", "+8613912345678"]
    assert list(frame["zip"]) == ["010020", "311121"]
    assert list(frame["_row"]) == [2, 3]
    assert set(frame["_sheet"]) == {"orders"}
    assert sheet.header_rows == {"orders": 1}
    assert frame.columns[0] == "provider"  # the BOM does not stick to the first header


def test_gb18030_only_characters_survive(tmp_path):
    """Characters outside GBK (a CJK extension B ideograph) are read from a GB18030 file."""
    name = "𠀾先生"
    with pytest.raises(UnicodeEncodeError):
        name.encode("gbk")
    path = write_csv(tmp_path / "orders.csv", [HEADER, [*ROW[:4], name, *ROW[5:]]], "gb18030")
    sheet = read_sheet(path)
    assert sheet.encoding == "gb18030"
    assert sheet.frame.loc[0, "receiver_name"] == name


def test_undecodable_csv_names_the_file_and_line(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_bytes(b"order_ref,item_id,quantity\nPO-1,1,2\nPO-2,\x80\x80\xff,3\n")
    error = load_error(path)
    assert error.row == 3
    assert error.file is not None and Path(error.file).name == "broken.csv"
    assert str(error).startswith("broken.csv, row 3: ")
    assert "neither UTF-8 nor GBK/GB18030" in str(error)


def test_bad_bytes_after_a_utf8_bom_name_the_line(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbforder_ref,item_id,quantity\nPO-1,1,2\nPO-2,\xff,3\n")
    error = load_error(path)
    assert (error.row, Path(str(error.file)).name) == (3, "bom.csv")
    assert "says UTF-8" in str(error)


def test_broken_utf16_names_the_file(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_bytes(b"\xff\xfe" + "order_ref,item_id,quantity\n".encode("utf-16-le") + b"\x00\xd8a\x00")
    error = load_error(path)
    assert Path(str(error.file)).name == "wide.csv"
    assert str(error).startswith("wide.csv: ") and "UTF-16" in str(error)


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".txt"])
def test_text_file_suffixes_are_read_as_csv(tmp_path, suffix):
    path = write_csv(tmp_path / f"orders{suffix}", [HEADER, ROW], "utf-8", "\t")
    assert read_sheet(path).frame.loc[0, "item_id"] == "600126245031041190"


def test_csv_blank_lines_are_skipped_and_rows_keep_their_line_numbers(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("order_ref,item_id,quantity\nPO-1,1,2\n\n , , \nPO-2,1,3\n", encoding="utf-8")
    frame = read_sheet(path).frame
    assert list(frame["order_ref"]) == ["PO-1", "PO-2"]
    assert list(frame["_row"]) == [2, 5]


def test_csv_row_with_a_line_break_in_a_cell_keeps_its_row_number(tmp_path):
    path = tmp_path / "multiline.csv"
    path.write_text('order_ref,item_id,quantity,address\nPO-1,1,2,"Building 5\nRoom 301"\nPO-2,1,3,x\n', "utf-8")
    frame = read_sheet(path).frame
    assert frame.loc[0, "address"] == "Building 5\nRoom 301"
    assert int(frame.loc[0, "_row"]) == 2


def test_short_csv_rows_are_padded_and_unknown_columns_pass_through(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("order_ref;item_id;quantity;Cost Centre\nPO-1;1\n", encoding="utf-8")
    frame = read_sheet(path).frame
    assert frame.loc[0, "quantity"] == ""
    assert frame.loc[0, "Cost Centre"] == ""
    assert list(frame.columns) == ["order_ref", "item_id", "quantity", "Cost Centre", "_sheet", "_row"]


def test_csv_with_a_huge_cell_is_a_malformed_csv_error_on_its_row(tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text('order_ref,item_id,quantity\nPO-1,1,"' + "x" * 200_000 + '"\n', encoding="utf-8")
    error = load_error(path)
    assert error.row == 2 and "malformed" in str(error) and "huge.csv" in str(error)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("order_ref,item_id,quantity\n", "a header row but no order rows"),
        ("order_ref,item_id,quantity\n,,\n", "a header row but no order rows"),
        ("\n\n", "(headers found: none)"),
        ("order_ref|item_id|quantity\nPO-1|1|2\n", "no column for order_ref"),
    ],
)
def test_csv_without_usable_rows_or_headers_is_refused(tmp_path, content, message):
    path = tmp_path / "odd.csv"
    path.write_text(content, encoding="utf-8")
    error = load_error(path)
    assert message in str(error) and Path(str(error.file)).name == "odd.csv"


_CSV_PIECES = [",", ";", "\t", '"', '""', "'", "'=1", "\n", "\r\n", "\r", " ", "\u3000", "PO-1", "张三", "0138", "-2"]


@settings(max_examples=300, deadline=None)
@given(
    text=st.lists(st.sampled_from(_CSV_PIECES), max_size=40).map("".join),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_csv_reads_the_same_by_columns_and_by_records(text, delimiter):
    """pandas' C parser (a column at a time) gives what the csv module gives, or leaves the file to it."""
    by_columns = read._csv_by_columns(text, delimiter)
    try:
        by_records = read._csv_by_rows(Path("random.csv"), text, delimiter)
    except InputError:
        assert by_columns is None  # only the csv module says what is malformed
        return
    if by_columns is not None:
        assert by_records is not None
        assert by_columns == by_records


def test_a_ragged_or_oversized_csv_is_left_to_the_csv_module():
    assert read._csv_by_columns("order_ref,item_id\nPO-1,1,extra\n", ",") is None
    assert read._csv_by_columns("order_ref,item_id\nPO-1,1\x00\n", ",") is None
    assert read._csv_by_columns('order_ref,item_id\nPO-1,"' + "x" * 200_000 + '"\n', ",") is None
    assert read._csv_by_columns("order_ref,item_id\nPO-1,1\n", ",") == (
        ["order_ref", "item_id"],
        [["PO-1"], ["1"]],
        [2],
    )


def test_a_longer_csv_record_keeps_its_row_and_leaves_its_extra_cells(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("order_ref,item_id,quantity\nPO-1,1,2,surplus\n\nPO-2,1,3\n", encoding="utf-8")
    frame = read_sheet(path).frame
    assert frame[["order_ref", "quantity", "_row"]].values.tolist() == [["PO-1", "2", 2], ["PO-2", "3", 4]]


# ----- CSV and workbooks: the default provider -----------------------------------------------------------


def test_default_provider_fills_empty_provider_cells_only(tmp_path):
    path = write_csv(tmp_path / "orders.csv", [HEADER, ["", *ROW[1:]], ROW2], "utf-8")
    frame = read_sheet(path, provider="shanjing").frame
    assert list(frame["provider"]) == ["shanjing", "dajisaas"]


def test_default_provider_adds_the_column_when_the_sheet_has_none(tmp_path):
    path = write_book(tmp_path / "orders.xlsx", {"Orders": [HEADER[1:], ROW[1:]]})
    frame = read_sheet(path, provider="dajisaas").frame
    assert frame.columns[0] == "provider" and list(frame["provider"]) == ["dajisaas"]
    assert "provider" not in read_sheet(path).frame


def test_a_row_of_spaces_is_blank_but_a_row_with_its_first_cell_empty_is_not(tmp_path, extra):
    """Blank rows are skipped wherever they are; a row is kept when any cell holds more than spaces."""
    blank_first = ["", *ROW2[1:]]
    rows = [[*HEADER, "cost_centre"], [*ROW, extra], ["  "] * 8, [""] * 8, [*blank_first, " "], [*ROW, extra]]
    frame = read_sheet(write_book(tmp_path / "orders.xlsx", {"Orders": rows})).frame
    assert list(frame["_row"]) == [2, 5, 6]
    assert list(frame["order_ref"]) == ["PO-1", "PO-2", "PO-1"]
    assert list(frame["provider"]) == ["xportcn-open", "", "xportcn-open"]
    assert all(frame[column].to_numpy().flags["C_CONTIGUOUS"] for column in HEADER)  # one run per column


# ----- workbooks: the text a cell shows ----------------------------------------------------------------


def test_ids_and_phones_stored_as_text_keep_every_character(tmp_path, extra):
    path = write_book(
        tmp_path / "orders.xlsx",
        {"Orders": [[*HEADER, "cost_centre"], [*ROW, extra], [*ROW2, extra]]},
    )
    sheet = read_sheet(path)
    frame = sheet.frame
    assert list(frame["item_id"]) == ["600126245031041190", "652711530188"]
    assert list(frame["receiver_mobile"]) == ["013800138000", "+8613912345678"]
    assert list(frame["zip"]) == ["010020", "311121"]
    assert list(frame["cost_centre"]) == [str(extra)] * 2  # an unknown column passes through unchanged
    assert sheet.issues == []


def test_an_id_excel_stored_as_a_big_number_is_reported_not_rounded(tmp_path):
    path = tmp_path / "numbers.xlsx"
    rounded = float(600126245031041190)
    write_book(path, {"Orders": [HEADER, [*ROW[:2], rounded, *ROW[3:]], [*ROW2[:2], 652711530188.0, *ROW2[3:]]]})
    sheet = read_sheet(path)
    assert sheet.frame.loc[1, "item_id"] == "652711530188"  # below 2**53: exact digits, no ".0"
    assert len(sheet.issues) == 1
    issue = sheet.issues[0]
    assert (issue.row_id, issue.sheet, issue.row, issue.column) == (0, "Orders", 2, "item_id")
    assert issue.value == str(int(rounded)) == sheet.frame.loc[0, "item_id"]
    assert "format the column as Text" in issue.message


def test_the_limit_for_exact_numbers_is_two_to_the_53(tmp_path):
    assert cell_text(float(EXACT_FLOAT_LIMIT - 1)) == (str(EXACT_FLOAT_LIMIT - 1), None)
    text, problem = cell_text(float(EXACT_FLOAT_LIMIT))
    assert text == str(EXACT_FLOAT_LIMIT) and problem is not None
    assert cell_text(-float(EXACT_FLOAT_LIMIT))[1] is not None


def test_a_number_with_a_zero_padded_format_comes_back_padded(tmp_path):
    path = tmp_path / "zip.xlsx"
    book = openpyxl.Workbook()
    worksheet = book.active
    worksheet.title = "Orders"
    worksheet.append(HEADER)
    worksheet.append([*ROW[:6], 10020])
    worksheet.append([*ROW2[:6], 311121.0])
    worksheet["G2"].number_format = "000000"
    worksheet["G3"].number_format = "000000"
    book.save(path)
    assert list(read_sheet(path).frame["zip"]) == ["010020", "311121"]


def test_numbers_in_quantity_and_price_read_as_plain_text(tmp_path):
    path = write_book(
        tmp_path / "qty.xlsx",
        {"Orders": [[*HEADER, "unit_price"], [*ROW[:3], 2, *ROW[4:], 12.5], [*ROW2[:3], 3.0, *ROW2[4:], 0.1]]},
    )
    frame = read_sheet(path).frame
    assert list(frame["quantity"]) == ["2", "3"]
    assert list(frame["unit_price"]) == ["12.5", "0.1"]


def test_dates_read_as_iso_text(tmp_path, extra):
    path = write_book(
        tmp_path / "dates.xlsx",
        {
            "Orders": [
                [*HEADER, "order_remark", "cost_centre"],
                [*ROW, datetime(2024, 3, 5), extra],
                [*ROW2, datetime(2024, 3, 5, 14, 30), extra],
            ]
        },
    )
    assert list(read_sheet(path).frame["order_remark"]) == ["2024-03-05", "2024-03-05 14:30:00"]


@pytest.mark.parametrize(
    ("value", "number_format", "text"),
    [
        (None, "General", ""),
        ("=not a formula", "General", "=not a formula"),
        (True, "General", "TRUE"),
        (False, "General", "FALSE"),
        (42, "000000", "000042"),
        (42, "0.00", "42"),
        (-7, "000", "-7"),  # a negative number is not padded into nonsense
        (3.0, "General", "3"),
        (12.5, "General", "12.5"),
        (1.5e-4, "General", "0.00015"),  # never an exponent
        (float("nan"), "General", "nan"),
        (float("inf"), "General", "inf"),
        (datetime(2024, 3, 5), "yyyy-mm-dd", "2024-03-05"),
        (datetime(2024, 3, 5, 9, 5, 7), "General", "2024-03-05 09:05:07"),
        (date(2024, 12, 31), "General", "2024-12-31"),
        (time(8, 30), "General", "08:30:00"),
        (Decimal("1.50"), "General", "1.50"),
    ],
)
def test_cell_text_of_every_kind_of_value(value, number_format, text):
    assert cell_text(value, number_format) == (text, None)


@pytest.mark.parametrize(("value", "text"), [(1e-7, "0.0000001"), (1.2345e-5, "0.000012345")])
def test_small_fractions_keep_every_digit(value, text):
    assert cell_text(value) == (text, None)


# ----- workbooks: where the rows are ------------------------------------------------------------------


def test_header_below_title_rows_is_found_and_rows_are_numbered_as_excel_shows(tmp_path, extra):
    rows: list[list[object]] = [
        ["Purchase orders, March"],
        [],
        ["(internal)"],
        [*HEADER, "cost_centre"],
        [*ROW, extra],
        [],
        [*ROW2, extra],
    ]
    sheet = read_sheet(write_book(tmp_path / "titled.xlsx", {"Orders": rows}))
    assert sheet.header_rows == {"Orders": 4}
    assert list(sheet.frame["_row"]) == [5, 7]
    assert list(sheet.frame["order_ref"]) == ["PO-1", "PO-2"]


def test_a_header_further_down_than_the_search_reaches_is_not_found(tmp_path):
    rows: list[list[object]] = [[f"title {n}"] for n in range(HEADER_SEARCH_ROWS)] + [HEADER, ROW]
    error = load_error(write_book(tmp_path / "deep.xlsx", {"Orders": rows}))
    assert "no sheet has a header row" in str(error) and "deep.xlsx" in str(error)


def test_hidden_and_empty_sheets_are_skipped_with_a_note_and_sheets_keep_their_names(tmp_path, extra):
    header = [*HEADER, "cost_centre"]
    path = write_book(
        tmp_path / "many.xlsx",
        {
            "March": [header, [*ROW, extra]],
            "Archive": [header, [*ROW2, extra]],
            "Empty": [],
            "Header only": [header],
            "April": [header, [*ROW2, extra], [*ROW, extra]],
        },
        hidden=("Archive",),
    )
    sheet = read_sheet(path)
    assert list(sheet.frame["_sheet"]) == ["March", "April", "April"]
    assert list(sheet.frame["_row"]) == [2, 2, 3]
    assert list(sheet.frame["order_ref"]) == ["PO-1", "PO-2", "PO-1"]
    assert list(sheet.frame.index) == [0, 1, 2]
    assert sheet.header_rows == {"March": 1, "April": 1}
    assert sheet.notes == [
        "sheet 'Archive' skipped: it is hidden",
        "sheet 'Empty' skipped: no header row with the order columns",
        "sheet 'Header only' skipped: it has no order rows",
    ]


def test_one_sheet_by_name_even_a_hidden_one(tmp_path, extra):
    header = [*HEADER, "cost_centre"]
    path = write_book(
        tmp_path / "many.xlsx",
        {"March": [header, [*ROW, extra]], "Archive": [header, [*ROW2, extra]]},
        hidden=("Archive",),
    )
    sheet = read_sheet(path, sheet="Archive")
    assert list(sheet.frame["_sheet"]) == ["Archive"] and list(sheet.frame["order_ref"]) == ["PO-2"]
    error = load_error(path, sheet="May")
    assert "no sheet named 'May'" in str(error) and "March, Archive" in str(error) and "many.xlsx" in str(error)


def test_issues_on_a_later_sheet_point_at_that_sheet_and_row(tmp_path):
    path = write_book(
        tmp_path / "two.xlsx",
        {"March": [HEADER, ROW, ROW2], "April": [HEADER, ["x"], [*ROW[:2], 9.007199254740993e17, *ROW[3:]]]},
    )
    sheet = read_sheet(path)
    assert [(i.row_id, i.sheet, i.row, i.column) for i in sheet.issues] == [(3, "April", 3, "item_id")]
    assert sheet.frame.loc[3, "_sheet"] == "April"


def test_a_sheet_missing_required_columns_is_named_when_no_sheet_fits(tmp_path):
    path = write_book(
        tmp_path / "wrong.xlsx",
        {
            "Notes": [["provider", "title"], ["x", "y"]],
            "Orders": [["order_ref", "qty", "Item Idd", "收货人"], ["PO-1", "2", "1", "张三"]],
        },
    )
    error = load_error(path)
    assert error.sheet == "Orders"
    assert "did you mean 'Item Idd'?" in str(error)
    assert str(error).startswith("wrong.xlsx, sheet 'Orders': no column for item_id")


def test_a_sheet_with_missing_columns_is_noted_when_another_sheet_fits(tmp_path):
    path = write_book(
        tmp_path / "mixed.xlsx",
        {"Orders": [HEADER, ROW], "Draft": [["order_ref", "quantity"], ["PO-9", "1"]]},
    )
    sheet = read_sheet(path)
    assert list(sheet.frame["order_ref"]) == ["PO-1"]
    assert sheet.notes == ["sheet 'Draft' skipped: no column for item_id (headers found: 'order_ref', 'quantity')"]


def test_a_user_mapping_names_headers_no_alias_covers(tmp_path):
    path = write_book(tmp_path / "erp.xlsx", {"Orders": [["客户单号", "货号", "件数"], ["PO-1", "6001", "2"]]})
    assert "no sheet has a header row" in str(load_error(path))
    sheet = read_sheet(path, mapping={"客户单号": "order_ref", "货号": "item_id", "件数": "quantity"})
    assert sheet.frame.loc[0, ["order_ref", "item_id", "quantity"]].tolist() == ["PO-1", "6001", "2"]
    assert sheet.header_map == {"客户单号": "order_ref", "货号": "item_id", "件数": "quantity"}


def test_an_xlsm_workbook_is_read(tmp_path):
    path = write_book(tmp_path / "book.xlsx", {"Orders": [HEADER, ROW]})
    macro = path.with_suffix(".xlsm")
    shutil.copy(path, macro)
    assert read_sheet(macro).frame.loc[0, "item_id"] == "600126245031041190"


def test_the_sheet_closest_to_an_order_sheet_is_named_when_none_fits(tmp_path):
    path = write_book(
        tmp_path / "close.xlsx",
        {
            "A": [["order_ref", "quantity"], ["PO-1", "1"]],
            "B": [["provider", "order_ref", "quantity"], ["x", "PO-1", "1"]],
            "C": [["order_ref", "qty"], ["PO-1", "1"]],
        },
    )
    error = load_error(path)
    assert error.sheet == "B" and "headers found: 'provider', 'order_ref', 'quantity'" in str(error)


def test_duplicate_headers_keep_every_column(tmp_path, extra):
    header = ["order_ref", "item_id", "quantity", "Item ID", "note", "note", "note", "cost_centre"]
    row = ["PO-1", "111", "2", "222", "a", "b", "c", extra]
    frame = read_sheet(write_book(tmp_path / "dup.xlsx", {"Orders": [header, row]})).frame
    assert frame.loc[0, "item_id"] == "111"  # the first column for a field is the one used
    assert frame.loc[0, "Item ID"] == "222"
    assert frame.loc[0, ["order_remark", "note", "note (2)"]].tolist() == ["a", "b", "c"]


def test_formula_cells_are_named_in_a_note(tmp_path, extra):
    rows = [[*HEADER, "cost_centre"]] + [[*ROW[:3], f"=1+{n}", *ROW[4:], extra] for n in range(6)]
    sheet = read_sheet(write_book(tmp_path / "formulas.xlsx", {"Orders": rows}))
    assert sheet.notes == [
        "sheet 'Orders': 6 cells hold formulas (D2, D3, D4, D5, D6, …); their last calculated values were used, "
        "so check them"
    ]


def test_the_row_limit_is_checked_while_reading(tmp_path, extra):
    rows = [[*HEADER, "cost_centre"], [*ROW, extra], [*ROW2, extra], [*ROW, extra]]
    path = write_book(tmp_path / "rows.xlsx", {"Orders": rows})
    assert len(read_sheet(path, limits=InputLimits(max_rows=3))) == 3  # data rows count, the header does not
    error = load_error(path, limits=InputLimits(max_rows=2))
    assert "max_rows" in str(error) and str(error).startswith("rows.xlsx, sheet 'Orders': more than 2 data rows")


def test_a_csv_holding_only_a_byte_order_mark_is_empty(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf")
    assert str(load_error(path)) == "bom.csv: the file is empty"


# ----- workbooks: the two fast readers agree --------------------------------------------------------

_PIECES = [*"aZ09-=+@'. ", "\t", "\n", "\r\n", "\u3000", "\xa0", "\u2003", "张", "號", "😀", "_x000D_", "０", "007"]
_CELL_TEXT = st.lists(st.sampled_from(_PIECES), max_size=5).map("".join)


def _read_by(reader: Callable[..., OrderSheet | None], path: Path) -> OrderSheet | str:
    """The sheet one fast reader gives, or the message it refuses the workbook with."""
    try:
        sheet = reader(path, None, None, InputLimits())
    except InputError as error:
        return str(error)
    assert sheet is not None, f"{reader.__name__} handed on a text-only workbook"
    return sheet


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cells=st.lists(st.lists(_CELL_TEXT, min_size=len(HEADER), max_size=len(HEADER)), min_size=1, max_size=8),
    top=st.integers(0, 3),
    left=st.integers(0, 2),
)
def test_text_sheets_read_the_same_by_columns_and_by_rows(tmp_path, cells, top, left):
    """fastexcel (a column at a time) and calamine (a row at a time) give the very same sheet."""
    path = tmp_path / "random.xlsx"
    book = openpyxl.Workbook()
    for r, row in enumerate([HEADER, *cells], start=top + 1):
        for c, value in enumerate(row, start=left + 1):
            if value:
                book.active.cell(row=r, column=c, value=value).data_type = "s"
    book.save(path)
    by_columns, by_rows = _read_by(read._read_fastexcel, path), _read_by(read._read_calamine, path)
    if isinstance(by_rows, str):  # every row blank: both refuse the sheet alike
        assert by_columns == by_rows and "no sheet has a header row" in by_rows
        return
    assert isinstance(by_columns, OrderSheet)
    pd.testing.assert_frame_equal(by_columns.frame, by_rows.frame)
    assert (by_columns.header_rows, by_columns.notes) == (by_rows.header_rows, by_rows.notes)
    assert by_rows.header_rows == {"Sheet": top + 1} and by_rows.notes == []


def test_the_spaces_polars_strips_are_the_spaces_python_strips():
    assert set(read.PY_SPACES) == {c for c in map(chr, range(0x110000)) if c.isspace()}


@pytest.mark.parametrize("column", [3, len(HEADER) + 1], ids=["in a text column", "alone in its column"])
def test_a_number_far_below_the_top_leaves_fastexcel_and_still_reads_exactly(tmp_path, column):
    rows: list[list[object]] = [HEADER] + [[*ROW[:1], f"PO-{n}", *ROW[2:]] for n in range(1500)]
    rows[-1][3:] = [*ROW[3:], None, None]
    rows[-1][column] = 3  # past the 64 KiB the quick look reads, so fastexcel parses the sheet and refuses it
    path = write_book(tmp_path / "late.xlsx", {"Orders": rows})
    assert read._top_is_text(path, "xl/worksheets/sheet1.xml")
    assert read._read_fastexcel(path, None, None, InputLimits()) is None
    frame = read_sheet(path).frame
    assert frame["quantity"].tolist() == ["2"] * 1499 + ["3" if column == 3 else "2"]
    assert frame.loc[1499, "_row"] == 1501


@pytest.mark.parametrize(
    ("cells", "text_only"),
    [
        (["PO-1", "2"], True),
        (["PO-1", 2], False),
        (["PO-1", True], False),
        (["PO-1", datetime(2026, 3, 5)], False),
        (["PO-1", None], True),
    ],
)
def test_a_quick_look_at_the_top_finds_number_date_and_true_false_cells(tmp_path, cells, text_only):
    path = tmp_path / "top.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["order_ref", "quantity"])
    book.active.append(cells)
    book.active["C2"].number_format = "0.00"  # a styled empty cell is not a value
    book.save(path)
    assert read._top_is_text(path, "xl/worksheets/sheet1.xml") is text_only


def test_a_hidden_sheet_holding_numbers_does_not_keep_a_text_sheet_from_fastexcel(tmp_path):
    path = write_book(
        tmp_path / "hidden.xlsx", {"Orders": [HEADER, ROW], "Old": [HEADER, [*ROW[:3], 2]]}, hidden=("Old",)
    )
    by_columns = read._read_fastexcel(path, None, None, InputLimits())
    assert by_columns is not None and by_columns.notes == ["sheet 'Old' skipped: it is hidden"]
    assert by_columns.frame["item_id"].tolist() == [ROW[2]]


def test_a_small_text_sheet_reads_through_calamine_and_a_large_one_through_fastexcel(tmp_path, monkeypatch):
    path = write_book(tmp_path / "orders.xlsx", {"Orders": [HEADER, ROW, ROW2]})
    with zipfile.ZipFile(path) as archive:
        size = archive.getinfo("xl/worksheets/sheet1.xml").file_size
    monkeypatch.setattr(read, "FASTEXCEL_MIN_BYTES", size + 1)
    assert read._read_fastexcel(path, None, None, InputLimits()) is None  # not worth importing polars
    monkeypatch.setattr(read, "FASTEXCEL_MIN_BYTES", size)
    by_columns = read._read_fastexcel(path, None, None, InputLimits())
    by_rows = read._read_calamine(path, None, None, InputLimits())
    assert by_columns is not None and by_rows is not None
    pd.testing.assert_frame_equal(by_columns.frame, by_rows.frame)


def test_without_fastexcel_text_sheets_read_through_calamine(tmp_path, monkeypatch):
    path = write_book(tmp_path / "orders.xlsx", {"Orders": [HEADER, ROW, ROW2]})
    monkeypatch.setitem(sys.modules, "fastexcel", None)  # what an install without it looks like
    assert read._read_fastexcel(path, None, None, InputLimits()) is None
    assert read_sheet(path).frame["receiver_mobile"].tolist() == [ROW[5], ROW2[5]]


# ----- files that cannot be read --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old binary Excel file (.xls)"),
        ("empty.xlsx", b"", "the file is empty"),
        ("empty.csv", b"", "the file is empty"),
        ("fake.xlsx", b"%PDF-1.4 this is not a zip archive", "not a valid .xlsx file"),
        ("locked.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "password-protected"),
        ("orders.pdf", b"%PDF-1.4", "cannot read '.pdf' files"),
        ("orders", b"order_ref,item_id,quantity\n", "cannot read 'no extension' files"),
    ],
)
def test_unreadable_files_give_an_input_error_naming_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    error = load_error(path)
    assert message in str(error)
    assert str(error).startswith(f"{name}: ")
    assert error.file == str(path)
    assert (error.sheet, error.row, error.column) == (None, None, None)


def test_a_missing_file_and_a_folder_are_refused(tmp_path):
    missing = load_error(tmp_path / "nope.xlsx")
    assert str(missing) == "nope.xlsx: the file does not exist"
    folder = tmp_path / "inbox.xlsx"
    folder.mkdir()
    assert "folder" in str(load_error(folder))


def test_a_truncated_workbook_is_refused(tmp_path):
    whole = write_book(tmp_path / "whole.xlsx", {"Orders": [HEADER, ROW]})
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 2 // 3])
    error = load_error(cut)
    assert error.file == str(cut) and str(error).startswith("cut.xlsx: ")
    assert "not a valid .xlsx file" in str(error) or "damaged" in str(error)


def test_a_workbook_with_a_damaged_part_is_refused_as_damaged(tmp_path):
    whole = write_book(tmp_path / "whole.xlsx", {"Orders": [HEADER, ROW]})
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(damaged, "w", zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename))
    raw = bytearray(damaged.read_bytes())
    start = raw.index(b"<sheetData>")
    raw[start : start + 11] = b"<XXXXXXXXX>"  # the CRC of that part no longer matches; the zip directory is intact
    damaged.write_bytes(bytes(raw))
    assert zipfile.is_zipfile(damaged)
    error = load_error(damaged)
    assert str(error).startswith("damaged.xlsx: ") and "damaged and cannot be read" in str(error)


def test_a_sheet_whose_xml_is_broken_is_named_in_the_error(tmp_path):
    whole = write_book(tmp_path / "whole.xlsx", {"Orders": [HEADER, ROW], "Broken": [HEADER, ROW]})
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(broken, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet2.xml":
                data = data.replace(b"</sheetData>", b"<row r=")  # cut off mid-tag, CRC and zip intact
            target.writestr(info, data)
    error = load_error(broken)
    assert error.sheet == "Broken"
    assert str(error).startswith("broken.xlsx, sheet 'Broken': ") and "damaged and cannot be read" in str(error)


def test_a_zip_that_is_not_a_workbook_is_refused_as_damaged(tmp_path):
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "photos of the warehouse")
    error = load_error(path)
    assert str(error).startswith("archive.xlsx: ") and "damaged and cannot be read" in str(error)
