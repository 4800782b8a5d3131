"""Only the rows the user means are bought, and every bought order keeps a record (issue 23, cases 4, 5, 6).

Each test runs the command line in-process against a sandbox of its own
over HTTP and counts the orders the sandbox made under each external id:
0 duplicates and 0 unintended orders, and every input row in the results
with a status.
"""

from __future__ import annotations

import errno
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from click.testing import Result
from openpyxl.worksheet.filters import FilterColumn, Filters
from sample_rows import ORDER_ROW
from typer.testing import CliRunner

import importer.api
from importer.cli import app

HEADER = ["provider", "order_ref", "item_id", "sku_id", "quantity", *list(ORDER_ROW)[4:], "状态"]
ITEMS = [("600126245031041190", "5016042822039"), ("600129202197070073", "4860968496626")]


def row(ref: str, item: int = 0, quantity: str = "1", state: str = "已付款") -> list[str]:
    """One order line of HEADER's columns: ``ref`` is the order_ref, ``state`` the sheet's own 状态 cell."""
    values = {**ORDER_ROW, "order_ref": ref, "item_id": ITEMS[item][0], "sku_id": ITEMS[item][1]}
    values.update(quantity=quantity, **{"状态": state})
    return [values.get(column, "") for column in HEADER]


def workbook(path: Path, rows: list[list[str]], *, hidden: tuple[int, ...] = (), autofilter: bool = False) -> Path:
    """An .xlsx of HEADER and ``rows``; ``hidden`` Excel rows are hidden (by a 状态 filter with ``autofilter``)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Orders"
    for values in [HEADER, *rows]:
        sheet.append(values)
        for cell in sheet[sheet.max_row]:
            cell.data_type = "s"
    for number in hidden:
        sheet.row_dimensions[number].hidden = True
    if autofilter:
        sheet.auto_filter.ref = f"A1:{openpyxl.utils.get_column_letter(len(HEADER))}{len(rows) + 1}"
        shown = sorted({values[-1] for n, values in enumerate(rows, start=2) if n not in hidden})
        sheet.auto_filter.filterColumn.append(FilterColumn(colId=len(HEADER) - 1, filters=Filters(filter=shown)))
    book.save(path)
    return path


class Importer:
    """``order-importer import`` against one sandbox, with a config and a ledger in the test's folder."""

    def __init__(self, folder: Path, sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.folder = folder
        self.sandbox = sandbox
        self.config = folder / "importer.toml"
        for name, value in sandbox.write_config(self.config).items():
            monkeypatch.setenv(name, value)
        self.ledger = folder / "ledger" / "orders.ledger.sqlite"

    def configure(self, run_section: str) -> None:
        self.config.write_text(self.config.read_text("utf-8") + f"\n[run]\n{run_section}\n", "utf-8")

    def __call__(self, file: Path, *args: str) -> Result:
        command = ["import", str(file), "--config", str(self.config), "--ledger", str(self.ledger), *args]
        result = CliRunner().invoke(app, command)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        return result

    def orders(self) -> dict[str, int]:
        """Orders made per external id; any value above 1 is a duplicate purchase."""
        made = self.sandbox.state.orders_per_external_id()
        assert all(n == 1 for n in made.values()), f"bought twice: {made}"
        return made


@pytest.fixture
def run(tmp_path: Path, fresh_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Importer:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ORDER_IMPORTER_CONFIG", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return Importer(tmp_path, fresh_sandbox, monkeypatch)


def results(path: Path) -> list[dict[str, Any]]:
    """The order rows of a results workbook, as dicts by header (every row: each must have a status)."""
    rows = list(openpyxl.load_workbook(path)["Orders"].iter_rows(values_only=True))
    found = [dict(zip(rows[0], values, strict=True)) for values in rows[1:] if any(values)]
    assert all(r["status"] for r in found), found
    return found


# ----- case 4: only the rows the user sees are bought --------------------------------------------------


def test_a_cancelled_order_hidden_by_the_autofilter_is_not_bought_and_is_shown_in_the_results(run):
    rows = [row(f"PO-{n}") for n in range(1, 6)] + [row("PO-6", state="已取消")]
    sheet = workbook(run.folder / "orders.xlsx", rows, hidden=(7,), autofilter=True)
    result = run(sheet)
    assert result.exit_code == 0, result.output
    assert len(run.orders()) == 5
    assert "1 rows skipped (1 hidden)" in result.output and "Orders row 7: skipped, hidden" in result.output
    written = results(run.folder / "orders.results.xlsx")
    assert [r["status"] for r in written] == ["CREATED"] * 5 + ["SKIPPED"]
    assert "hidden" in written[5]["error"] and not written[5]["provider_order_id"]
    book = openpyxl.load_workbook(run.folder / "orders.results.xlsx")
    assert not book["Orders"].row_dimensions[7].hidden  # the reviewer sees the sixth row
    assert book["Orders"].auto_filter.filterColumn == []
    summary = [list(r) for r in book["Summary"].iter_rows(values_only=True)]
    assert ["skipped, because", "rows"] in [r[:2] for r in summary] and ["hidden", 1] in [r[:2] for r in summary]


def test_include_hidden_buys_a_hidden_row_but_never_one_whose_status_says_cancelled(run):
    rows = [row("PO-1"), row("PO-2"), row("PO-3", state="已取消")]
    sheet = workbook(run.folder / "orders.xlsx", rows, hidden=(3, 4))
    result = run(sheet, "--include-hidden")
    assert result.exit_code == 0, result.output
    assert len(run.orders()) == 2
    written = results(run.folder / "orders.results.xlsx")
    assert [r["status"] for r in written] == ["CREATED", "CREATED", "SKIPPED"]
    assert written[2]["error"] == "skipped, cancelled: the order's 状态 column says '已取消'; not bought"


@pytest.mark.parametrize("reader", ["calamine", "fastexcel", "openpyxl"])
def test_every_reader_knows_the_hidden_rows(tmp_path, monkeypatch, reader):
    import importer.read.sheet

    rows = [row("PO-1"), row("PO-2"), row("PO-3")]
    path = workbook(tmp_path / "orders.xlsx", rows, hidden=(3,))
    if reader == "fastexcel":
        monkeypatch.setattr(importer.read.sheet, "FASTEXCEL_MIN_BYTES", 0)
    if reader == "openpyxl":
        monkeypatch.setattr(importer.read.sheet, "FAST_READERS", ())
    assert importer.read.sheet.read_sheet(path).hidden_rows == {"Orders": frozenset({3})}


def test_an_order_with_a_hidden_line_buys_its_visible_lines_and_says_which_were_left_out(run):
    rows = [row("PO-1"), row("PO-1", item=1), row("PO-2")]
    result = run(workbook(run.folder / "orders.xlsx", rows, hidden=(3,)))
    assert result.exit_code == 0, result.output
    assert len(run.orders()) == 2
    bought = run.sandbox.state.orders("xportcn-open")
    assert sorted(len(order["subOrderVOS"]) for order in bought) == [1, 1]  # PO-1's hidden line was not bought
    written = results(run.folder / "orders.results.xlsx")
    assert [r["status"] for r in written] == ["CREATED", "SKIPPED", "CREATED"]
    assert "lines of this order on hidden rows 3 were skipped" in written[0]["warning"]
    assert not written[2]["warning"]


def test_the_config_key_include_hidden_reads_hidden_rows(run):
    run.configure("include_hidden = true")
    sheet = workbook(run.folder / "orders.xlsx", [row("PO-1"), row("PO-2")], hidden=(3,))
    assert run(sheet).exit_code == 0
    assert len(run.orders()) == 2


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("状态", "已取消"),
        ("订单状态", "交易关闭"),
        ("交易状态", "已关闭"),
        ("Order Status", "Cancelled"),
        ("Financial Status", "refunded"),
        ("Status", "canceled"),
        ("Status", "VOIDED"),
        ("Cancelled at", "2026-11-20 10:00"),
    ],
)
def test_a_row_whose_own_status_says_cancelled_or_closed_is_not_bought(run, header, value):
    rows = [row("PO-1", state="" if header == "Cancelled at" else "已付款"), row("PO-2", state=value)]
    book = openpyxl.load_workbook(workbook(run.folder / "orders.xlsx", rows))
    book["Orders"].cell(row=1, column=len(HEADER)).value = header
    book.save(run.folder / "orders.xlsx")
    result = run(run.folder / "orders.xlsx")
    assert result.exit_code == 0, result.output
    assert len(run.orders()) == 1
    written = results(run.folder / "orders.results.xlsx")
    assert [r["status"] for r in written] == ["CREATED", "SKIPPED"]
    assert written[1]["error"].startswith("skipped, cancelled:") and value in written[1]["error"]


def test_every_line_of_a_cancelled_order_is_skipped_when_only_its_first_row_says_so(run):
    rows = [row("PO-1"), row("PO-2", state="交易关闭"), row("PO-2", item=1, state=""), row("PO-3")]
    result = run(workbook(run.folder / "orders.xlsx", rows))
    assert result.exit_code == 0, result.output
    assert len(run.orders()) == 2
    written = results(run.folder / "orders.results.xlsx")
    assert [r["status"] for r in written] == ["CREATED", "SKIPPED", "SKIPPED", "CREATED"]
    assert written[2]["error"].startswith("skipped, cancelled: row 3 of this order says so")


def totals_workbook(path: Path, label: str | None) -> Path:
    """Two order rows, then a totals row of SUM formulas (with their calculated values, as Excel saves them)."""
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Orders")
    for r, values in enumerate([HEADER, row("PO-1", quantity="2"), row("PO-2", quantity="3")]):
        for c, value in enumerate(values):
            sheet.write_string(r, c, value)
    quantity = HEADER.index("quantity")
    if label is not None:
        sheet.write_string(3, HEADER.index("order_ref"), label)
    sheet.write_formula(3, quantity, "=SUM(E2:E3)", None, 5)
    sheet.write_formula(3, len(HEADER), "=COUNTA(B2:B3)", None, 2)
    book.close()
    return path


@pytest.mark.parametrize("label", ["合计", "总计", "小计", "Total", "Subtotal", "Grand Total:", None])
def test_a_totals_row_under_the_data_is_skipped_with_a_note_and_the_run_exits_0(run, label):
    result = run(totals_workbook(run.folder / "orders.xlsx", label))
    assert result.exit_code == 0, result.output
    assert len(run.orders()) == 2
    written = results(run.folder / "orders.results.xlsx")
    assert [r["status"] for r in written] == ["CREATED", "CREATED", "SKIPPED"]
    assert written[2]["error"].startswith("skipped, totals:")
    assert "1 rows skipped (1 totals)" in result.output


# ----- a results workbook imported again -------------------------------------------------------------


def test_a_results_workbook_imported_again_with_an_empty_ledger_buys_nothing_twice(run):
    sheet = workbook(run.folder / "orders.xlsx", [row("PO-1"), row("PO-1", item=1), row("PO-2"), row("PO-3")])
    assert run(sheet).exit_code == 0
    first = run.orders()
    assert len(first) == 3
    bought = run.folder / "orders.results.xlsx"
    book = openpyxl.load_workbook(bought)
    headers = [cell.value for cell in book["Orders"][1]]
    book["Orders"].cell(row=5, column=headers.index("status") + 1).value = "UNKNOWN"  # PO-3 was never settled
    book["Orders"].append(row("PO-4"))  # and a new order typed under the results
    book.save(run.folder / "again.xlsx")
    run.ledger = run.folder / "another" / "empty.ledger.sqlite"  # a ledger that remembers nothing
    again = run(run.folder / "again.xlsx")
    assert again.exit_code == 1, again.output  # the UNKNOWN row needs a look
    made = run.orders()
    assert len(made) == 4 and set(first) < set(made)  # only PO-4 was bought
    written = results(run.folder / "again.results.xlsx")
    assert [r["status"] for r in written] == ["ALREADY_CREATED"] * 3 + ["UNKNOWN", "CREATED"]
    ids = [r["provider_order_id"] for r in results(bought)]
    assert [r["provider_order_id"] for r in written[:3]] == ids[:3]
    assert all("this results workbook already says" in r["error"] for r in written[:4])


# ----- an order_ref bought before from another file ---------------------------------------------------


def test_an_order_ref_bought_from_another_file_is_not_skipped_in_silence(run):
    first = workbook(run.folder / "monday.xlsx", [row("1"), row("2")])
    second = workbook(run.folder / "tuesday.xlsx", [row("1"), row("2"), row("3")])
    assert run(first).exit_code == 0
    bought = {r["order_ref"]: r["provider_order_id"] for r in results(run.folder / "monday.results.xlsx")}
    result = run(second)
    assert result.exit_code == 1, result.output
    assert "ALREADY_CREATED_ELSEWHERE" in result.output
    assert len(run.orders()) == 3
    written = results(run.folder / "tuesday.results.xlsx")
    assert [r["status"] for r in written] == ["ALREADY_CREATED_ELSEWHERE"] * 2 + ["CREATED"]
    for r in written[:2]:
        assert f"from monday.xlsx as provider order {bought[r['order_ref']]}" in r["error"]
        assert "bought on 20" in r["error"] and 'order_ref_scope = "file"' in r["error"]
    rerun = run(first)  # the same file again: a re-run, counted apart
    assert rerun.exit_code == 0, rerun.output
    assert "ALREADY_CREATED " in rerun.output and "ALREADY_CREATED_ELSEWHERE" not in rerun.output
    assert len(run.orders()) == 3


def test_an_order_ref_from_another_file_with_other_content_is_invalid_and_names_the_file(run):
    assert run(workbook(run.folder / "monday.xlsx", [row("1")])).exit_code == 0
    result = run(workbook(run.folder / "tuesday.xlsx", [row("1", quantity="4")]))
    assert result.exit_code == 1
    [written] = results(run.folder / "tuesday.results.xlsx")
    assert written["status"] == "INVALID" and "from monday.xlsx" in written["error"]
    assert 'order_ref_scope = "file"' in written["error"]
    assert len(run.orders()) == 1


def test_an_order_bought_before_the_ledger_kept_files_is_treated_as_a_rerun_and_says_so(run):
    import sqlite3

    assert run(workbook(run.folder / "monday.xlsx", [row("1")])).exit_code == 0
    with sqlite3.connect(run.ledger) as db:  # as an older ledger holds it: no file for the order
        db.execute("UPDATE orders SET source = ''")
    result = run(workbook(run.folder / "tuesday.xlsx", [row("1")]))
    assert result.exit_code == 0, result.output  # which file bought it is not known: treated as a re-run
    [written] = results(run.folder / "tuesday.results.xlsx")
    assert written["status"] == "ALREADY_CREATED" and written["warning"].startswith("already bought on 20")
    assert "the ledger does not say from which file" in written["warning"]
    assert len(run.orders()) == 1


def test_with_order_refs_scoped_to_their_file_each_file_buys_its_own_and_a_rerun_buys_nothing(run):
    run.configure('order_ref_scope = "file"')
    first = workbook(run.folder / "monday.xlsx", [row("1"), row("2")])
    second = workbook(run.folder / "tuesday.xlsx", [row("1"), row("2", item=1)])
    assert run(first).exit_code == 0
    assert run(second).exit_code == 0
    assert len(run.orders()) == 4
    for sheet in (first, second):
        again = run(sheet)
        assert again.exit_code == 0, again.output
        assert {r["status"] for r in results(sheet.with_name(f"{sheet.stem}.results.xlsx"))} == {"ALREADY_CREATED"}
    assert len(run.orders()) == 4


# ----- case 5: a failure after orders were bought ------------------------------------------------------


def fallback_files(run: Importer) -> list[Path]:
    return sorted((run.ledger.parent / "order-importer-results").glob("*.results.xlsx"))


def test_a_results_path_blocked_by_a_folder_sends_the_results_to_the_fallback_and_exits_4(run):
    sheet = workbook(run.folder / "orders.xlsx", [row("PO-1"), row("PO-2")])
    (run.folder / "orders.results.xlsx").mkdir()
    result = run(sheet, "--summary-json", str(run.folder / "summary.json"))
    assert result.exit_code == 4, result.output
    assert len(run.orders()) == 2
    [fallback] = fallback_files(run)
    assert f"NOT where asked; results written instead to {fallback}" in result.output.replace("\n", "")
    summary = json.loads((run.folder / "summary.json").read_text("utf-8"))
    assert summary["exit_code"] == 4 and summary["results_elsewhere"] and summary["output"] == str(fallback)
    assert "2 rows, 2 orders" in result.output  # the summary is printed
    assert [r["status"] for r in results(fallback)] == ["CREATED", "CREATED"]
    again = run(sheet, "--output", str(run.folder / "elsewhere.xlsx"))
    assert again.exit_code == 0 and len(run.orders()) == 2


@pytest.mark.parametrize("failure", [errno.EACCES, errno.ENOSPC, errno.EROFS])
def test_a_read_only_or_full_results_folder_sends_the_results_to_the_fallback(run, monkeypatch, failure):
    """The folder refusing the write is played by ``os.replace``: this suite may run as root, whom chmod cannot stop."""
    sheet = workbook(run.folder / "orders.xlsx", [row("PO-1")])
    real_replace = os.replace

    def refuse_in_the_results_folder(source: Any, target: Any) -> None:
        if Path(target).parent == run.folder:
            raise OSError(failure, os.strerror(failure), str(target))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", refuse_in_the_results_folder)
    result = run(sheet)
    assert result.exit_code == 4, result.output
    assert len(run.orders()) == 1
    [fallback] = fallback_files(run)
    assert os.strerror(failure) in result.output
    assert [r["status"] for r in results(fallback)] == ["CREATED"]


def with_raw_control_characters(path: Path) -> Path:
    """The workbook with raw control characters in a cell's XML, as some exporting tools write them."""
    source = path.read_bytes()
    with zipfile.ZipFile(path.with_suffix(".tmp"), "w", zipfile.ZIP_DEFLATED) as out, zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            out.writestr(info, archive.read(info).replace("余杭区".encode(), "余杭\x01区\x07".encode()))
    path.with_suffix(".tmp").replace(path)
    assert path.read_bytes() != source
    return path


def test_an_input_the_results_writer_cannot_reload_still_gets_its_results_from_the_rows_as_read(run):
    sheet = with_raw_control_characters(workbook(run.folder / "orders.xlsx", [row("PO-1"), row("PO-2")]))
    result = run(sheet)
    assert result.exit_code == 0, result.output
    assert len(run.orders()) == 2
    assert "written as a new workbook from the rows as read" in result.output.replace("\n", "")
    written = results(run.folder / "orders.results.xlsx")
    assert [r["status"] for r in written] == ["CREATED", "CREATED"]


def test_the_notification_is_sent_when_the_results_went_to_the_fallback(run, tmp_path):
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sheet = workbook(run.folder / "orders.xlsx", [row("PO-1")])
        (run.folder / "orders.results.xlsx").mkdir()
        result = run(sheet, "--notify", f"http://127.0.0.1:{server.server_address[1]}/hook")
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 4
    [summary] = received
    assert summary["exit_code"] == 4 and summary["output"] == str(fallback_files(run)[0])


def test_an_inbox_whose_done_folder_is_blocked_imports_every_file_once_and_says_where_the_results_went(run):
    inbox = run.folder / "inbox"
    inbox.mkdir()
    workbook(inbox / "a.xlsx", [row("A-1"), row("A-2")])
    workbook(inbox / "b.xlsx", [row("B-1")])
    (inbox / "done").write_text("a file where the done folder should be", "utf-8")
    result = run(inbox)
    assert result.exit_code == 4, result.output
    assert len(run.orders()) == 3
    assert "a.xlsx: " in result.output and "b.xlsx: " in result.output
    assert result.output.count("kept in the inbox for the next run (exit 4") == 2
    assert result.output.count("; results -> ") == 2
    assert "it stays in the inbox" in result.output
    assert len(fallback_files(run)) == 2
    again = run(inbox)  # the files are still there: a re-run buys nothing twice
    assert len(run.orders()) == 3 and again.exit_code == 4


# ----- case 6: the input changes while the run goes on -----------------------------------------------


def test_a_row_inserted_during_the_run_shifts_no_ids_onto_other_rows(run, monkeypatch):
    rows = [row(f"PO-{n}", item=n % 2, quantity=str(n)) for n in range(1, 9)]
    sheet = workbook(run.folder / "orders.xlsx", rows)
    real_create = importer.api.create_orders

    def insert_a_row_then_create(*args: Any, **kwargs: Any) -> Any:
        book = openpyxl.load_workbook(sheet)
        book["Orders"].insert_rows(3)
        for c, value in enumerate(row("NEVER-IMPORTED"), start=1):
            book["Orders"].cell(row=3, column=c).value = value
        book.save(sheet)
        return real_create(*args, **kwargs)

    monkeypatch.setattr(importer.api, "create_orders", insert_a_row_then_create)
    result = run(sheet)
    assert result.exit_code == 0, result.output
    assert "orders.xlsx changed" in result.output.replace("\n", " ")
    made = run.orders()
    assert len(made) == 8
    written = results(run.folder / "orders.results.xlsx")
    assert [r["order_ref"] for r in written] == [f"PO-{n}" for n in range(1, 9)]  # the rows as read, no other
    assert [r["quantity"] for r in written] == [str(n) for n in range(1, 9)]
    assert {r["status"] for r in written} == {"CREATED"}
    by_ref = {o["sellerOrderNumber"]: o["orderNo"] for o in run.sandbox.state.orders("xportcn-open")}
    ledger_ids = {r["order_ref"]: r["provider_order_id"] for r in written}
    assert sorted(ledger_ids.values()) == sorted(str(v) for v in by_ref.values())
    assert len(set(ledger_ids.values())) == 8


def test_an_input_deleted_during_the_run_still_gets_its_results_from_the_rows_as_read(run, monkeypatch):
    sheet = workbook(run.folder / "orders.xlsx", [row("PO-1"), row("PO-2")])
    real_create = importer.api.create_orders

    def delete_the_input_then_create(*args: Any, **kwargs: Any) -> Any:
        sheet.unlink()
        return real_create(*args, **kwargs)

    monkeypatch.setattr(importer.api, "create_orders", delete_the_input_then_create)
    result = run(sheet)
    assert result.exit_code == 0, result.output
    assert "changed (or could not be checked)" in result.output.replace("\n", " ")
    assert [r["status"] for r in results(run.folder / "orders.results.xlsx")] == ["CREATED", "CREATED"]
    assert len(run.orders()) == 2


def test_a_ledger_that_cannot_keep_the_runs_rows_is_said_and_the_results_are_still_written(run, monkeypatch):
    """A full disk under the ledger is played by its ``finish_run`` failing (the disk cannot be filled here)."""
    import sqlite3

    from importer.submit.ledger import Ledger

    def disk_full(*args: Any) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(Ledger, "finish_run", disk_full)
    result = run(workbook(run.folder / "orders.xlsx", [row("PO-1")]))
    assert result.exit_code == 0, result.output
    assert "could not be kept in the ledger" in result.output and "disk is full" in result.output
    assert [r["status"] for r in results(run.folder / "orders.results.xlsx")] == ["CREATED"]
    assert len(run.orders()) == 1
