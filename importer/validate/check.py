"""Check every row of an order sheet and say, per cell, what is wrong and how to fix it.

The schema runs lazily, so one pass reports every problem in every row; a
buyer fixes the whole sheet at once instead of one error per run. Checks see
each canonical cell with its outer spaces stripped; the frame the user sees is
left as it was read, while :attr:`Report.valid_cells` carries the stripped
canonical values that grouping works with (and :attr:`Report.valid` the same
rows as plain text, for a look in a notebook).
"""

from __future__ import annotations

import dataclasses
import functools
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from pandera.errors import SchemaErrors

from ..columns import TEXT, all_text, paused_gc, text_cells
from ..models import CANONICAL_COLUMNS, ROW_COL, SHEET_COL, CellError, OrderSheet, Status
from ..outcomes import errors_frame, outcomes_frame
from .date_check import read_dates
from .number_check import read_numbers
from .provider_rules import provider_rules
from .schema import build_schema, missing_column_message, order_completeness, shown
from .warnings import advisory_checks, rule_packs, with_severity

# Provider keys used when the adapter registry cannot be imported.
KNOWN_PROVIDER_KEYS: tuple[str, ...] = ("xportcn-open", "xportcn-ka-taobao", "xportcn-ka-1688", "dajisaas", "shanjing")
# row_id of a problem with the whole sheet (e.g. a missing required column); such a problem has row 0.
SHEET_ROW_ID = -1


@dataclass
class Report:
    """The outcome of validation.

    ``errors`` has one row per problem (columns of
    :data:`importer.outcomes.ERROR_COLUMNS`); a problem with the whole sheet has
    row_id -1 and row 0 and makes every row invalid. ``valid_cells`` holds
    the canonical cells of the rows without problems, indexed by row id, as
    the checks saw them: stripped of outer spaces, categorical (see
    :func:`~importer.columns.text_cells`). Grouping reads them as they are;
    :attr:`valid` is the same rows as plain text.
    """

    sheet: OrderSheet
    errors: pd.DataFrame
    valid_cells: pd.DataFrame
    warnings: pd.DataFrame = dataclasses.field(default_factory=lambda: errors_frame([]))
    """Problems that do not stop their row (same columns as ``errors``); noted in the ``warning`` column."""
    order_dates: pd.Series = dataclasses.field(default_factory=lambda: pd.Series(dtype=object))
    """Per row id, the ``order_date`` read, as ``YYYY-MM-DD`` (rows without a readable date are absent)."""

    @property
    @paused_gc
    def warning_texts(self) -> pd.Series:
        """Per row id, its warnings joined by "; " (rows without warnings are absent)."""
        if self.warnings.empty:
            return pd.Series(dtype=object)
        joined: dict[int, list[str]] = {}  # a plain pass: groupby().agg costs seconds at 100,000 warnings
        for row_id, message in zip(self.warnings["row_id"].tolist(), self.warnings["message"].tolist(), strict=True):
            joined.setdefault(row_id, []).append(message)
        ids = sorted(joined)
        texts = ["; ".join(joined[row_id]) for row_id in ids]
        return pd.Series(
            texts, index=pd.Index(ids, name="row_id"), name="message", dtype=self.warnings["message"].dtype
        )

    @functools.cached_property
    def valid(self) -> pd.DataFrame:
        """The rows without problems, indexed by row id: every column of the sheet, canonical cells stripped, as text.

        Built on first use and kept: a table to read or to edit in a notebook.
        Grouping does not need it (it reads :attr:`valid_cells`), which spares
        a large sheet a second copy of every cell.
        """
        cells = self.valid_cells
        rows = self.sheet.frame.loc[cells.index]
        return rows.assign(**{column: cells[column].astype(TEXT) for column in cells.columns})

    @property
    def ok(self) -> bool:
        """True when the sheet has no problem at all."""
        return self.errors.empty

    @property
    def invalid_row_ids(self) -> list[int]:
        """Row ids with at least one problem, in sheet order (every row when the sheet itself is wrong)."""
        return _invalid_row_ids(self.errors, self.sheet.frame.index)

    @property
    @paused_gc
    def outcomes(self) -> pd.DataFrame:
        """One INVALID outcome per invalid row: its messages joined by "; " and its first failing column."""
        rows = self.invalid_row_ids
        if not rows:
            return outcomes_frame([])
        sheet_wide = self.errors[self.errors["row_id"] == SHEET_ROW_ID]
        prefix = list(sheet_wide["message"])
        messages: dict[int, list[str]] = {row: list(prefix) for row in rows}
        first_column: dict[int, str] = {}
        own = self.errors[self.errors["row_id"] != SHEET_ROW_ID]
        for row_id, column, message in zip(own["row_id"].tolist(), own["column"], own["message"], strict=True):
            if row_id in messages:
                messages[row_id].append(message)
                first_column.setdefault(row_id, column)
        return outcomes_frame(
            {
                "row_id": row,
                "status": str(Status.INVALID),
                "error": "; ".join(messages[row]),
                "error_column": first_column.get(row, ""),
            }
            for row in rows
        )


@paused_gc
def validate(
    sheet: OrderSheet | pd.DataFrame,
    *,
    providers: Collection[str] | None = None,
    severity: Mapping[str, str] | None = None,
    decimal_separator: str = "auto",
    date_order: str = "auto",
) -> Report:
    """Check every row of ``sheet`` against the schema and the order-level rules.

    A bare DataFrame is accepted so a frame built in code can be checked: it
    gets ``_sheet`` = "Sheet1" and ``_row`` = row id + 2 when it lacks them.
    ``providers`` are the keys accepted in the provider column; by default the
    keys of the adapter registry. ``decimal_separator`` and ``date_order``
    force how number and date columns read instead of deciding per column
    (see :mod:`importer.validate.number_text`, :mod:`importer.validate.date_text`).
    """
    sheet = _as_sheet(sheet)
    keys = tuple(providers) if providers is not None else default_providers()
    frame = sheet.frame
    checked = checked_cells(frame)

    # What reading numbers and dates found says more about a cell than the schema's plain rule.
    def locate(row_ids: list[int]) -> tuple[list[str], list[int]]:
        return _locations(frame, row_ids)

    read_problems = read_numbers(checked, locate, decimal_separator)
    date_problems, dates = read_dates(checked, locate, date_order)
    read_problems += date_problems
    found: list[CellError] = []
    schema = build_schema(keys, columns_present=checked.columns)
    try:
        schema.validate(checked, lazy=True)
    except SchemaErrors as exc:
        found.extend(_from_failure_cases(exc.failure_cases, frame, _rule_names(schema)))
    found.extend(_from_completeness(order_completeness(checked, keys), frame))
    found.extend(advisory_checks(checked, locate))
    found.extend(provider_rules(checked, locate, mainland_provinces()))
    found = with_severity([*read_problems, *_not_covered(found, read_problems)], severity or {})
    warned = [e for e in found if e.severity == "warning"]
    found = [e for e in found if e.severity != "warning"]
    issues = [_issue_said(issue, sheet) for issue in sheet.issues]
    issue_warnings = [e for e in issues if e.severity == "warning"]
    issues = [e for e in issues if e.severity != "warning"]
    errors = _sorted_errors([*issues, *_not_covered(found, issues)], frame)
    errors = _with_fix_hints(errors, sheet, decimal_separator)
    valid_cells = checked[~checked.index.isin(_invalid_row_ids(errors, frame.index))]
    warnings = _sorted_errors([*warned, *issue_warnings], frame)
    return Report(sheet=sheet, errors=errors, valid_cells=valid_cells, warnings=warnings, order_dates=dates)


def default_providers() -> tuple[str, ...]:
    """Return the adapter registry's provider keys (the known keys when the registry cannot load)."""
    try:
        from ..providers import REGISTRY
    except ImportError:
        return KNOWN_PROVIDER_KEYS
    return tuple(REGISTRY)


@functools.cache
def mainland_provinces() -> dict[str, str]:
    """Short province names -> official ones, from the mainland rule pack."""
    return dict(rule_packs().get("cn", {}).get("provinces", {}))


@functools.cache
def used_columns() -> frozenset[str]:
    """The columns an order is made of: the canonical ones, the team's SKU and the adapters' own columns."""
    try:
        from ..providers import REGISTRY
    except ImportError:
        extra: set[str] = set()
    else:
        extra = {column for cls in REGISTRY.values() for column in cls.columns}
    return frozenset({*CANONICAL_COLUMNS, "sku_code", *extra})


_ROUNDED = "Excel stored this as a number"
_RETYPE = "format the column as Text and type the value again"


def _issue_said(issue: CellError, sheet: OrderSheet) -> CellError:
    """A problem found while reading, said the way every row message is: its column first.

    A problem in a column no order uses cannot stop a row: it is a warning. A
    long id Excel rounded in an export (a sheet read with a mapping profile)
    cannot be typed again by the user: the message says the digits are lost
    in the file and where to get them.
    """
    message = issue.message
    if message.startswith(_ROUNDED) and sheet.profile:
        message = message.replace(
            _RETYPE,
            f"the digits are already lost in this export (profile '{sheet.profile}'): export it again as CSV or "
            "with the column as text, or take the id from the product link",
        )
    if not message.startswith(f"{issue.column}:") and not message.startswith(f"{issue.column} "):
        message = f"{issue.column}: {message}"
    if issue.column not in used_columns() and issue.severity != "warning":
        unused = f"{message} (the importer does not use this column)"
        return dataclasses.replace(issue, message=unused, severity="warning")
    return dataclasses.replace(issue, message=message)


def text(series: pd.Series[Any]) -> pd.Series[str]:
    """Return a column as text with outer whitespace stripped; a missing value becomes the empty string."""
    if not isinstance(series.dtype, pd.StringDtype):
        series = series.where(series.notna(), "").astype(TEXT)
    return series.fillna("").str.strip()


# Columns that hold digits and codes: full-width characters typed with a Chinese input method
# (６００１…, ＋８６, full-width spaces) are folded to ASCII there, which cannot change their meaning.
# Names and addresses are left exactly as typed.
WIDTH_FOLDED_COLUMNS = frozenset(
    {"provider", "order_ref", "line_no", "item_id", "sku_id", "quantity", "unit_price", "currency"}
    | {"receiver_phone", "receiver_mobile", "zip", "tax_id", "order_date"}
)


def checked_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the canonical columns of ``frame`` as the checks see them: text, outer spaces stripped.

    Id, number and code columns are also folded from full-width to ASCII
    (NFKC); the results workbook still shows the cells as the user typed them.
    The columns are categorical (see :func:`~importer.columns.text_cells`);
    :attr:`Report.valid` has them as plain text again.
    """
    present = [column for column in CANONICAL_COLUMNS if column in frame.columns]
    cells = {column: _checked(frame[column], column in WIDTH_FOLDED_COLUMNS) for column in present}
    return pd.DataFrame(cells, index=frame.index)


def _checked(series: pd.Series[Any], fold: bool) -> pd.Series[Any]:
    """One column as :func:`checked_cells` gives it, as :func:`~importer.columns.text_cells`.

    Each distinct value is cleaned once; every later check asks about
    distinct values and compares codes, so the column is factorized here
    once instead of once per check.
    """
    codes, uniques = pd.factorize(series)  # without a sentinel, pandas looks for missing values twice
    values = uniques.tolist()
    missing = bool(codes.size) and codes.min() < 0
    if missing:  # a missing cell reads as empty
        codes[codes < 0] = len(values)
        values.append("")
    cleaned = list(map(str.strip, values)) if all_text(values) else text(pd.Series(values, dtype=object)).tolist()
    if fold and not "".join(cleaned).isascii():  # one pass in C finds the usual column of ASCII only
        cleaned = [value if value.isascii() else _fold_width(value).strip() for value in cleaned]
    unchanged = not missing and cleaned == values  # the usual column: compared by identity, in C
    return text_cells(cleaned, series.index, codes, distinct=unchanged)


def _fold_width(value: str) -> str:
    return unicodedata.normalize("NFKC", value) if not value.isascii() else value


def _as_sheet(sheet: OrderSheet | pd.DataFrame) -> OrderSheet:
    """Wrap a bare frame, and give any frame lacking them ``_sheet``/``_row`` (on a copy)."""
    if isinstance(sheet, pd.DataFrame):
        sheet = OrderSheet(frame=sheet)
    frame = sheet.frame
    if not (pd.api.types.is_integer_dtype(frame.index.dtype) and frame.index.is_unique):
        frame = frame.reset_index(drop=True)
    added: dict[str, Any] = {}
    if SHEET_COL not in frame.columns:
        added[SHEET_COL] = "Sheet1"
    if ROW_COL not in frame.columns:
        added[ROW_COL] = frame.index.to_numpy() + 2
    if added:
        frame = frame.assign(**added)
    return sheet if frame is sheet.frame else dataclasses.replace(sheet, frame=frame)


def _locations(frame: pd.DataFrame, row_ids: list[int]) -> tuple[list[str], list[int]]:
    """Sheet names and Excel row numbers of ``row_ids``, looked up in one go."""
    where = frame.loc[row_ids, [SHEET_COL, ROW_COL]]
    return [str(s) for s in where[SHEET_COL].tolist()], [int(r) for r in where[ROW_COL].tolist()]


def _first_sheet(frame: pd.DataFrame) -> str:
    return str(frame[SHEET_COL].iloc[0]) if len(frame) else ""


def _with_fix_hints(errors: pd.DataFrame, sheet: OrderSheet, decimal_separator: str = "auto") -> pd.DataFrame:
    """Add the fix to each message whose fix is knowable ("... (fix: 'CNY'; --fix applies it)")."""
    if errors.empty:
        return errors
    from .fixes import suggest

    cells = zip(errors["row_id"].tolist(), errors["column"].tolist(), strict=True)
    hints = {(f.row_id, f.column): f.new for f in suggest(sheet, decimal_separator, only=list(cells))}
    if not hints:
        return errors
    messages = [
        f"{message} (fix: '{hints[(row_id, column)]}'; --fix applies it)" if (row_id, column) in hints else message
        for row_id, column, message in zip(errors["row_id"], errors["column"], errors["message"], strict=True)
    ]
    return errors.assign(message=messages)


def _rule_names(schema: Any) -> dict[str, str]:
    """Message template -> rule name (``column.rule``), so each failure knows which rule it broke."""
    return {str(check.error): str(check.name) for column in schema.columns.values() for check in column.checks}


def _from_failure_cases(
    cases: pd.DataFrame, frame: pd.DataFrame, rules: Mapping[str, str] | None = None
) -> list[CellError]:
    """Turn pandera's failure cases into cell errors: one per failing cell, message filled in."""
    errors: list[CellError] = []
    per_cell = cases[cases["index"].notna() & cases["column"].notna()]
    sheet_wide = cases.drop(per_cell.index)
    for check, column, value in zip(sheet_wide["check"], sheet_wide["column"], sheet_wide["failure_case"], strict=True):
        if check == "column_in_dataframe":
            message, column = missing_column_message(str(value)), str(value)
        else:
            message = f"the sheet failed the check {check}: {shown(value)}"
        errors.append(CellError(SHEET_ROW_ID, _first_sheet(frame), 0, str(column or ""), "", message))
    row_ids = [int(i) for i in per_cell["index"].tolist()]
    sheets, rows = _locations(frame, row_ids)
    cells = zip(row_ids, sheets, rows, per_cell["column"], per_cell["failure_case"], per_cell["check"], strict=True)
    for row_id, sheet, row, column, value, template in cells:
        value_text = "" if value is None else str(value)
        message = str(template).replace("{value}", shown(value_text))
        rule = (rules or {}).get(str(template), "")
        errors.append(CellError(row_id, sheet, row, str(column), value_text, message, check=rule))
    return errors


def _from_completeness(problems: pd.DataFrame, frame: pd.DataFrame) -> list[CellError]:
    row_ids = [int(i) for i in problems.index.tolist()]
    sheets, rows = _locations(frame, row_ids)
    found = zip(row_ids, sheets, rows, problems["column"], problems["message"], strict=True)
    return [CellError(row_id, sheet, row, column, "", message) for row_id, sheet, row, column, message in found]


def _not_covered(found: Iterable[CellError], issues: Iterable[CellError]) -> list[CellError]:
    """Drop problems with a cell the reader already reported: its message says more about that cell."""
    covered = {(issue.row_id, issue.column) for issue in issues}
    return [error for error in found if (error.row_id, error.column) not in covered]


def _sorted_errors(errors: list[CellError], frame: pd.DataFrame) -> pd.DataFrame:
    """Errors in sheet order: by row, then by the column's place in the sheet."""
    table = errors_frame(errors)
    if table.empty:
        return table
    place = {column: n for n, column in enumerate(frame.columns)}
    table["_place"] = table["column"].map(lambda c: place.get(c, len(place)))
    table = table.sort_values(["row_id", "_place"], kind="stable").drop(columns="_place")
    return table.reset_index(drop=True)


def _invalid_row_ids(errors: pd.DataFrame, index: pd.Index[Any]) -> list[int]:
    if errors.empty:
        return []
    if (errors["row_id"] == SHEET_ROW_ID).any():
        return [int(i) for i in index.tolist()]
    flagged = index.isin(errors["row_id"].unique())
    return [int(i) for i in index[flagged].tolist()]
