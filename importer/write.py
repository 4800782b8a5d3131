"""Write the results workbook: the user's sheet plus status columns, a Summary and an Errors sheet.

Two writers produce the same columns:

* for an .xlsx/.xlsm input of ordinary size, the user's own workbook is
  reopened with openpyxl so their formatting, other sheets and formulas are
  kept, and the result columns are appended to each order sheet;
* for a CSV input, a DataFrame built in code, or a sheet above
  :data:`FAST_WRITER_THRESHOLD` rows, a new workbook is streamed with
  xlsxwriter (``constant_memory``), which is an order of magnitude faster;
  the user's formatting is not carried over there.

Nothing from outside data ever becomes a formula: every text value is written
as a string cell explicitly. The file is written to a temporary name in the
same folder and renamed into place, so a crash never leaves half a workbook.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import InputError
from .killpoints import kill_point
from .models import ERROR_COLUMN_COL, RESULT_COLUMNS, ROW_COL, SHEET_COL, SUCCESS_STATUSES, OrderSheet, Status
from .money import fen_or_none, fen_to_yuan
from .results import OUTCOME_COLUMNS

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
    }
)
# Worst first: an order's status is the worst status among its rows.
_SEVERITY = [
    Status.UNKNOWN,
    Status.CREATE_FAILED,
    Status.PRICE_CHANGED,
    Status.PREVIEW_FAILED,
    Status.INVALID,
    Status.HELD,
    Status.NOT_ATTEMPTED,
    Status.VALID,
    Status.PREVIEWED,
    Status.ALREADY_CREATED,
    Status.CREATED,
]
_RED, _GREEN, _HEADER = "FFC7CE", "C6EFCE", "DDEBF7"
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_WIDTHS = {"status": 16, "error": 60, "warning": 40, "provider_order_id": 22, "provider_line_id": 22}


def default_output_path(source: Path) -> Path:
    """``orders.xlsx`` -> ``orders.results.xlsx`` in the same folder."""
    return source.with_name(f"{source.stem}.results.xlsx")


def write_results(
    sheet: OrderSheet,
    outcomes: pd.DataFrame,
    errors: pd.DataFrame,
    path: str | Path | None = None,
    *,
    title: str = "",
) -> Path:
    """Write the results workbook and return its path.

    Every input row appears exactly once; a row with no outcome is reported as
    NOT_ATTEMPTED rather than dropped.
    """
    target = _target(sheet, path)
    complete = complete_outcomes(sheet, outcomes)
    summary = summary_rows(sheet, complete, title)
    problems = error_rows(sheet, complete, errors)
    source = sheet.source
    with _atomic(target) as temporary:
        if source is not None and _is_workbook(source) and len(sheet.frame) <= FAST_WRITER_THRESHOLD:
            _write_into_user_workbook(sheet, complete, summary, problems, temporary)
        else:
            _write_new_workbook(sheet, complete, summary, problems, temporary)
    return target


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
    handle, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".xlsx.tmp", dir=target.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        with temporary.open("rb") as written:
            os.fsync(written.fileno())
        kill_point("while-writing")
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


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


def _order_keys(sheet: OrderSheet) -> pd.Series:
    frame = sheet.frame
    provider = frame["provider"] if "provider" in frame else pd.Series("", index=frame.index)
    ref = frame["order_ref"] if "order_ref" in frame else frame[ROW_COL].astype(str)
    return provider.astype(str) + "\x1f" + ref.astype(str)


def summary_rows(sheet: OrderSheet, outcomes: pd.DataFrame, title: str = "") -> list[list[Any]]:
    """The Summary sheet as rows: counts per status for rows and orders, amounts per currency."""
    rank = {str(s): i for i, s in enumerate(_SEVERITY)}
    statuses = outcomes["status"].astype(str)
    order_status = (
        pd.DataFrame({"key": _order_keys(sheet), "rank": statuses.map(rank).fillna(0)})
        .groupby("key")["rank"]
        .min()
        .map(lambda r: str(_SEVERITY[int(r)]))
    )
    rows: list[list[Any]] = [
        [SUMMARY_MARK],
        ["input", str(sheet.source.name) if sheet.source else "(DataFrame)"],
        ["written", datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")],
    ]
    if title:
        rows.append(["run", title])
    rows += [[], ["status", "rows", "orders"]]
    row_counts = statuses.value_counts()
    order_counts = order_status.value_counts()
    for status in _SEVERITY:
        if status in row_counts or status in order_counts:
            rows.append([str(status), int(row_counts.get(status, 0)), int(order_counts.get(status, 0))])
    rows.append(["total", len(statuses), len(order_status)])
    if "warning" in outcomes:
        rows.append(["rows with warnings", int((outcomes["warning"].astype(str) != "").sum()), ""])
    rows += [[], ["currency", "estimated amount", "rows"]]
    for currency, (amount, count) in sorted(_amounts_per_currency(outcomes).items()):
        rows.append([currency, amount, count])
    rows += [[], ["provider", "status", "rows", "estimated amount"]]
    rows += _per_provider(sheet, outcomes)
    return rows


def _per_provider(sheet: OrderSheet, outcomes: pd.DataFrame) -> list[list[Any]]:
    """Rows and estimated amounts per provider and status (amounts summed exactly, in any currency shown)."""
    frame = sheet.frame
    providers = frame["provider"].astype(str) if "provider" in frame else pd.Series("", index=frame.index)
    table: dict[tuple[str, str], tuple[int, int]] = {}
    for provider, status, amount in zip(
        providers.reindex(outcomes.index).fillna(""), outcomes["status"], outcomes["estimated_amount"], strict=True
    ):
        key = (str(provider) or "(none)", str(status))
        count, total = table.get(key, (0, 0))
        table[key] = (count + 1, total + (fen_or_none(amount) or 0))
    rank = {str(s): i for i, s in enumerate(_SEVERITY)}
    ordered = sorted(table.items(), key=lambda kv: (kv[0][0], rank.get(kv[0][1], 99)))
    return [[provider, status, count, fen_to_yuan(total)] for (provider, status), (count, total) in ordered]


def _amounts_per_currency(outcomes: pd.DataFrame) -> dict[str, tuple[Decimal, int]]:
    """Exact sums of the estimated amounts of rows that were priced or bought (added in fen, shown in yuan)."""
    counted = {str(Status.PREVIEWED), str(Status.CREATED), str(Status.ALREADY_CREATED)}
    fen: dict[str, tuple[int, int]] = {}
    for status, amount, currency in zip(
        outcomes["status"], outcomes["estimated_amount"], outcomes["currency_charged"], strict=True
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
        (str(e["sheet"]), int(e["row"]), str(e["column"]), str(e["message"]), str(e["value"]))
        for e in errors.to_dict("records")
    ]
    listed = set(errors["row_id"]) if len(errors) else set()
    frame = sheet.frame
    failed = outcomes[outcomes["status"].isin([str(s) for s in FAILURE_STATUSES])]
    places = frame.loc[failed.index, [SHEET_COL, ROW_COL]].to_dict("records")
    for row_id, place, outcome in zip(failed.index, places, failed.to_dict("records"), strict=True):
        if row_id in listed:
            continue
        rows.append(
            (str(place[SHEET_COL]), int(place[ROW_COL]), str(outcome[ERROR_COLUMN_COL]), str(outcome["error"]), "")
        )
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
    workbook = load_workbook(sheet.source, keep_vba=False)
    styles = _OpenpyxlStyles()
    frame = sheet.frame
    for sheet_name, rows in frame.groupby(SHEET_COL, sort=False).groups.items():
        worksheet = workbook[str(sheet_name)]
        header_row = sheet.header_rows.get(str(sheet_name), 1)
        _append_result_columns(worksheet, header_row, sheet, outcomes.loc[rows], styles)
    _replace_sheet(workbook, "Summary", SUMMARY_MARK, summary, styles, widths=[24, 18, 10])
    _replace_sheet(workbook, "Errors", ERRORS_MARK, problems, styles, widths=[16, 8, 18, 80, 30])
    workbook.save(target)


class _OpenpyxlStyles:
    """Style objects created once and shared: per-cell style objects are the known slow path."""

    def __init__(self) -> None:
        from openpyxl.styles import Font, PatternFill

        self.red = PatternFill("solid", fgColor=_RED)
        self.green = PatternFill("solid", fgColor=_GREEN)
        self.header_fill = PatternFill("solid", fgColor=_HEADER)
        self.bold = Font(bold=True)


def _set_text(cell: Any, value: str) -> None:
    """Store text as text: openpyxl would otherwise turn '=...' into a formula."""
    cell.value = xml_safe(value).replace("\r", "_x000D_")  # XML readers turn a raw CR into LF; Excel decodes this
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
    headers += [""]  # a results workbook from before order_date_iso ends one column short
    for start in range(len(headers) - span + 1):
        found = tuple(headers[start : start + span])
        if found == RESULT_COLUMNS or found == (*RESULT_COLUMNS[:-1], ""):
            for row in worksheet.iter_rows(min_row=header_row + 1, min_col=start + 1, max_col=start + span):
                for cell in row:
                    cell.value = None
            return start + 1
    return int(worksheet.max_column) + 1


def _append_result_columns(
    worksheet: Any, header_row: int, sheet: OrderSheet, outcomes: pd.DataFrame, styles: _OpenpyxlStyles
) -> None:
    from openpyxl.comments import Comment
    from openpyxl.utils import get_column_letter

    first = _result_columns_start(worksheet, header_row)
    input_columns = _input_column_positions(worksheet, header_row, sheet)
    for offset, name in enumerate(RESULT_COLUMNS):
        cell = worksheet.cell(row=header_row, column=first + offset)
        _set_text(cell, name)
        cell.font, cell.fill = styles.bold, styles.header_fill
        worksheet.column_dimensions[get_column_letter(first + offset)].width = _WIDTHS.get(name, 14)
    rows = sheet.frame.loc[outcomes.index, ROW_COL]
    for excel_row, values in zip(rows, outcomes.to_dict("records"), strict=True):
        for offset, name in enumerate(RESULT_COLUMNS):
            _set_value(worksheet.cell(row=int(excel_row), column=first + offset), name, values[name])
        status_cell = worksheet.cell(row=int(excel_row), column=first)
        status = str(values["status"])
        if _is_failure(status):
            status_cell.fill = styles.red
            position = input_columns.get(str(values[ERROR_COLUMN_COL]))
            if position is not None and values["error"]:
                bad = worksheet.cell(row=int(excel_row), column=position)
                bad.fill = styles.red
                bad.comment = Comment(xml_safe(str(values["error"])[:2000]), "order-importer")
        elif _is_success(status):
            status_cell.fill = styles.green
    last_row = max(int(rows.max()), header_row) if len(rows) else header_row
    last_col = get_column_letter(first + len(RESULT_COLUMNS) - 1)
    worksheet.auto_filter.ref = f"A{header_row}:{last_col}{last_row}"
    if worksheet.freeze_panes is None:
        worksheet.freeze_panes = f"A{header_row + 1}"


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
) -> None:
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
            if row_number == 1 or (len(row) > 1 and row[0] in ("status", "currency", "sheet")):
                cell.font = styles.bold
    for number, width in enumerate(widths, start=1):
        worksheet.column_dimensions[get_column_letter(number)].width = width


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
    formats = {
        "header": workbook.add_format({"bold": True, "bg_color": "#" + _HEADER}),
        "bold": workbook.add_format({"bold": True}),
        "red": workbook.add_format({"bg_color": "#" + _RED}),
        "green": workbook.add_format({"bg_color": "#" + _GREEN}),
        "money": workbook.add_format({"num_format": "0.00"}),
    }
    original = {canonical: header for header, canonical in sheet.header_map.items()}
    columns = [c for c in sheet.frame.columns if c not in (SHEET_COL, ROW_COL)]
    headers = [original.get(c, c) for c in columns] + list(RESULT_COLUMNS)
    taken: set[str] = set()
    default_name = sheet.source.stem if sheet.source is not None else "Orders"
    for sheet_name, index in sheet.frame.groupby(SHEET_COL, sort=False).groups.items():
        name = _safe_sheet_name(str(sheet_name) or default_name, taken)
        worksheet = workbook.add_worksheet(name)
        _stream_rows(worksheet, sheet.frame.loc[index, columns], outcomes.loc[index], headers, columns, formats)
    for name, rows in (("Summary", summary), ("Errors", problems)):
        worksheet = workbook.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, str):
                    worksheet.write_string(r, c, value, formats["bold"] if r == 0 else None)
                elif isinstance(value, Decimal):
                    worksheet.write_number(r, c, float(value), formats["money"])
                else:
                    worksheet.write_number(r, c, value)
        worksheet.set_column(0, 0, 24)
        worksheet.set_column(3, 3, 80 if name == "Errors" else 12)
    workbook.close()


def _stream_rows(
    worksheet: Any,
    inputs: pd.DataFrame,
    outcomes: pd.DataFrame,
    headers: list[str],
    columns: list[str],
    formats: dict[str, Any],
) -> None:
    """Write header and rows in order (constant_memory needs row order), text as text."""
    for c, header in enumerate(headers):
        worksheet.write_string(0, c, header, formats["header"])
    error_position = {name: i for i, name in enumerate(columns)}
    width = len(columns)
    for r, (values, result) in enumerate(
        zip(inputs.itertuples(index=False, name=None), outcomes.to_dict("records"), strict=True), start=1
    ):
        status = str(result["status"])
        failing = error_position.get(str(result[ERROR_COLUMN_COL])) if _is_failure(status) else None
        for c, value in enumerate(values):
            cell_format = formats["red"] if c == failing else None
            worksheet.write_string(r, c, str(value), cell_format)
        for offset, name in enumerate(RESULT_COLUMNS):
            value = result[name]
            if name in MONEY_COLUMNS and isinstance(value, Decimal):
                worksheet.write_number(r, width + offset, float(value), formats["money"])
            elif offset == 0:
                fill = formats["red"] if _is_failure(status) else formats["green"] if _is_success(status) else None
                worksheet.write_string(r, width, status, fill)
            elif value not in ("", None):
                worksheet.write_string(r, width + offset, str(value))
        if failing is not None and result["error"]:
            worksheet.write_comment(r, failing, str(result["error"])[:2000])
    worksheet.autofilter(0, 0, max(len(inputs), 1), len(headers) - 1)
    worksheet.freeze_panes(1, 0)
    worksheet.set_column(width, width, 16)
    worksheet.set_column(len(headers) - 1, len(headers) - 1, 60)
