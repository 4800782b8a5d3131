"""The pipeline as plain functions: each stage takes and returns DataFrames or small typed values.

A notebook calls them one at a time; the CLI calls :func:`run`.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal

import pandas as pd

from .config import Settings, load_settings
from .errors import ImporterError, InputError
from .group import Grouping
from .group import group as _group
from .logs import log
from .models import NOT_FAILURE_STATUSES, OrderDraft, OrderSheet, Status
from .money import fen_text, fen_to_yuan, sum_fen
from .outcomes import (
    BOUGHT_STATUSES,
    OUTCOME_COLUMNS,
    PRICED_STATUSES,
    SEVERITY,
    UNSETTLED_STATUSES,
    analyst_frame,
    attach_column,
    attach_warnings,
    errors_frame,
    exact_frame,
    merge_outcomes,
    order_statuses,
    outcomes_frame,
    status_outcomes,
    totals_fen,
    totals_text,
)
from .read.headers import match_headers
from .read.limits import InputLimits
from .read.mappings import (
    MappingArg,
    Profile,
    ProfileChooser,
    apply_profile,
    builtin_profiles,
    configured_profiles,
    profile_used,
    resolve_mapping,
)
from .read.sheet import EXACT_FLOAT_LIMIT, read_sheet
from .read.skips import find_skips, partly_hidden_orders
from .submit.ledger import Ledger, open_existing, open_for_run
from .submit.orders import (
    Progress,
    RetryPolicy,
    RowOrigin,
    any_unavailable,
    create_orders,
    preview_orders,
    reconcile,
)
from .validate.check import Report
from .validate.check import validate as _validate
from .write.workbook import write_results as _write_results

Stage = Literal["validate", "preview", "import"]


def load(
    source: str | Path | pd.DataFrame,
    *,
    provider: str | None = None,
    sheet: str | None = None,
    mapping: MappingArg = None,
    limits: InputLimits | None = None,
    settings: Settings | None = None,
) -> OrderSheet:
    """Read an order sheet (.xlsx, .xlsm, .csv) or wrap a DataFrame built in code.

    Every cell is text, so ids and phone numbers keep every character.
    ``limits`` bound what the file may hold (size, rows, zip expansion).
    ``mapping`` names how the sheet's headers and values are read: a mapping
    profile's name (built in, or ``[mappings.NAME]`` in ``settings``), a
    mapping file, a :class:`~importer.read.mappings.Profile`, or a dict of
    header -> column; by default a profile is picked when the sheet's headers
    match one (``sheet.profile`` says which). ``settings`` also give the
    product catalogue (``[run] catalogue``).
    """
    settings = settings or Settings()
    rules = resolve_mapping(mapping if mapping is not None else settings.mapping, settings.mappings)
    if isinstance(source, pd.DataFrame):
        renamed, originals = _with_profile_headers(source, rules)
        order_sheet = _sheet_from_frame(renamed, provider)
        order_sheet.header_map.update(originals)
    else:
        order_sheet = read_sheet(
            source, sheet=sheet, provider=provider, mapping=rules.header_rules(), limits=limits or settings.limits
        )
    apply_profile(order_sheet, profile_used(rules), settings.catalogue)
    return order_sheet


def _with_profile_headers(frame: pd.DataFrame, rules: Profile | ProfileChooser) -> tuple[pd.DataFrame, dict[str, str]]:
    """A DataFrame's columns renamed as a profile names them (the one given, or the one its headers match).

    Returns the frame and, for each renamed column, its header -> column.
    """
    headers = [str(c) for c in frame.columns]
    if isinstance(rules, ProfileChooser):
        rules.for_headers(headers, ())
    profile = profile_used(rules)
    if profile is None:
        return frame, {}
    names: list[str] = list(headers)
    originals: dict[str, str] = {}
    for position, original, canonical in match_headers(headers, extra=profile.header_rules(), required=()).columns:
        if canonical and not original.startswith("_"):
            names[position] = canonical
            originals[original] = canonical
    renamed = frame.copy()
    renamed.columns = pd.Index(names)
    return renamed, originals


def mapping_profiles(settings: Settings | None = None) -> dict[str, Profile]:
    """Every mapping profile a run can use by name: the built-in ones, then the config's ``[mappings.NAME]``."""
    return {**builtin_profiles(), **configured_profiles((settings or Settings()).mappings)}


def _sheet_from_frame(frame: pd.DataFrame, provider: str | None) -> OrderSheet:
    frame = frame.reset_index(drop=True)
    filled = frame.notna().to_numpy()
    texts = {column: _column_texts(frame, column) for column in frame.columns}
    frame = pd.DataFrame(texts, index=frame.index, dtype=object).where(filled, "")  # as the readers give it
    if "_sheet" not in frame:
        frame["_sheet"] = "Sheet1"
    if "_row" not in frame:
        frame["_row"] = frame.index + 2
    if provider:
        if "provider" not in frame:
            frame.insert(0, "provider", provider)
        else:
            frame.loc[frame["provider"] == "", "provider"] = provider
    return OrderSheet(frame=frame, header_map={c: c for c in frame.columns if not c.startswith("_")})


def _column_texts(frame: pd.DataFrame, column: str) -> list[str]:
    """A DataFrame column as the text a reader would give: 13800138000.0 (a float because of a blank) -> 13800138000.

    pandas turns a column of whole numbers with one blank into floats. A
    whole float is written back as its integer digits; one too large for a
    float to hold exactly (above 2**53, such as an 18-digit id) is refused,
    since its digits are already lost.
    """
    texts = []
    for position, value in enumerate(frame[column].tolist()):
        if isinstance(value, float) and value == value and value.is_integer():
            if abs(value) >= EXACT_FLOAT_LIMIT:
                raise InputError(
                    f"{value!r} is a float, which cannot hold every digit of this number; build the DataFrame "
                    "with the column as text (dtype=str, or pd.read_csv(..., dtype=str)) so no digit is lost",
                    row=position + 2,
                    column=str(column),
                )
            texts.append(str(int(value)))
        else:
            texts.append(value if isinstance(value, str) else str(value))
    return texts


def validate(
    sheet: OrderSheet | pd.DataFrame,
    *,
    severity: Mapping[str, str] | None = None,
    decimal_separator: str = "auto",
    date_order: str = "auto",
) -> Report:
    """Check every row; ``report.errors`` lists each problem with its sheet, row and column.

    ``report.warnings`` lists what does not stop a row; ``severity`` moves a
    rule between the two (``{"remark_length": "error"}``). Number and date
    columns decide their convention from their cells; ``decimal_separator``
    ("." or ",") and ``date_order`` ("dmy" or "mdy") impose one instead.
    """
    if isinstance(sheet, pd.DataFrame):
        sheet = _sheet_from_frame(sheet, None)
    return _validate(sheet, severity=severity, decimal_separator=decimal_separator, date_order=date_order)


def group(report: Report) -> Grouping:
    """Turn valid rows into orders; orders with any bad row are held back whole."""
    from .providers import REGISTRY

    extra = {column for cls in REGISTRY.values() for column in cls.columns}
    return _group(report, extra_columns=extra)


def _orders(orders: Grouping | Sequence[OrderDraft]) -> list[OrderDraft]:
    return list(orders.orders if isinstance(orders, Grouping) else orders)


def preview(
    orders: Grouping | Sequence[OrderDraft],
    settings: Settings | None = None,
    *,
    progress: Progress | None = None,
    policy: RetryPolicy | None = None,
) -> pd.DataFrame:
    """Ask each provider to price every order; one row per order line, indexed by row id.

    Money columns are float yuan (NaN where blank), each with an exact
    ``<column>_fen`` Int64 column beside it (see :func:`importer.outcomes.analyst_frame`).
    """
    return analyst_frame(preview_orders(_orders(orders), settings or load_settings(), progress=progress, policy=policy))


def create(
    orders: Grouping | Sequence[OrderDraft],
    previewed: pd.DataFrame,
    settings: Settings | None = None,
    *,
    progress: Progress | None = None,
    policy: RetryPolicy | None = None,
) -> pd.DataFrame:
    """Create the orders whose every line previewed; one row per line of those orders (money as in :func:`preview`)."""
    created = create_orders(
        _orders(orders), exact_frame(previewed), settings or load_settings(), progress=progress, policy=policy
    )
    return analyst_frame(created)


Layer = pd.DataFrame | Report | Grouping


def write_results(
    sheet: OrderSheet,
    outcomes: Layer | Sequence[Layer],
    path: str | Path | pd.DataFrame | None = None,
    errors: pd.DataFrame | str | Path | None = None,
    *,
    notes: list[str] | None = None,
) -> Path:
    """Write the results workbook (the user's sheet plus status columns, Summary and Errors) to ``path``.

    ``outcomes`` is one outcome frame (``run(...).outcomes``, a preview or a
    create frame) or a list of what the stages gave, earliest first, each
    laid over the one before: ``[report, orders, previewed, created]``. A
    report's cell errors fill the Errors sheet. Rows no stage decided are
    written as NOT_ATTEMPTED. The older call ``write_results(sheet, outcomes,
    errors, path)`` still works. ``notes`` receives what the user should know
    about how it was written (an input changed since it was read).
    """
    if isinstance(path, pd.DataFrame):  # the older order: (sheet, outcomes, errors, path)
        path, errors = errors, path
    layers = list(outcomes) if isinstance(outcomes, Sequence) else [outcomes]
    frames, found_errors = _layers(layers)
    if isinstance(errors, pd.DataFrame):
        found_errors = [errors]
    problems = pd.concat(found_errors, ignore_index=True) if found_errors else errors_frame([])
    target = path if isinstance(path, str | Path) else None
    return _write_results(sheet, exact_frame(merge_outcomes(*frames)), problems, target, notes=notes)


def _layers(layers: Sequence[Layer]) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    """Outcome frames (result columns only) and cell-error frames from what the stages returned."""
    frames: list[pd.DataFrame] = []
    errors: list[pd.DataFrame] = []
    for layer in layers:
        if isinstance(layer, Report):
            frames.append(layer.outcomes)
            errors.append(layer.errors)
        elif isinstance(layer, Grouping):
            valid = [line.row_id for order in layer.orders for line in order.lines]
            frames += [status_outcomes(valid, str(Status.VALID)), layer.outcomes]
            errors.append(layer.errors)
        else:
            exact = exact_frame(layer)
            frames.append(exact.reindex(columns=[c for c in OUTCOME_COLUMNS if c in exact or c == "status"]))
    return frames, errors


@dataclass
class RunResult:
    """Everything one run produced; ``outcomes`` has exactly one row per input row."""

    sheet: OrderSheet
    report: Report
    grouping: Grouping
    outcomes: pd.DataFrame
    errors: pd.DataFrame
    output: Path | None = None
    notes: list[str] = field(default_factory=list)
    ledger: Path | None = None
    run_id: str = ""
    unavailable: bool = False
    """A provider was stopped for the run (a ProviderUnavailable): its rows are NOT_ATTEMPTED."""
    results_elsewhere: bool = False
    """The results could not be written where asked; ``output`` is the fallback place they went to."""

    @property
    def counts(self) -> dict[str, int]:
        """Rows per status."""
        return {str(k): int(v) for k, v in self.outcomes["status"].value_counts().items()}

    @property
    def orders(self) -> pd.DataFrame:
        """One row per order of the sheet: provider, order_ref, status (its worst row's), rows, total_fen, ids."""
        return order_statuses(self.sheet.frame, self.outcomes, SEVERITY)

    @property
    def order_counts(self) -> dict[str, int]:
        """Orders per status (see :attr:`orders`).

        What the console, the Summary, ``--summary-json`` and notifications count.
        """
        return {str(k): int(v) for k, v in self.orders["status"].value_counts().items()}

    @property
    def warning_rows(self) -> int:
        """How many rows carry a warning."""
        return int((self.outcomes["warning"].astype(str) != "").sum()) if "warning" in self.outcomes else 0

    @property
    def bought(self) -> dict[str, int]:
        """What this run bought, per currency, in exact hundredths (order totals, freight included)."""
        return totals_fen(self.outcomes, BOUGHT_STATUSES)

    def describe(self) -> str:
        """One line for the log, the console and the notification: file, rows, orders, counts, amount bought."""
        name = self.sheet.source.name if self.sheet.source is not None else "<DataFrame>"
        counts = ", ".join(f"{n} {status}" for status, n in sorted(self.counts.items()))
        line = f"{name}: {len(self.outcomes)} rows, {len(self.orders)} orders ({counts})"
        if self.bought or "CREATED" in self.counts:
            line += f"; bought {totals_text(self.bought)}"
        elif self.outcomes["status"].isin(list(PRICED_STATUSES)).any():
            line += f"; priced {totals_text(totals_fen(self.outcomes, PRICED_STATUSES))}"
        return line

    def reason(self) -> str:
        """Why the exit code is not 0, in words ('' when it is 0)."""
        if self.exit_code == EXIT_OK:
            return ""
        counts = self.counts
        unsettled = {s: n for s, n in counts.items() if s in UNSETTLED_STATUSES}
        failed = {s: n for s, n in counts.items() if s not in NOT_FAILURE_STATUSES and s not in UNSETTLED_STATUSES}
        parts = []
        if unsettled:
            parts.append(
                " and ".join(f"{n} rows {s}" for s, n in sorted(unsettled.items()))
                + (" (a provider was unavailable)" if self.exit_code == EXIT_PROVIDER_UNAVAILABLE else "")
                + ": a later run settles them"
            )
        if failed:
            parts.append(", ".join(f"{n} {s}" for s, n in sorted(failed.items())) + " need a person (see the results)")
        return "; ".join(parts)

    @property
    def settled(self) -> bool:
        """True when no row is left for a later run (none NOT_ATTEMPTED or UNKNOWN)."""
        return not self.outcomes["status"].isin(list(UNSETTLED_STATUSES)).any()

    @property
    def exit_code(self) -> int:
        """0: every row succeeded or was skipped; 1: rows failed or need a look; 3: unavailable; 4: results elsewhere.

        1: some rows failed, were held, or need a look (an order_ref bought
        from another file). 4: the results could not be written where asked;
        they went to the fallback place in ``output``.

        3 means the run stopped calling a provider after repeated transient
        failures (its rows are NOT_ATTEMPTED): worth retrying later as it is.
        """
        if self.results_elsewhere:
            return EXIT_RESULTS_ELSEWHERE
        statuses = self.outcomes["status"]
        if statuses.isin([str(s) for s in NOT_FAILURE_STATUSES]).all():
            return EXIT_OK
        return EXIT_PROVIDER_UNAVAILABLE if self.unavailable else EXIT_ROWS_FAILED


EXIT_OK, EXIT_ROWS_FAILED, EXIT_PROVIDER_UNAVAILABLE, EXIT_RESULTS_ELSEWHERE = 0, 1, 3, 4


def default_output_path(source: Path) -> Path:
    """``orders.xlsx`` -> ``orders.results.xlsx`` in the same folder."""
    return source.with_name(f"{source.stem}.results.xlsx")


def run(
    path: str | Path | pd.DataFrame,
    *,
    stage: Stage = "import",
    settings: Settings | None = None,
    provider: str | None = None,
    sheet: str | None = None,
    output: str | Path | None = None,
    ledger: str | Path | None = None,
    write: bool = True,
    progress: Progress | None = None,
    policy: RetryPolicy | None = None,
    max_total: Decimal | None = None,
    mapping: MappingArg = None,
    new_ledger: bool = False,
    include_hidden: bool | None = None,
    allow_unpriced: bool = False,
) -> RunResult:
    """Read, validate, group and (depending on ``stage``) preview and create; then write results.

    An import keeps a ledger (``ledger``, else ``[run] ledger``, else one per
    user in the data folder, wherever the results go) so that re-running a
    file never creates an order twice. A ledger earlier runs used that is gone
    stops the run (LedgerMissing) unless ``new_ledger`` is set.
    ``result.outcomes`` holds money as float yuan plus exact ``<column>_fen``
    columns, as :func:`preview` and :func:`create` give it.
    Rows that are not orders to buy (hidden, cancelled, totals, template
    examples: :mod:`importer.read.skips`) are SKIPPED before validation;
    ``include_hidden`` (default ``[run] include_hidden``) reads hidden rows.
    With ``max_total``, an order its provider gives no price for before
    buying is held, unless ``allow_unpriced`` says the buyer saw that.
    The results are built from the rows as read; when they cannot be written
    where asked, they go to a fallback place (:func:`fallback_results_path`).
    """
    result = _run_stages(
        path,
        stage=stage,
        settings=settings,
        provider=provider,
        sheet=sheet,
        output=output,
        ledger=ledger,
        write=write,
        progress=progress,
        policy=policy,
        max_total=max_total,
        mapping=mapping,
        new_ledger=new_ledger,
        include_hidden=include_hidden,
        allow_unpriced=allow_unpriced,
    )
    result.outcomes = analyst_frame(result.outcomes)
    log_run(result, stage)
    return result


def log_run(result: RunResult, stage: Stage) -> None:
    """One INFO line per order an import settled (WARNING for one left NOT_ATTEMPTED or UNKNOWN), one per file.

    This is what a log file holds at the default level: enough to know what
    a night bought and what is left, without the per-request lines of DEBUG.
    """
    source = str(result.sheet.source or "<DataFrame>")
    where = {"file": source, **({"run_id": result.run_id} if result.run_id else {})}
    if stage == "import":
        for order in result.orders.to_dict("records"):
            status, provider, ref = str(order["status"]), str(order["provider"]), str(order["order_ref"])
            level = logging.WARNING if status in UNSETTLED_STATUSES else logging.INFO
            ids = f", provider order {order['provider_order_ids']}" if order["provider_order_ids"] else ""
            total = f", order total {fen_text(int(order['total_fen']))}" if status == "CREATED" else ""
            log.log(
                level,
                "order %s at %s: %s (%d rows)%s%s",
                ref,
                provider or "(no provider)",
                status,
                int(order["rows"]),
                total,
                ids,
                extra={**where, "provider": provider, "order_ref": ref, "status": status},
            )
    reason = result.reason()
    log.info(
        "%s %s; exit %d%s",
        stage,
        result.describe(),
        result.exit_code,
        f": {reason}" if reason else "",
        extra={**where, "status": str(result.exit_code)},
    )


def _run_stages(
    path: str | Path | pd.DataFrame,
    *,
    stage: Stage = "import",
    settings: Settings | None = None,
    provider: str | None = None,
    sheet: str | None = None,
    output: str | Path | None = None,
    ledger: str | Path | None = None,
    write: bool = True,
    progress: Progress | None = None,
    policy: RetryPolicy | None = None,
    max_total: Decimal | None = None,
    mapping: MappingArg = None,
    new_ledger: bool = False,
    include_hidden: bool | None = None,
    allow_unpriced: bool = False,
) -> RunResult:
    """The stages of :func:`run`, with money as the stages hand it on (Decimal, or '' where blank)."""
    settings = settings or load_settings()
    order_sheet = load(path, provider=provider, sheet=sheet, mapping=mapping, settings=settings)
    output_path = Path(output) if output is not None else None
    if output_path is None and order_sheet.source is not None:
        output_path = default_output_path(order_sheet.source)
    _refuse_overwriting_the_input(order_sheet, output_path)
    hidden = settings.include_hidden if include_hidden is None else include_hidden
    skipped = find_skips(order_sheet, include_hidden=hidden)
    report = validate(
        _without(order_sheet, skipped.index),
        severity=settings.severity,
        decimal_separator=settings.decimal_separator,
        date_order=settings.date_order,
    )
    grouping = group(report)
    grouping.orders = _with_source(grouping.orders, order_sheet, settings)
    valid_rows = [line.row_id for order in grouping.orders for line in order.lines]
    layers = [
        skipped,
        status_outcomes(valid_rows, str(Status.VALID)),
        report.outcomes,
        grouping.outcomes,
    ]
    errors = pd.concat([report.errors, grouping.errors], ignore_index=True)
    result = RunResult(order_sheet, report, grouping, outcomes_frame([]), errors, notes=list(order_sheet.notes))
    ledger_path: Path | None = None

    def finish(extra_layers: list[pd.DataFrame]) -> None:
        notes = [
            report.warning_texts,
            partly_hidden_orders(order_sheet.frame, skipped),
            *(layer["warning"] for layer in extra_layers if "warning" in layer),
        ]
        result.outcomes = attach_warnings(merge_outcomes(*layers, *extra_layers), *notes)
        result.outcomes = attach_column(result.outcomes, "order_date_iso", report.order_dates)
        result.outcomes = attach_column(result.outcomes, "filled_in", pd.Series(order_sheet.filled_in, dtype=object))
        if write and output_path is not None:
            _write_somewhere(result, output_path, ledger_path)

    if stage == "validate" or not grouping.orders:
        finish([])
        return result
    if stage == "preview":
        previewed = preview_orders(grouping.orders, settings, progress=progress, policy=policy)
        result.unavailable = any_unavailable(previewed)
        finish([previewed[list(OUTCOME_COLUMNS)]])
        return result
    chosen = Path(ledger) if ledger is not None else settings.ledger
    with open_for_run(chosen, new=new_ledger) as journal:
        ledger_path = journal.path  # the fallback for the results lies beside it
        run_id = result.run_id = uuid.uuid4().hex
        source = str(order_sheet.source or "<DataFrame>")
        log.debug("run %s: importing %s", run_id, source, extra={"run_id": run_id, "file": source})
        journal.start_run(run_id, source)
        to_send, settled = reconcile(grouping.orders, settings, journal, policy=policy)
        previewed = preview_orders(to_send, settings, progress=progress, policy=policy, ledger=journal)
        if max_total is not None:
            hold_over_budget(previewed, max_total, allow_unpriced=allow_unpriced)
        created = create_orders(
            to_send,
            previewed,
            settings,
            progress=progress,
            policy=policy,
            ledger=journal,
            run_id=run_id,
            origin=RowOrigin.of(order_sheet, source, to_send),
        )
        result.unavailable = any_unavailable(previewed, created)
        finish([settled[list(OUTCOME_COLUMNS)], previewed[list(OUTCOME_COLUMNS)], created[list(OUTCOME_COLUMNS)]])
        _record_run(journal, run_id, result)
        log.debug("run %s finished: %s", run_id, result.counts, extra={"run_id": run_id, "file": source})
        result.ledger = journal.path
    return result


def _without(sheet: OrderSheet, row_ids: pd.Index) -> OrderSheet:
    """The sheet without the skipped rows (and the problems the reader found in them), for validation."""
    if not len(row_ids):
        return sheet
    gone = set(row_ids.tolist())
    return dataclasses.replace(
        sheet,
        frame=sheet.frame.drop(index=row_ids),
        issues=[issue for issue in sheet.issues if issue.row_id not in gone],
    )


def _with_source(orders: list[OrderDraft], sheet: OrderSheet, settings: Settings) -> list[OrderDraft]:
    """Each order with the name of its file, and that name as its order_ref's scope when refs are per file."""
    name = sheet.source.name if sheet.source is not None else ""
    scope = name if settings.order_ref_scope == "file" else ""
    if not name:
        return orders
    return [dataclasses.replace(order, source=name, ref_scope=scope) for order in orders]


def _refuse_overwriting_the_input(sheet: OrderSheet, output: Path | None) -> None:
    """Stop before anything is sent when the results would replace the input file."""
    from .errors import InputError

    if output is not None and sheet.source is not None and output.resolve() == sheet.source.resolve():
        raise InputError("the results would overwrite the input file; choose another output path", file=output)


def fallback_results_path(source: Path | None, ledger: Path | None) -> Path:
    """Where results go when they cannot be written where asked: a ``results`` folder beside the ledger.

    The name carries the time, so a fallback never replaces an earlier one.
    """
    stem = source.stem if source is not None else "orders"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    folder = ledger.parent / "order-importer-results" if ledger is not None else _temporary_results_folder()
    return folder / f"{stem}.{stamp}.results.xlsx"


def _temporary_results_folder() -> Path:
    return Path(tempfile.gettempdir()) / "order-importer-results"


def _write_somewhere(result: RunResult, target: Path, ledger: Path | None) -> None:
    """Write the results to ``target``; on any failure, to the fallback place, and say where.

    Orders may have been bought by now: whatever the file system does, the
    run ends with a record of them, a summary and its notification.
    """
    failures: list[str] = []
    places = [target, fallback_results_path(result.sheet.source, ledger)]
    if ledger is not None:
        places.append(_temporary_results_folder() / places[-1].name)
    for place in places:
        try:
            result.output = write_results(result.sheet, result.outcomes, result.errors, place, notes=result.notes)
        except Exception as error:  # a read-only or full folder, a directory in the way, a workbook that will not save
            failures.append(f"{place}: {_reason(error)}")
            continue
        if place != target:
            result.results_elsewhere = True
            result.notes.append(
                f"the results could not be written to {target} ({failures[0].split(': ', 1)[1]}); "
                f"they were written to {place} instead"
            )
        return
    result.output = None
    result.results_elsewhere = True
    result.notes.append("the results could not be written anywhere: " + "; ".join(failures))


def _reason(error: Exception) -> str:
    return str(error) if isinstance(error, ImporterError) else f"{type(error).__name__}: {error}"


def _record_run(journal: Ledger, run_id: str, result: RunResult) -> None:
    """Keep each row's outcome in the ledger; a failure here is said, never lost in a traceback."""
    try:
        journal.finish_run(run_id, result.exit_code, _row_records(result.sheet, result.outcomes))
    except Exception as error:  # the ledger's disk is full or gone: the orders' own states are already committed
        result.notes.append(f"the rows of this run could not be kept in the ledger ({_reason(error)})")


def hold_over_budget(previewed: pd.DataFrame, max_total: Decimal, *, allow_unpriced: bool = False) -> Decimal:
    """Hold every previewed order when their previewed totals add up to more than ``max_total``.

    Returns the previewed total. The totals are added in integer fen
    (:mod:`importer.money`), so a thousand orders add up to the exact sum.
    Holding is done on the frame, so the create stage then finds nothing it
    may buy. An order the provider gave no price for (a provider with no
    documented preview) cannot be held to a budget: it is held too, unless
    ``allow_unpriced`` says the buyer saw that it has no price.
    """
    ready = previewed["status"] == str(Status.PREVIEWED)
    fen: pd.Series = previewed["order_total_fen"] if "order_total_fen" in previewed else previewed["order_total"]
    if "order_total_fen" in previewed:  # an analyst frame (from :func:`preview`): its exact hundredths
        total_fen = sum_fen_column(previewed.loc[ready, "order_total_fen"])
    else:
        total_fen = sum_fen(v for v in previewed.loc[ready, "order_total"] if str(v) not in ("", "None"))
    total = fen_to_yuan(total_fen)
    if Decimal(total_fen) > max_total * 100:
        previewed.loc[ready, "status"] = str(Status.HELD)
        previewed.loc[ready, "error"] = (
            f"held: the previewed total of all orders, {total}, is above --max-total {max_total}; nothing was bought"
        )
    elif not allow_unpriced:
        unpriced = ready & unpriced_orders(previewed, fen)
        previewed.loc[unpriced, "status"] = str(Status.HELD)
        previewed.loc[unpriced, "error"] = (
            f"held: the provider gives no price before buying, so --max-total {max_total} cannot be checked for "
            "this order; import it without --max-total to buy it at the provider's price"
        )
    return total


def unpriced_orders(previewed: pd.DataFrame, fen: pd.Series | None = None) -> pd.Series:
    """Rows of orders that no row gives a previewed total for (their provider documents no preview)."""
    if fen is None:
        fen = previewed["order_total_fen"] if "order_total_fen" in previewed else previewed["order_total"]
    priced = pd.Series([_is_amount(v) for v in fen.tolist()], index=fen.index, dtype=bool)
    keys = previewed["order_key"] if "order_key" in previewed else pd.Series(previewed.index, index=previewed.index)
    return ~priced.groupby(keys).transform("any").astype(bool)


def _is_amount(value: object) -> bool:
    """True for a money cell that holds an amount (not blank, None or a missing value)."""
    return bool(str(value).strip() not in ("", "None", "<NA>", "nan", "NaN"))


def sum_fen_column(values: pd.Series) -> int:
    """The exact sum of a ``<money>_fen`` column, whether it holds integers or their text (a stored frame)."""
    return sum(int(v) for v in values.tolist() if _is_amount(v))


def _row_records(sheet: OrderSheet, outcomes: pd.DataFrame) -> list[tuple[int, str, int, dict[str, str]]]:
    """Each row's outcome with where it came from, for the ledger's record of the run."""
    frame = sheet.frame
    return [
        (int(row_id), str(sheet_name), int(row), {str(k): str(v) for k, v in values.items()})
        for row_id, sheet_name, row, values in zip(
            outcomes.index,
            frame.loc[outcomes.index, "_sheet"],
            frame.loc[outcomes.index, "_row"],
            outcomes.to_dict("records"),
            strict=True,
        )
    ]


def export_run(ledger: str | Path | None, path: str | Path, run_id: str | None = None) -> Path:
    """Write the per-row results of an earlier import (the latest, or the run whose id starts with ``run_id``).

    The ledger keeps each row's sheet, Excel row and outcome (status, ids,
    amounts, message), never the sheet's own cells; the export therefore has
    ``sheet`` and ``row`` columns to find each row in the original file.
    """
    with open_existing(Path(ledger) if ledger is not None else None) as journal:
        runs = [r for r in journal.runs() if run_id is None or str(r["run_id"]).startswith(run_id)]
        if not runs or (run_id is not None and len(runs) > 1):
            what = "no import run" if not runs else f"{len(runs)} runs"
            raise InputError(f"{what} in {journal.path} matches '{run_id or 'latest'}'; see `order-importer status`")
        rows = journal.run_rows(str(runs[-1]["run_id"]))
    frame = pd.DataFrame(
        {
            "sheet": [r[1] for r in rows],
            "row": [str(r[2]) for r in rows],
            "_sheet": [r[1] for r in rows],
            "_row": [r[2] for r in rows],
        },
        index=pd.Index([r[0] for r in rows], name="row_id"),
    )
    outcomes = outcomes_frame({**r[3], "row_id": r[0]} for r in rows)
    return _write_results(OrderSheet(frame=frame), outcomes, errors_frame([]), Path(path))


def check_accounts(settings: Settings) -> dict[str, str]:
    """Try every configured account with a documented call that buys nothing.

    Per account: ``ok (...)`` naming the call, ``failed: ...`` with the reason,
    or ``not checked: ...`` when no document gives such a call (nothing is
    guessed at a provider that people pay through).
    """
    from .errors import ProviderError
    from .providers import provider_class

    results: dict[str, str] = {}
    for key, account in sorted(settings.accounts.items()):
        try:
            results[key] = provider_class(key)(account).check_credentials()
        except (ProviderError, ImporterError) as error:
            results[key] = f"failed: {error}"
    return results
