"""Write the results workbook: the user's sheet plus status columns, a Summary and an Errors sheet.

Two writers produce the same columns:

* for an .xlsx/.xlsm input of ordinary size, the user's own workbook is
  reopened with openpyxl so their formatting, other sheets and formulas are
  kept, and the result columns are appended to each order sheet;
* for a CSV input, a DataFrame built in code, or a sheet above
  :data:`FAST_WRITER_THRESHOLD` rows, a new workbook is streamed with
  xlsxwriter (``constant_memory``), which is an order of magnitude faster;
  the user's formatting is not carried over there. xlsxwriter makes the
  workbook, formats, comments, filter and panes; the rows themselves are
  built as sheet XML a column at a time, because one xlsxwriter call per
  cell is most of the time of a large sheet.

Nothing from outside data ever becomes a formula: every text value is written
as a string cell explicitly. The file is written to a temporary name in the
same folder and renamed into place, so a crash never leaves half a workbook.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import threading
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from ..columns import paused_gc
from ..errors import InputError
from ..killpoints import kill_point
from ..models import ERROR_COLUMN_COL, RESULT_COLUMNS, ROW_COL, SHEET_COL, SUCCESS_STATUSES, OrderSheet, Status
from ..money import fen_or_none, fen_to_yuan
from ..outcomes import BOUGHT_STATUSES, OUTCOME_COLUMNS, SEVERITY, order_statuses, totals_fen
from ..read.headers import EARLIER_PREFIX
from ..read.sheet import source_stamp
from ..read.skips import skip_kind

FAST_WRITER_THRESHOLD = 5_000
MONEY_COLUMNS = frozenset({"estimated_unit_price", "estimated_amount", "freight", "order_total"})
SUMMARY_MARK = "order-importer results summary"
ERRORS_MARK = "order-importer results errors"
FAILURE_STATUSES = frozenset(
    {
        Status.INVALID,
        Status.HELD,
        Status.PREVIEW_FAILED,
        Status.PRICE_CHANGED,
        Status.CREATE_FAILED,
        Status.UNKNOWN,
        Status.NOT_ATTEMPTED,
        Status.ALREADY_CREATED_ELSEWHERE,
    }
)
_SEVERITY = [Status(status) for status in SEVERITY]  # worst first: an order's status is its worst row's
_RED, _GREEN, _HEADER = "FFC7CE", "C6EFCE", "DDEBF7"
OUTCOME_KINDS: dict[str, tuple[str, frozenset[Status]]] = {
    "done": ("C6EFCE", frozenset({Status.VALID, Status.PREVIEWED, Status.CREATED, Status.ALREADY_CREATED})),
    "held": ("FFEB9C", frozenset({Status.HELD, Status.NOT_ATTEMPTED, Status.ALREADY_CREATED_ELSEWHERE})),
    "skipped": ("D9D9D9", frozenset({Status.SKIPPED})),
    "refused by the sheet": ("FFC7CE", frozenset({Status.INVALID})),
    "refused by the provider": (
        "F4B183",
        frozenset({Status.PREVIEW_FAILED, Status.PRICE_CHANGED, Status.CREATE_FAILED}),
    ),
    "unknown": ("CDB4E6", frozenset({Status.UNKNOWN})),
}
"""One fill per kind of outcome for the status cell: green, yellow, grey, pink, orange, lilac."""
_KIND_OF = {str(status): kind for kind, (_, statuses) in OUTCOME_KINDS.items() for status in statuses}
_WRAPPED = frozenset({"error", "warning"})
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_WIDTHS = {"status": 17, "error": 60, "warning": 40, "filled_in": 40, "provider_order_id": 22, "provider_line_id": 22}


def default_output_path(source: Path) -> Path:
    """``orders.xlsx`` -> ``orders.results.xlsx`` in the same folder."""
    return source.with_name(f"{source.stem}.results.xlsx")


@paused_gc
def write_results(
    sheet: OrderSheet,
    outcomes: pd.DataFrame,
    errors: pd.DataFrame,
    path: str | Path | None = None,
    *,
    title: str = "",
    notes: list[str] | None = None,
) -> Path:
    """Write the results workbook and return its path.

    Every input row appears exactly once; a row with no outcome is reported as
    NOT_ATTEMPTED rather than dropped. Rows hidden in the input are shown.
    What the user should know about how it was written (a changed input, a
    workbook that would not load again) is appended to ``notes``.
    """
    target = _target(sheet, path)
    complete = complete_outcomes(sheet, outcomes)
    summary = summary_rows(sheet, complete, title)
    problems = error_rows(sheet, complete, errors)
    said = notes if notes is not None else []
    with _atomic(target) as temporary:
        if _keeps_user_workbook(sheet, said):
            try:
                _write_into_user_workbook(sheet, complete, summary, problems, temporary)
            except Exception as error:  # the user's workbook will not load or save again: the rows as read will
                said.append(
                    f"the results could not be written into a copy of {sheet.source} ({type(error).__name__}); "
                    "they were written as a new workbook from the rows as read, without its formatting"
                )
                _write_new_workbook(sheet, complete, summary, problems, temporary)
        else:
            _write_new_workbook(sheet, complete, summary, problems, temporary)
    return target


def _keeps_user_workbook(sheet: OrderSheet, notes: list[str]) -> bool:
    """Whether the results go into a copy of the user's workbook (keeping its formatting and other sheets).

    Only a workbook of ordinary size that is still the file that was read:
    a copy of a file changed during the run would put the results beside
    rows that are not the ones imported. Otherwise the results are a new
    workbook built from the rows as read at the start.
    """
    source = sheet.source
    if source is None or not _is_workbook(source) or len(sheet.frame) > FAST_WRITER_THRESHOLD:
        return False
    if sheet.source_stamp is None or _stamp_now(source) == sheet.source_stamp:
        return True  # no stamp: a sheet built in code around a file, which it vouches for
    notes.append(
        f"{source.name} changed (or could not be checked) since it was read; the results are a new workbook "
        "built from the rows as they were read at the start, without the file's formatting"
    )
    return False


def _stamp_now(path: Path) -> tuple[int, int, str] | None:
    try:
        return source_stamp(path)
    except OSError:
        return None


def _earlier(column: object) -> bool:
    """A result column of an earlier run, read for the skip rules; the new result columns replace it."""
    return str(column).startswith(EARLIER_PREFIX)


def _is_workbook(path: Path) -> bool:
    return path.suffix.lower() in (".xlsx", ".xlsm")


def _target(sheet: OrderSheet, path: str | Path | None) -> Path:
    if path is None:
        if sheet.source is None:
            raise ValueError("this sheet was built in code: give the path to write the results to")
        path = default_output_path(sheet.source)
    target = Path(path)
    if sheet.source is not None and target.resolve() == Path(sheet.source).resolve():
        raise InputError("the results would overwrite the input file; choose another output path", file=target)
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


@contextlib.contextmanager
def _atomic(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success fsync it and rename it into place."""
    temporary = _new_file(target.parent, f".{target.stem}.", ".xlsx.tmp")
    try:
        yield temporary
        with temporary.open("rb") as written:
            os.fsync(written.fileno())
        kill_point("while-writing")
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _new_file(folder: Path, prefix: str, suffix: str) -> Path:
    """Create an empty file of a fresh name whose mode follows the umask, as any file the user saves would.

    ``tempfile.mkstemp`` makes files 0600 whatever the umask, and the rename
    keeps that mode: colleagues could not open results from a shared folder.
    """
    for _ in range(100):
        candidate = folder / f"{prefix}{secrets.token_hex(8)}{suffix}"
        try:
            os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"no free temporary name in {folder}")


# ----- content, independent of the writer ------------------------------------------------


def complete_outcomes(sheet: OrderSheet, outcomes: pd.DataFrame) -> pd.DataFrame:
    """One outcome per input row, in input order; rows nobody decided are NOT_ATTEMPTED."""
    present = outcomes.astype(object).reindex(columns=list(OUTCOME_COLUMNS))
    frame = present.reindex(sheet.frame.index)
    missing = frame["status"].isna()
    frame = frame.astype(object).where(frame.notna(), "")
    frame.loc[missing, "status"] = str(Status.NOT_ATTEMPTED)
    frame.loc[missing, "error"] = "not processed"
    return frame


def summary_rows(sheet: OrderSheet, outcomes: pd.DataFrame, title: str = "") -> list[list[Any]]:
    """The Summary sheet as rows: rows per status, orders per status, amounts per currency, one line per provider.

    Orders are counted as the console counts them (:func:`importer.outcomes.order_statuses`):
    every order of the sheet once, under the worst status of its rows, so
    an order with one INVALID row is an INVALID order and its other rows are HELD rows.
    """
    statuses = outcomes["status"].astype(str)
    orders = order_statuses(sheet.frame, outcomes, SEVERITY)
    rows: list[list[Any]] = [
        [SUMMARY_MARK],
        ["input", str(sheet.source.name) if sheet.source else "(DataFrame)"],
        ["written", datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")],
    ]
    if title:
        rows.append(["run", title])
    if sheet.profile:
        rows.append(["mapping profile", sheet.profile])
    rows += [[], list(STATUS_TABLE_HEADER)]
    row_counts = statuses.value_counts()
    rows += [[str(status), int(row_counts[status])] for status in _SEVERITY if status in row_counts]
    rows.append(["total", len(statuses)])
    if "warning" in outcomes:
        rows.append(["rows with warnings", int((outcomes["warning"].astype(str) != "").sum())])
    skipped = Counter(skip_kind(str(e)) or "other" for e in outcomes.loc[statuses == str(Status.SKIPPED), "error"])
    if skipped:
        rows += [[], ["skipped, because", "rows"], *([kind, count] for kind, count in sorted(skipped.items()))]
    rows += [[], list(ORDER_TABLE_HEADER)]
    order_counts = orders["status"].value_counts()
    rows += [[str(status), int(order_counts[status])] for status in _SEVERITY if status in order_counts]
    rows.append(["total", len(orders)])
    rows += [[], ["currency", "estimated amount", "rows", "bought"]]
    bought = totals_fen(outcomes, BOUGHT_STATUSES)
    for currency, (amount, count) in sorted(_amounts_per_currency(outcomes).items()):
        rows.append([currency, amount, count, fen_to_yuan(bought.get(currency, 0))])
    rows += [[], list(PROVIDER_TABLE_HEADER)]
    rows += _per_provider(sheet, outcomes, orders)
    return rows


PROVIDER_TABLE_HEADER = (
    "provider",
    "rows",
    "orders",
    "done",
    "need attention",
    "currency",
    "estimated amount",
    "bought",
)
STATUS_TABLE_HEADER = ("status", "rows")
ORDER_TABLE_HEADER = ("order status", "orders")


def status_table_rows(summary: list[list[Any]]) -> tuple[int, int]:
    """First and last 1-based row of the Summary's per-status counts (the chart's data), header excluded."""
    first = summary.index(list(STATUS_TABLE_HEADER)) + 2
    last = first
    while summary[last - 1] and summary[last - 1][0] != "total":
        last += 1
    return first, last - 1


def _per_provider(sheet: OrderSheet, outcomes: pd.DataFrame, orders: pd.DataFrame) -> list[list[Any]]:
    """One line per provider (counts), and its amounts per currency (added in fen, shown in yuan).

    A provider with amounts in a second currency gets a further line with
    only the currency and its amounts, so no provider is named twice.
    """
    frame = sheet.frame
    providers = frame["provider"].astype(str) if "provider" in frame else pd.Series("", index=frame.index)
    providers = providers.reindex(outcomes.index).fillna("").replace("", "(none)")
    currencies = outcomes["currency_charged"] if "currency_charged" in outcomes else pd.Series("", index=outcomes.index)
    counted = {str(Status.PREVIEWED), str(Status.CREATED), str(Status.ALREADY_CREATED)}
    counts: dict[str, list[int]] = {}
    money: dict[str, dict[str, list[int]]] = {}
    for provider, status, amount, total, currency in zip(  # lists: iterating a pandas column costs ten times more
        providers.tolist(),
        outcomes["status"].astype(str).tolist(),
        outcomes["estimated_amount"].tolist(),
        outcomes["order_total"].tolist() if "order_total" in outcomes else [None] * len(outcomes),
        currencies.fillna("").astype(str).tolist(),
        strict=True,
    ):
        tally = counts.setdefault(provider, [0, 0, 0])
        tally[0] += 1
        tally[1 if status in SUCCESS_STATUSES else 2] += 1
        if currency:
            sums = money.setdefault(provider, {}).setdefault(currency, [0, 0])
            sums[0] += (fen_or_none(amount) or 0) if status in counted else 0
            sums[1] += (fen_or_none(total) or 0) if status in BOUGHT_STATUSES else 0
    order_counts = orders.assign(provider=orders["provider"].replace("", "(none)"))["provider"].value_counts()
    lines: list[list[Any]] = []
    for provider, (total_rows, done, other) in sorted(counts.items()):
        head: list[Any] = [provider, total_rows, int(order_counts.get(provider, 0)), done, other]
        amounts = sorted(money.get(provider, {}).items()) or [("", [0, 0])]
        for n, (currency, (estimated, bought)) in enumerate(amounts):
            shown = [*(head if n == 0 else [None] * 5), currency or None, fen_to_yuan(estimated), fen_to_yuan(bought)]
            lines.append(shown)
    return lines


def _amounts_per_currency(outcomes: pd.DataFrame) -> dict[str, tuple[Decimal, int]]:
    """Exact sums of the estimated amounts of rows that were priced or bought (added in fen, shown in yuan)."""
    counted = {str(Status.PREVIEWED), str(Status.CREATED), str(Status.ALREADY_CREATED)}
    fen: dict[str, tuple[int, int]] = {}
    for status, amount, currency in zip(
        outcomes["status"].tolist(),
        outcomes["estimated_amount"].tolist(),
        outcomes["currency_charged"].tolist(),
        strict=True,
    ):
        value = fen_or_none(amount) if str(status) in counted else None
        if value is None:
            continue
        key = str(currency) or "?"
        total, count = fen.get(key, (0, 0))
        fen[key] = (total + value, count + 1)
    return {key: (fen_to_yuan(total), count) for key, (total, count) in fen.items()}


def error_rows(sheet: OrderSheet, outcomes: pd.DataFrame, errors: pd.DataFrame) -> list[list[Any]]:
    """The Errors sheet as rows: one per problem, plus one per failed row that has no listed problem."""
    rows: list[tuple[str, int, str, str, str]] = [
        (str(where), int(row), str(column), str(message), str(value))
        for where, row, column, message, value in zip(
            errors["sheet"], errors["row"], errors["column"], errors["message"], errors["value"], strict=True
        )
    ]
    listed = set(errors["row_id"]) if len(errors) else set()
    frame = sheet.frame
    failed = outcomes[outcomes["status"].isin([str(s) for s in FAILURE_STATUSES])]
    places = frame.loc[failed.index, [SHEET_COL, ROW_COL]]
    for row_id, sheet_name, row, column, message in zip(
        failed.index, places[SHEET_COL], places[ROW_COL], failed[ERROR_COLUMN_COL], failed["error"], strict=True
    ):
        if row_id in listed:
            continue
        rows.append((str(sheet_name), int(row), str(column), str(message), ""))
    rows.sort(key=lambda r: (r[0], r[1]))
    return [[ERRORS_MARK], ["sheet", "row", "column", "message", "value"], *[list(r) for r in rows]]


def _is_failure(status: str) -> bool:
    return status in FAILURE_STATUSES


def _is_success(status: str) -> bool:
    return status in SUCCESS_STATUSES


# ----- writer 1: into the user's own workbook (openpyxl) ----------------------------------


def _write_into_user_workbook(
    sheet: OrderSheet, outcomes: pd.DataFrame, summary: list[list[Any]], problems: list[list[Any]], target: Path
) -> None:
    from openpyxl import load_workbook

    assert sheet.source is not None
    with sheet.source.open("rb") as handle:  # closed even when the workbook will not load
        workbook = load_workbook(handle, keep_vba=False)
    styles = _OpenpyxlStyles()
    frame = sheet.frame
    for sheet_name, rows in frame.groupby(SHEET_COL, sort=False).groups.items():
        worksheet = workbook[str(sheet_name)]
        header_row = sheet.header_rows.get(str(sheet_name), 1)
        _show_hidden_rows(worksheet, sheet.hidden_rows.get(str(sheet_name), frozenset()))
        _append_result_columns(worksheet, header_row, sheet, outcomes.loc[rows], styles)
    summary_sheet = _replace_sheet(
        workbook, "Summary", SUMMARY_MARK, summary, styles, widths=[24, 10, 10, 10, 16, 10, 18, 12]
    )
    _add_status_chart_openpyxl(summary_sheet, summary)
    _replace_sheet(workbook, "Errors", ERRORS_MARK, problems, styles, widths=[16, 8, 18, 80, 30])
    workbook.save(target)


def _show_hidden_rows(worksheet: Any, hidden: frozenset[int]) -> None:
    """Show the rows the input hid (their status says what became of them) and clear the filter that hid them."""
    if not hidden:
        return
    for row in hidden:
        worksheet.row_dimensions[row].hidden = False
    worksheet.auto_filter.filterColumn = []
    worksheet.auto_filter.sortState = None


class _OpenpyxlStyles:
    """Style objects created once and shared: per-cell style objects are the known slow path."""

    def __init__(self) -> None:
        from openpyxl.styles import Alignment, Font, PatternFill

        self.red = PatternFill("solid", fgColor=_RED)
        self.green = PatternFill("solid", fgColor=_GREEN)
        self.kinds = {kind: PatternFill("solid", fgColor=colour) for kind, (colour, _) in OUTCOME_KINDS.items()}
        self.header_fill = PatternFill("solid", fgColor=_HEADER)
        self.bold = Font(bold=True)
        self.wrap = Alignment(wrap_text=True, vertical="top")


def _set_text(cell: Any, value: str) -> None:
    """Store text as text: openpyxl would otherwise turn '=...' into a formula."""
    cell.value = xml_safe(excel_text(value)).replace("\r", "_x000D_")  # XML readers turn a raw CR into LF
    cell.data_type = "s"


def xml_safe(text: str) -> str:
    """Text an .xlsx can hold: control characters XML forbids (from a sheet or a provider) become U+FFFD.

    openpyxl refuses them outright, which would lose the whole results file
    over one stray byte; xlsxwriter escapes them itself.
    """
    return _ILLEGAL_XML.sub("\ufffd", text)


def _set_value(cell: Any, column: str, value: Any) -> None:
    if column in MONEY_COLUMNS and isinstance(value, Decimal):
        cell.value = value
        cell.number_format = "0.00"
    elif value not in ("", None):
        _set_text(cell, str(value))


def _result_columns_start(worksheet: Any, header_row: int) -> int:
    """Where the result columns go: over an earlier run's (a results workbook imported again), else after the data."""
    headers = [str(c.value).strip() if c.value is not None else "" for c in worksheet[header_row]]
    span = len(RESULT_COLUMNS)
    headers += ["", ""]  # a results workbook from before order_date_iso or filled_in ends a column or two short
    earlier = {(*RESULT_COLUMNS[: span - short], *[""] * short) for short in range(3)}
    for start in range(len(headers) - span + 1):
        found = tuple(headers[start : start + span])
        if found in earlier:
            for row in worksheet.iter_rows(min_row=header_row + 1, min_col=start + 1, max_col=start + span):
                for cell in row:
                    cell.value = None
            return start + 1
    return int(worksheet.max_column) + 1


def _append_result_columns(
    worksheet: Any, header_row: int, sheet: OrderSheet, outcomes: pd.DataFrame, styles: _OpenpyxlStyles
) -> None:
    from openpyxl.cell.cell import MergedCell
    from openpyxl.comments import Comment
    from openpyxl.utils import get_column_letter

    first = _result_columns_start(worksheet, header_row)
    input_columns = _input_column_positions(worksheet, header_row, sheet)
    for offset, name in enumerate(RESULT_COLUMNS):
        cell = worksheet.cell(row=header_row, column=first + offset)
        _set_text(cell, name)
        cell.font, cell.fill = styles.bold, styles.header_fill
        worksheet.column_dimensions[get_column_letter(first + offset)].width = _WIDTHS.get(name, _header_width(name))
    rows = sheet.frame.loc[outcomes.index, ROW_COL]
    for excel_row, values in zip(rows, outcomes.to_dict("records"), strict=True):
        for offset, name in enumerate(RESULT_COLUMNS):
            _set_value(worksheet.cell(row=int(excel_row), column=first + offset), name, values[name])
        status_cell = worksheet.cell(row=int(excel_row), column=first)
        status = str(values["status"])
        if status in _KIND_OF:
            status_cell.fill = styles.kinds[_KIND_OF[status]]
        for name in _WRAPPED:
            if values.get(name):
                worksheet.cell(row=int(excel_row), column=first + RESULT_COLUMNS.index(name)).alignment = styles.wrap
        if _is_failure(status):
            position = input_columns.get(str(values[ERROR_COLUMN_COL]))
            if position is not None and values["error"]:
                bad = worksheet.cell(row=int(excel_row), column=position)
                bad.fill = styles.red
                if not isinstance(bad, MergedCell):  # a merged cell's comment belongs on its first cell
                    bad.comment = Comment(xml_safe(str(values["error"])[:2000]), "order-importer")
    last_row = max(int(rows.max()), header_row) if len(rows) else header_row
    last_col = get_column_letter(first + len(RESULT_COLUMNS) - 1)
    worksheet.auto_filter.ref = f"A{header_row}:{last_col}{last_row}"
    _fit_header_widths(worksheet, header_row, first)
    pane = worksheet.sheet_view.pane
    if pane is None or not pane.xSplit:  # the user's own frozen columns are kept; frozen rows only are extended
        _open_at_the_status(worksheet, int(pane.ySplit or header_row) if pane is not None else header_row, first)
    _print_landscape(worksheet, header_row)


def _fit_header_widths(worksheet: Any, header_row: int, first_result: int) -> None:
    """Widen the user's columns that have no width of their own so that their header shows whole."""
    from openpyxl.utils import get_column_letter

    for cell in worksheet[header_row]:
        if cell.value is None or cell.column >= first_result:
            continue
        dimension = worksheet.column_dimensions[get_column_letter(cell.column)]
        if not dimension.customWidth:
            dimension.width = _header_width(str(cell.value))


def _header_width(header: str) -> float:
    """A column width (in characters) that shows ``header``: wide characters count double."""
    shown = sum(2 if ord(ch) > 0x2E7F else 1 for ch in header)
    return float(min(max(shown + 3, 9), 40))


def _open_at_the_status(worksheet: Any, header_row: int, first_result: int) -> None:
    """Freeze the header row and the first column, and open the sheet scrolled to the status and error columns.

    The user's own columns stay where they are (their formulas and
    formatting refer to them); the view starts at the result columns, with
    the first column (usually the provider or order reference) kept beside
    them, so the status and the error show without scrolling.
    """
    from openpyxl.utils import get_column_letter

    worksheet.freeze_panes = f"B{header_row + 1}"
    if first_result > 2:
        worksheet.sheet_view.pane.topLeftCell = f"{get_column_letter(first_result)}{header_row + 1}"


def _print_landscape(worksheet: Any, header_row: int = 1) -> None:
    """Print in landscape, every column on the page width, the header row on every page."""
    worksheet.page_setup.orientation = "landscape"
    worksheet.page_setup.paperSize = worksheet.PAPERSIZE_A4
    worksheet.page_setup.fitToWidth = 1
    worksheet.page_setup.fitToHeight = 0
    worksheet.sheet_properties.pageSetUpPr.fitToPage = True
    worksheet.print_title_rows = f"{header_row}:{header_row}"


def _input_column_positions(worksheet: Any, header_row: int, sheet: OrderSheet) -> dict[str, int]:
    """Canonical column name -> column number in the user's sheet, read from its header row."""
    positions: dict[str, int] = {}
    for cell in worksheet[header_row]:
        if cell.value is None:
            continue
        text = str(cell.value)
        canonical = sheet.header_map.get(text, sheet.header_map.get(text.strip(), text.strip()))
        positions.setdefault(canonical, cell.column)
    return positions


def _replace_sheet(
    workbook: Any,
    name: str,
    mark: str,
    rows: list[list[Any]],
    styles: _OpenpyxlStyles,
    widths: Sequence[int],
) -> Any:
    """Write one of our own sheets, replacing the one an earlier run left; never a sheet of the user's."""
    from openpyxl.utils import get_column_letter

    for candidate in (name, f"{name} (results)"):
        if candidate not in workbook.sheetnames:
            break
        if workbook[candidate]["A1"].value == mark:
            del workbook[candidate]
            break
    worksheet = workbook.create_sheet(candidate)
    for row_number, row in enumerate(rows, start=1):
        for column_number, value in enumerate(row, start=1):
            cell = worksheet.cell(row=row_number, column=column_number)
            if isinstance(value, str):
                _set_text(cell, value)
            else:
                cell.value = value
                if isinstance(value, Decimal):
                    cell.number_format = "0.00"
            if row_number == 1 or (
                len(row) > 1 and row[0] in ("status", "order status", "currency", "provider", "sheet")
            ):
                cell.font = styles.bold
    for number, width in enumerate(widths, start=1):
        worksheet.column_dimensions[get_column_letter(number)].width = width
    _print_landscape(worksheet)
    return worksheet


CHART_TITLE = "Rows per status"
CHART_ANCHOR = "G2"


def _add_status_chart_openpyxl(worksheet: Any, summary: list[list[Any]]) -> None:
    """A bar chart of the per-status row counts beside the Summary table, drawn from its own cells."""
    from openpyxl.chart import BarChart, Reference

    first, last = status_table_rows(summary)
    if last < first:
        return
    chart = BarChart()
    chart.type, chart.title, chart.legend = "bar", CHART_TITLE, None
    chart.add_data(Reference(worksheet, min_col=2, min_row=first - 1, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(worksheet, min_col=1, min_row=first, max_row=last))
    worksheet.add_chart(chart, CHART_ANCHOR)


# ----- writer 2: a new workbook, streamed (xlsxwriter) ---------------------------------


_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


def _safe_sheet_name(name: str, taken: set[str]) -> str:
    base = _SHEET_NAME_BAD.sub("_", name).strip("'")[:31] or "Orders"
    candidate, n = base, 1
    while candidate.lower() in taken or candidate in ("Summary", "Errors"):
        n += 1
        candidate = f"{base[:28]} ({n})"
    taken.add(candidate.lower())
    return candidate


def _write_new_workbook(
    sheet: OrderSheet, outcomes: pd.DataFrame, summary: list[list[Any]], problems: list[list[Any]], target: Path
) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(target), {"constant_memory": True, "strings_to_formulas": False})
    try:
        formats = {
            "header": workbook.add_format({"bold": True, "bg_color": "#" + _HEADER}),
            "bold": workbook.add_format({"bold": True}),
            "red": workbook.add_format({"bg_color": "#" + _RED}),
            "green": workbook.add_format({"bg_color": "#" + _GREEN}),
            "wrap": workbook.add_format({"text_wrap": True, "valign": "top"}),
            **{kind: workbook.add_format({"bg_color": "#" + colour}) for kind, (colour, _) in OUTCOME_KINDS.items()},
            "money": workbook.add_format({"num_format": "0.00"}),
        }
        original = {canonical: header for header, canonical in sheet.header_map.items()}
        columns = [c for c in sheet.frame.columns if c not in (SHEET_COL, ROW_COL) and not _earlier(c)]
        headers = [original.get(c, c) for c in columns] + list(RESULT_COLUMNS)
        taken: set[str] = set()
        default_name = sheet.source.stem if sheet.source is not None else "Orders"
        for sheet_name, index in sheet.frame.groupby(SHEET_COL, sort=False).groups.items():
            name = _safe_sheet_name(str(sheet_name) or default_name, taken)
            worksheet = workbook.add_worksheet(name)
            _stream_rows(worksheet, sheet.frame.loc[index, columns], outcomes.loc[index], headers, columns, formats)
        for name, rows in (("Summary", summary), ("Errors", problems)):
            worksheet = workbook.add_worksheet(name)
            _put_rows(worksheet, _table_xml(rows, formats), len(rows) - 1, max(map(len, rows)) - 1)
            worksheet.set_column(0, 0, 24)
            worksheet.set_column(1, 2, 12)
            worksheet.set_column(3, 3, 80 if name == "Errors" else 16)
            worksheet.set_column(4, 6, 16)
            _print_landscape_xlsxwriter(worksheet, 0)
            if name == "Summary":
                _add_status_chart_xlsxwriter(workbook, worksheet, summary)
    except BaseException:
        _discard(workbook)
        raise
    _close_deflating_fast(workbook)


_ZIP_LEVEL = 1
_ZIP_SWAP_LOCK = threading.Lock()


class _FastDeflateZipFile(zipfile.ZipFile):
    """A ZipFile that deflates at zlib level 1 unless told otherwise."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("compresslevel", _ZIP_LEVEL)
        super().__init__(*args, **kwargs)


def _close_deflating_fast(workbook: Any) -> None:
    """Close (pack) a streamed workbook with zlib level 1 instead of the default level 6.

    Deflating was half of xlsxwriter's close at 100,000 rows; level 1 takes
    about a third of the time for a file about a fifth larger. xlsxwriter has
    no option for the level, so the ``ZipFile`` its workbook module packs
    with is swapped for the length of the close, under a lock so that two
    closes cannot cross, and always put back.
    """
    import xlsxwriter.workbook as packing

    with _ZIP_SWAP_LOCK:
        original = packing.ZipFile
        packing.ZipFile = _FastDeflateZipFile
        try:
            workbook.close()
        finally:
            packing.ZipFile = original


def _add_status_chart_xlsxwriter(workbook: Any, worksheet: Any, summary: list[list[Any]]) -> None:
    """The same chart as the user-workbook writer draws, for the streamed workbook."""
    first, last = status_table_rows(summary)
    if last < first:
        return
    chart = workbook.add_chart({"type": "bar"})
    chart.add_series(
        {
            "name": ["Summary", first - 2, 1],
            "categories": ["Summary", first - 1, 0, last - 1, 0],
            "values": ["Summary", first - 1, 1, last - 1, 1],
        }
    )
    chart.set_title({"name": CHART_TITLE})
    chart.set_legend({"none": True})
    worksheet.insert_chart(CHART_ANCHOR, chart)


def _discard(workbook: Any) -> None:
    """Close and delete the temporary row files of a streamed workbook whose writing failed.

    xlsxwriter only cleans them up in ``close()``, which would assemble the
    half-written workbook; the caller removes its own temporary target.
    """
    for worksheet in workbook.worksheets():
        handle = getattr(worksheet, "row_data_fh", None)
        if handle is not None and not handle.closed:
            handle.close()
        name = getattr(worksheet, "row_data_filename", None)
        if name:
            Path(name).unlink(missing_ok=True)


def _stream_rows(
    worksheet: Any,
    inputs: pd.DataFrame,
    outcomes: pd.DataFrame,
    headers: list[str],
    columns: list[str],
    formats: dict[str, Any],
) -> None:
    """Write header, comments and rows, text as text.

    The header and the comments go through xlsxwriter; the rows are written as
    sheet XML in blocks (see :class:`_RowsXml`), which is what makes a sheet of
    100,000 rows take seconds instead of tens of seconds.
    """
    for c, header in enumerate(headers):
        worksheet.write_string(0, c, header, formats["header"])
    statuses = [str(s) for s in outcomes["status"].tolist()]
    failing = _failing_cells(columns, statuses, outcomes[ERROR_COLUMN_COL].tolist())
    errors = outcomes["error"].tolist()
    for position, column in failing.items():
        if errors[position]:
            worksheet.write_comment(position + 1, column, str(errors[position])[:2000])
    xml = _RowsXml(columns, formats, worksheet.str_table)
    blocks = (
        xml.block(first + 1, inputs.iloc[block], outcomes.iloc[block], statuses[block], failing)
        for first in range(0, len(inputs), _BLOCK_ROWS)
        for block in [slice(first, first + _BLOCK_ROWS)]
    )
    last_row = max(len(inputs), 1)
    _put_rows(worksheet, blocks, last_row, len(headers) - 1)
    worksheet.autofilter(0, 0, last_row, len(headers) - 1)
    worksheet.freeze_panes(1, 1, 1, len(columns))  # header row and first column kept; opens at the status
    for c, header in enumerate(headers):
        name = header if c >= len(columns) else ""
        worksheet.set_column(c, c, _WIDTHS.get(name, _header_width(header)))
    _print_landscape_xlsxwriter(worksheet, 0)


def _print_landscape_xlsxwriter(worksheet: Any, header_row: int) -> None:
    """As :func:`_print_landscape`, for the streamed workbook."""
    worksheet.set_landscape()
    worksheet.set_paper(9)  # A4
    worksheet.fit_to_pages(1, 0)
    worksheet.repeat_rows(header_row)


def _put_rows(worksheet: Any, xml: Iterable[str], last_row: int, last_col: int) -> None:
    """Append ready ``<row>`` XML to a constant_memory worksheet, after any row xlsxwriter holds.

    In constant_memory mode xlsxwriter streams each finished row to the
    sheet's temporary file (``fh``); the rows given here go to the same file,
    and the sheet's dimensions are set as its own writes would set them.
    Comments must be written before this: xlsxwriter refuses cells on rows
    already put out.
    """
    worksheet._write_single_row(last_row + 1)  # put out the row xlsxwriter still holds (the header)
    for text in xml:
        worksheet.fh.write(text)
    worksheet.previous_row = 0
    worksheet._check_dimensions(0, 0)
    worksheet._check_dimensions(last_row, last_col)
    worksheet.previous_row = last_row + 1  # nothing left for xlsxwriter to put out at close


def _table_xml(rows: list[list[Any]], formats: dict[str, Any]) -> Iterator[str]:
    """The Summary or Errors rows as sheet XML: text as text (bold on the first row), money as 0.00 numbers."""
    from xlsxwriter.utility import xl_col_to_name

    bold, money = formats["bold"]._get_xf_index(), formats["money"]._get_xf_index()
    letters = [xl_col_to_name(c) for c in range(max(map(len, rows)))]
    for r, row in enumerate(rows, start=1):
        if not row:
            continue
        cells = []
        for letter, value in zip(letters, row, strict=False):
            if value is None:
                continue
            if isinstance(value, str):
                style = f' s="{bold}"' if r == 1 else ""
                cells.append(f'<c r="{letter}{r}"{style} t="inlineStr">{inline_string(value)}</c>')
            elif isinstance(value, Decimal):
                cells.append(f'<c r="{letter}{r}" s="{money}"><v>{_number(value)}</v></c>')
            else:
                cells.append(f'<c r="{letter}{r}"><v>{_number(value)}</v></c>')
        yield f'<row r="{r}">{"".join(cells)}</row>'


def _failing_cells(columns: list[str], statuses: list[str], error_columns: list[Any]) -> dict[int, int]:
    """Row position -> input column position of the cell to mark red, for failed rows that name one."""
    position = {name: i for i, name in enumerate(columns)}
    failing: dict[int, int] = {}
    for row, (status, column) in enumerate(zip(statuses, error_columns, strict=True)):
        if column and _is_failure(status) and str(column) in position:
            failing[row] = position[str(column)]
    return failing


_BLOCK_ROWS = 10_000
_XML_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
_EXCEL_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_MAX_CELL_UTF16 = 32_767
_INLINE_ONLY = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_|^<r>.*</r>$", re.DOTALL)
"""Text kept out of the shared string table: Excel escapes, or the shape of xlsxwriter's rich-text markup."""


def inline_string(text: str) -> str:
    """The ``<is>`` part of an inline text cell, escaped as Excel reads it.

    As xlsxwriter does: ``&<>`` become entities, a control character becomes
    Excel's ``_xHHHH_`` escape (so a CR survives), a literal ``_xHHHH_`` is
    escaped in turn, and leading or trailing spaces are kept. The two
    non-characters XML forbids become U+FFFD; text beyond Excel's cell limit is cut.
    """
    text = excel_text(text)
    if _XML_SPECIAL.search(text):
        text = _EXCEL_ESCAPE.sub(r"_x005F\1", text)
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        text = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
        text = text.replace("\ufffe", "\ufffd").replace("\uffff", "\ufffd")
    if text[:1].isspace() or text[-1:].isspace():
        return f'<is><t xml:space="preserve">{text}</t></is>'
    return f"<is><t>{text}</t></is>"


CUT_NOTE = " […cut here: an Excel cell holds 32,767 characters]"


def excel_text(text: str) -> str:
    """Text an Excel cell can hold: past 32,767 characters (UTF-16 units) it is cut and ends with :data:`CUT_NOTE`."""
    if len(text) <= _MAX_CELL_UTF16 // 2:
        return text
    units = text.encode("utf-16-le", "surrogatepass")
    if len(units) <= 2 * _MAX_CELL_UTF16:
        return text
    keep = 2 * (_MAX_CELL_UTF16 - len(CUT_NOTE))
    return units[:keep].decode("utf-16-le", "ignore") + CUT_NOTE


def _number(value: Decimal | float) -> str:
    number = float(value)
    if number != number or number in (float("inf"), float("-inf")):
        raise TypeError("NAN/INF not supported in an .xlsx cell")
    return f"{number:.16G}"


_ROW_NUMBER = "\x00"
"""Stands for the row number in a cell's prepared XML; XML cannot hold it, so no text brings one along."""


class _RowsXml:
    """Rows of the order sheet as sheet XML, built a column at a time.

    One xlsxwriter call per cell was most of a large write (tens of seconds
    for 100,000 rows of 25 columns). Here each distinct value of a column
    gets its cell XML once, with a placeholder for the row number; a column
    becomes a list of those by one lookup per cell in C, and a row is its
    cells joined with the placeholder replaced. Text used more than once in
    a block goes to the workbook's shared string table, as Excel itself
    stores it, which halves the XML to copy and compress; text used once,
    text that needs Excel's ``_xHHHH_`` escapes, and text xlsxwriter's table
    would take for its own rich-text markup are inline strings. Cells are
    never formulas; money is a number with the 0.00 format; the status is
    green or red; the failing input cell is red.
    """

    def __init__(self, columns: list[str], formats: dict[str, Any], strings: Any) -> None:
        from xlsxwriter.utility import xl_col_to_name

        self.columns = columns
        names = [*columns, *RESULT_COLUMNS]
        self.letters = [xl_col_to_name(c) for c in range(len(names))]
        self.red = f' s="{formats["red"]._get_xf_index()}"'
        self.green = f' s="{formats["green"]._get_xf_index()}"'
        self.wrap = f' s="{formats["wrap"]._get_xf_index()}"'
        self.kinds = {kind: f' s="{formats[kind]._get_xf_index()}"' for kind in OUTCOME_KINDS}
        self.money = f' s="{formats["money"]._get_xf_index()}"'
        self.strings = strings  # xlsxwriter's SharedStringTable of the workbook

    def block(
        self,
        first: int,
        inputs: pd.DataFrame,
        outcomes: pd.DataFrame,
        statuses: list[str],
        failing: dict[int, int],
    ) -> str:
        """``<row>`` elements for the rows starting at 0-based sheet row ``first``."""
        columns = [
            self._cells(self.letters[c], inputs[name].tolist(), keep_empty=True) for c, name in enumerate(self.columns)
        ]
        count = len(inputs)
        for position, c in failing.items():
            n = position + 1 - first
            if 0 <= n < count:
                columns[c][n] = self._cell(self.letters[c], inputs[self.columns[c]].iat[n], self.red, keep_empty=True)
        width = len(self.columns)
        columns.append(self._status_cells(self.letters[width], statuses))
        for offset, name in enumerate(RESULT_COLUMNS[1:], start=1):
            values = outcomes[name].tolist()
            style = self.wrap if name in _WRAPPED else ""
            columns.append(self._cells(self.letters[width + offset], values, money=name in MONEY_COLUMNS, style=style))
        numbers = map(str, range(first + 1, first + 1 + count))
        start = f'<row r="{_ROW_NUMBER}">'
        return "".join(
            (start + "".join(cells) + "</row>").replace(_ROW_NUMBER, number)
            for number, cells in zip(numbers, zip(*columns, strict=True), strict=False)
        )

    def _cells(
        self, letter: str, values: list[Any], *, money: bool = False, keep_empty: bool = False, style: str = ""
    ) -> list[str]:
        """The column's cells, each distinct value's XML made once (values repeat a lot)."""
        made = {
            value: self._cell(letter, value, style, money=money, keep_empty=keep_empty, uses=uses)
            for value, uses in Counter(values).items()
        }
        return list(map(made.__getitem__, values))

    def _cell(
        self, letter: str, value: Any, style: str = "", *, money: bool = False, keep_empty: bool = False, uses: int = 1
    ) -> str:
        """One cell's XML with the row number left as the placeholder.

        An empty result is no cell; an empty input cell stays an empty text
        cell, as the user's sheet had it. Text used once in the block is
        written inline: a table entry would cost more than it saves.
        """
        if (value is None or value == "") and not keep_empty:
            return ""
        if money and isinstance(value, Decimal):
            return f'<c r="{letter}{_ROW_NUMBER}"{self.money}><v>{_number(value)}</v></c>'
        text = "" if value is None else value if type(value) is str else str(value)
        if uses < 2 or _INLINE_ONLY.search(text) or len(text) > _MAX_CELL_UTF16 // 2:
            return f'<c r="{letter}{_ROW_NUMBER}"{style} t="inlineStr">{inline_string(text)}</c>'
        index = self.strings._get_shared_string_index(text)
        self.strings.count += uses - 1  # the table counts every cell that refers to a string
        return f'<c r="{letter}{_ROW_NUMBER}"{style} t="s"><v>{index}</v></c>'

    def _status_cells(self, letter: str, statuses: list[str]) -> list[str]:
        made = {
            status: self._cell(letter, status, self._status_style(status), uses=uses)
            for status, uses in Counter(statuses).items()
        }
        return list(map(made.__getitem__, statuses))

    def _status_style(self, status: str) -> str:
        kind = _KIND_OF.get(status)
        return self.kinds[kind] if kind else ""
