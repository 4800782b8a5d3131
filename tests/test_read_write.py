"""Reading sheets as their authors typed them, and writing results that are safe and complete.

Files are written by the tests (openpyxl, raw bytes) so each case is exactly
the shape a user's spreadsheet program produces.
"""

import os
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.styles import Font
from typer.testing import CliRunner

import importer
from importer.cli import app
from importer.errors import InputError
from importer.models import Status
from importer.read import sheet as read

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
HEADER = ["provider", "order_ref", "item_id", "sku_id", "quantity", "receiver_name", "receiver_mobile", "province",
          "city", "address", "zip"]  # fmt: skip
ROW = ["xportcn-open", "PO-1", "600126245031041190", "5016042822039", "2", "张三", "013800138000", "浙江省", "杭州市",
       "文一西路969号", "011000"]  # fmt: skip


def workbook(path, rows, *, title_rows=0, sheet_name="Orders"):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = sheet_name
    for n in range(title_rows):
        sheet.append([f"Purchase orders, page {n + 1}"])
    for row in rows:
        sheet.append(row)
    for line in sheet.iter_rows():
        for cell in line:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text as typed, even when it starts with '=' (as Excel's '= prefix stores it)
    book.save(path)
    return path


# ----- reading CSV -------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_in_every_common_encoding_and_delimiter(tmp_path, encoding, delimiter):
    path = tmp_path / "orders.csv"
    path.write_bytes("\n".join(delimiter.join(r) for r in (HEADER, ROW)).encode(encoding))
    frame = importer.load(path).frame
    assert frame.loc[0, "receiver_name"] == "张三"
    assert frame.loc[0, "item_id"] == "600126245031041190"
    assert frame.loc[0, "receiver_mobile"] == "013800138000"
    assert frame.loc[0, "zip"] == "011000"
    assert int(frame.loc[0, "_row"]) == 2


def test_undecodable_csv_names_the_file(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_bytes(b"provider,order_ref\n\x80\xff\x80,x\n")
    with pytest.raises(InputError) as caught:
        importer.load(path)
    assert "broken.csv" in str(caught.value)


# ----- reading workbooks -----------------------------------------------------------------------


def test_numbers_excel_stored_are_given_back_exactly_or_reported(tmp_path):
    path = tmp_path / "numbers.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append([*ROW[:2], 600126245031041190, 5016042822039, 2, *ROW[5:10], 11000])
    sheet.append([*ROW[:1], "PO-2", 652711530188, "", 3.0, *ROW[5:10], 11000])
    sheet["K2"].number_format = "000000"
    book.save(path)
    loaded = importer.load(path)
    frame = loaded.frame
    assert frame.loc[1, "item_id"] == "652711530188"  # a float that is whole comes back as its digits
    assert frame.loc[1, "quantity"] == "3"
    assert frame.loc[0, "zip"] == "011000"  # the zero format puts the leading zero back
    issues = [issue for issue in loaded.issues if issue.column == "item_id"]
    assert issues and issues[0].row == 2 and "format the column as Text" in issues[0].message
    report = importer.validate(loaded)
    assert 0 in report.invalid_row_ids and 1 not in report.invalid_row_ids


def test_header_below_title_rows_and_excel_row_numbers(tmp_path):
    path = workbook(tmp_path / "titled.xlsx", [HEADER, ROW, [], ROW], title_rows=2)
    frame = importer.load(path).frame
    assert [int(r) for r in frame["_row"]] == [4, 6]  # what Excel shows; the blank row is skipped
    assert set(frame["_sheet"]) == {"Orders"}


@pytest.mark.parametrize(
    ("extra", "readers"),
    [("cost centre", read.FAST_READERS), ("cost centre", (read._read_calamine,)), (4711, read.FAST_READERS)],
    ids=["text cells", "text cells, calamine", "a number cell"],
)
def test_an_empty_first_row_and_column_keep_excel_row_numbers_to_the_results(
    tmp_path, sandbox, monkeypatch, extra, readers
):
    """The table starts at B2: messages, statuses and the red cell must name the rows Excel shows."""
    monkeypatch.setattr(read, "FAST_READERS", readers)
    monkeypatch.setattr(read, "FASTEXCEL_MIN_BYTES", 0)  # a small sheet, read as a large one would be
    bad = [*ROW[:1], "PO-2", *ROW[2:4], "2.5", *ROW[5:]]
    rows = [[], [None, *HEADER, "cost_centre"], [None, *ROW, extra], [None, *bad, extra]]
    path = workbook(tmp_path / "offset.xlsx", rows)
    sheet = importer.load(path)
    assert sheet.header_rows == {"Orders": 2}
    assert [int(r) for r in sheet.frame["_row"]] == [3, 4]
    result = importer.run(path, settings=sandbox.settings(), stage="validate")
    (error,) = result.report.errors.to_dict("records")
    assert (error["row"], error["column"]) == (4, "quantity")
    orders = openpyxl.load_workbook(result.output)["Orders"]
    header = [c.value for c in orders[2]]
    assert orders.cell(row=4, column=header.index("quantity") + 1).comment is not None
    statuses = [orders.cell(row=n, column=header.index("status") + 1).value for n in (3, 4)]
    assert statuses == [str(Status.VALID), str(Status.INVALID)]


def test_hidden_and_empty_sheets_are_skipped_and_said_so(tmp_path):
    path = tmp_path / "many.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "March"
    for row in (HEADER, ROW):
        book["March"].append(row)
    april = book.create_sheet("April")
    for row in (HEADER, [*ROW[:1], "PO-9", *ROW[2:]]):
        april.append(row)
    hidden = book.create_sheet("Old")
    for row in (HEADER, ROW):
        hidden.append(row)
    hidden.sheet_state = "hidden"
    book.create_sheet("Notes")
    book.save(path)
    loaded = importer.load(path)
    assert list(loaded.frame["_sheet"]) == ["March", "April"]
    notes = " ".join(loaded.notes)
    assert "'Old' skipped: it is hidden" in notes and "'Notes' skipped" in notes


def test_unknown_columns_pass_through_to_the_results(tmp_path, sandbox):
    path = workbook(tmp_path / "extra.xlsx", [[*HEADER, "Buyer note", "成本中心"], [*ROW, "keep me", "A-01"]])
    result = importer.run(path, settings=sandbox.settings(), stage="validate")
    rows = list(openpyxl.load_workbook(result.output)["Orders"].iter_rows(values_only=True))
    assert rows[0][11:13] == ("Buyer note", "成本中心") and rows[1][11:13] == ("keep me", "A-01")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("old.xls", b"\xd0\xcf\x11\xe0 binary", "save it as .xlsx"),
        ("empty.xlsx", b"", "the file is empty"),
        ("fake.xlsx", b"this is not a zip file at all", "fake.xlsx"),
        ("orders.pdf", b"%PDF-1.4", "cannot read '.pdf' files"),
    ],
)
def test_unreadable_files_give_an_error_naming_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        importer.load(path)
    assert message in str(caught.value)
    assert name in str(caught.value)


def test_truncated_workbook_is_refused_not_half_read(tmp_path):
    whole = workbook(tmp_path / "whole.xlsx", [HEADER, ROW])
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(InputError, match=r"cut\.xlsx"):
        importer.load(cut)


# ----- writing results -------------------------------------------------------------------------


HOSTILE = ['=HYPERLINK("http://x","y")', "+8613800138000", "-2+3", "@SUM(A1)"]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_text_that_looks_like_a_formula_is_written_as_text(tmp_path, sandbox, suffix):
    rows = [[*HEADER, "note"]] + [[*ROW[:1], f"PO-{n}", *ROW[2:], text] for n, text in enumerate(HOSTILE)]
    if suffix == ".xlsx":
        path = workbook(tmp_path / "orders.xlsx", rows)
    else:
        path = tmp_path / "orders.csv"
        pd.DataFrame(rows[1:], columns=rows[0]).to_csv(path, index=False)
    result = importer.run(path, settings=sandbox.settings(), stage="validate")
    sheet = openpyxl.load_workbook(result.output)[result.sheet.frame["_sheet"].iloc[0]]
    header = [c.value for c in sheet[1]]
    notes = [sheet.cell(row=r, column=header.index("note") + 1) for r in range(2, 2 + len(HOSTILE))]
    assert [c.value for c in notes] == HOSTILE
    assert all(c.data_type == "s" for c in notes)
    with zipfile.ZipFile(result.output) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/sheet"):
                assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name), name


def test_the_users_formatting_is_kept_and_results_are_appended(tmp_path, sandbox):
    path = tmp_path / "styled.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Orders"
    sheet.append(HEADER)
    sheet.append(ROW)
    sheet["A1"].font = Font(bold=True, color="FF0000")
    sheet.column_dimensions["C"].width = 33
    book.save(path)
    result = importer.run(path, settings=sandbox.settings())
    out = openpyxl.load_workbook(result.output)
    orders = out["Orders"]
    assert orders["A1"].font.bold and orders.column_dimensions["C"].width == 33
    header = [c.value for c in orders[1]]
    assert header[: len(HEADER)] == HEADER and header[len(HEADER)] == "status"
    assert orders.cell(row=2, column=len(HEADER) + 1).value == Status.CREATED
    assert orders.cell(row=2, column=3).value == "600126245031041190"
    again = importer.run(result.output, settings=sandbox.settings(), output=tmp_path / "again.xlsx")
    names = openpyxl.load_workbook(again.output).sheetnames
    assert names.count("Summary") == 1 and names.count("Errors") == 1  # re-importing the results replaces them


def test_the_failing_cell_is_marked_red_with_the_message(tmp_path, sandbox):
    error_sheet = tmp_path / "errors.xlsx"
    shutil.copy(SAMPLES / "orders-with-errors.xlsx", error_sheet)
    result = importer.run(error_sheet, settings=sandbox.settings(), stage="validate")
    orders = openpyxl.load_workbook(result.output)["Orders"]
    header = [c.value for c in orders[1]]
    cell = orders.cell(row=3, column=header.index("quantity") + 1)  # '2.5'
    assert cell.value == "2.5"
    assert cell.fill.fgColor.rgb.endswith("FFC7CE") or cell.fill.fgColor.rgb.upper().endswith("C7CE")
    assert "whole number above 0" in cell.comment.text
    errors = list(openpyxl.load_workbook(result.output)["Errors"].iter_rows(values_only=True))
    assert any(row[2] == 3 and row[3] == "quantity" for row in errors[1:]) or any(
        "quantity" in map(str, r) for r in errors
    )


def test_a_failed_write_leaves_the_previous_results_untouched(tmp_path, sandbox, monkeypatch):
    path = workbook(tmp_path / "orders.xlsx", [HEADER, ROW])
    first = importer.run(path, settings=sandbox.settings(), stage="validate")
    before = first.output.read_bytes()

    def broken_replace(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    failed = importer.run(path, settings=sandbox.settings(), stage="validate")  # no traceback: the run says so
    assert failed.exit_code == 4 and failed.output is None
    assert any("could not be written anywhere" in note and "disk full" in note for note in failed.notes)
    assert first.output.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


# ----- the command line, in process --------------------------------------------------------------


def test_cli_stages_and_exit_codes(tmp_path, data_dir):
    runner = CliRunner()
    clean = shutil.copy(SAMPLES / "orders.xlsx", tmp_path / "orders.xlsx")
    errors = shutil.copy(SAMPLES / "orders-with-errors.xlsx", tmp_path / "errors.xlsx")
    done = runner.invoke(app, ["import", str(clean), "--sandbox"])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "orders.results.xlsx").exists()
    assert runner.invoke(app, ["validate", str(errors)]).exit_code == 1
    previewed = runner.invoke(app, ["preview", str(errors), "--sandbox", "-o", str(tmp_path / "p.xlsx")])
    assert previewed.exit_code == 1 and (tmp_path / "p.xlsx").exists()
    missing = runner.invoke(app, ["validate", str(tmp_path / "nope.xlsx")])
    assert missing.exit_code == 2 and "nope.xlsx" in missing.output
    no_account = runner.invoke(app, ["import", str(clean), "--config", str(tmp_path / "none.toml")])
    assert no_account.exit_code == 2
    ledger = data_dir / "ledger.sqlite"
    status = runner.invoke(app, ["status", "--ledger", str(ledger)])
    assert status.exit_code == 0 and "CREATED" in status.output
    exported = runner.invoke(app, ["export", "--ledger", str(ledger), "-o", str(tmp_path / "export.xlsx")])
    assert exported.exit_code == 0 and (tmp_path / "export.xlsx").exists()
    assert runner.invoke(app, ["status", "--ledger", str(tmp_path / "absent.sqlite")]).exit_code == 2


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_duplicate_headers_keep_both_columns(tmp_path, suffix):
    header = [*HEADER, "provider", "备注", "备注"]
    row = [*ROW, "dajisaas", "first", "second"]
    if suffix == ".xlsx":
        path = workbook(tmp_path / "dup.xlsx", [header, row])
    else:
        path = tmp_path / "dup.csv"
        path.write_text(",".join(header) + "\n" + ",".join(row) + "\n", encoding="utf-8")
    frame = importer.load(path).frame
    assert frame.loc[0, "provider"] == "xportcn-open"  # the first one counts
    assert frame.loc[0, "provider (2)"] == "dajisaas"
    remarks = [c for c in frame.columns if c.startswith(("备注", "order_remark", "line_remark"))]
    assert sorted(frame.loc[0, remarks]) == ["first", "second"]


def test_summary_counts_rows_and_amounts_per_provider(tmp_path, sandbox):
    sheet = tmp_path / "orders.xlsx"
    shutil.copy(SAMPLES / "orders.xlsx", sheet)
    result = importer.run(sheet, settings=sandbox.settings())
    rows = list(openpyxl.load_workbook(result.output)["Summary"].iter_rows(values_only=True))
    start = [row[0] for row in rows].index("provider")
    block = {row[0]: (row[1], row[3], row[5], round(row[6], 2)) for row in rows[start + 1 :] if row[0]}
    frame = result.sheet.frame
    for provider in set(frame["provider"]):
        mine = result.outcomes[frame["provider"] == provider]
        expected = round(float(sum(mine["estimated_amount"])), 2)
        assert block[provider] == (len(mine), len(mine), "CNY", expected)  # rows, done, currency, amount
