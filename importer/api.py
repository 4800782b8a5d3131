"""The pipeline as plain functions: each stage takes and returns DataFrames or small typed values.

A notebook calls them one at a time; the CLI calls :func:`run`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Literal

import pandas as pd

from .config import Settings, load_settings
from .errors import ImporterError
from .group import Grouping
from .group import group as _group
from .logs import log
from .models import SUCCESS_STATUSES, OrderDraft, OrderSheet, Status
from .money import fen_to_yuan, sum_fen
from .outcomes import (
    OUTCOME_COLUMNS,
    attach_column,
    attach_warnings,
    merge_outcomes,
    order_statuses,
    outcomes_frame,
    status_outcomes,
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
from .read.sheet import read_sheet
from .submit.ledger import Ledger, default_ledger_path
from .submit.orders import Progress, RetryPolicy, create_orders, preview_orders, reconcile
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
    frame = frame.reset_index(drop=True).astype(object).where(frame.notna().to_numpy(), "")
    frame = frame.map(lambda v: v if isinstance(v, str) else str(v)).astype(object)  # as the readers give it
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
    """Ask each provider to price every order; one row per order line, indexed by row id."""
    return preview_orders(_orders(orders), settings or load_settings(), progress=progress, policy=policy)


def create(
    orders: Grouping | Sequence[OrderDraft],
    previewed: pd.DataFrame,
    settings: Settings | None = None,
    *,
    progress: Progress | None = None,
    policy: RetryPolicy | None = None,
) -> pd.DataFrame:
    """Create the orders whose every line previewed; one row per line of those orders."""
    return create_orders(_orders(orders), previewed, settings or load_settings(), progress=progress, policy=policy)


def write_results(
    sheet: OrderSheet,
    outcomes: pd.DataFrame,
    errors: pd.DataFrame | None = None,
    path: str | Path | None = None,
) -> Path:
    """Write the results workbook (the user's sheet plus status columns, Summary and Errors)."""
    from .outcomes import errors_frame

    return _write_results(sheet, outcomes, errors if errors is not None else errors_frame([]), path)


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

    @property
    def counts(self) -> dict[str, int]:
        """Rows per status."""
        return {str(k): int(v) for k, v in self.outcomes["status"].value_counts().items()}

    @property
    def order_counts(self) -> dict[str, int]:
        """Orders per status: every distinct (provider, order_ref) of the sheet, with its rows' worst status.

        The one meaning of "orders" that the console, the Summary sheet,
        ``--summary-json`` and notifications all count by.
        """
        statuses = order_statuses(self.sheet.frame, self.outcomes) if len(self.outcomes) else pd.Series(dtype=str)
        return {str(k): int(v) for k, v in statuses.value_counts().items()}

    @property
    def orders(self) -> int:
        """How many orders the sheet holds (see :attr:`order_counts`)."""
        return sum(self.order_counts.values())

    @property
    def warning_rows(self) -> int:
        """How many rows carry a warning."""
        return int((self.outcomes["warning"].astype(str) != "").sum()) if "warning" in self.outcomes else 0

    @property
    def exit_code(self) -> int:
        """0: every row succeeded; 1: some rows failed or were held; 3: a provider was unavailable.

        3 means the run stopped calling a provider after repeated transient
        failures (its rows are NOT_ATTEMPTED): worth retrying later as it is.
        """
        statuses = self.outcomes["status"]
        if statuses.isin([str(s) for s in SUCCESS_STATUSES]).all():
            return EXIT_OK
        unavailable = (statuses == str(Status.NOT_ATTEMPTED)) & self.outcomes["error"].str.contains(
            UNAVAILABLE, regex=False
        )
        return EXIT_PROVIDER_UNAVAILABLE if unavailable.any() else EXIT_ROWS_FAILED


EXIT_OK, EXIT_ROWS_FAILED, EXIT_PROVIDER_UNAVAILABLE = 0, 1, 3
UNAVAILABLE = "provider unavailable"


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
) -> RunResult:
    """Read, validate, group and (depending on ``stage``) preview and create; then write results.

    An import keeps a ledger (default: ``order-importer.ledger.sqlite`` beside
    the results) so that re-running the same file never creates an order twice.
    """
    settings = settings or load_settings()
    order_sheet = load(path, provider=provider, sheet=sheet, mapping=mapping, settings=settings)
    report = validate(
        order_sheet,
        severity=settings.severity,
        decimal_separator=settings.decimal_separator,
        date_order=settings.date_order,
    )
    grouping = group(report)
    valid_rows = [line.row_id for order in grouping.orders for line in order.lines]
    layers = [
        status_outcomes(valid_rows, str(Status.VALID)),
        report.outcomes,
        grouping.outcomes,
    ]
    errors = pd.concat([report.errors, grouping.errors], ignore_index=True)
    output_path = Path(output) if output is not None else None
    if output_path is None and order_sheet.source is not None:
        output_path = default_output_path(order_sheet.source)
    result = RunResult(order_sheet, report, grouping, outcomes_frame([]), errors, notes=list(order_sheet.notes))

    def finish(extra_layers: list[pd.DataFrame]) -> None:
        notes = [report.warning_texts, *(layer["warning"] for layer in extra_layers if "warning" in layer)]
        result.outcomes = attach_warnings(merge_outcomes(*layers, *extra_layers), *notes)
        result.outcomes = attach_column(result.outcomes, "order_date_iso", report.order_dates)
        result.outcomes = attach_column(result.outcomes, "filled_in", pd.Series(order_sheet.filled_in, dtype=object))
        if write and output_path is not None:
            result.output = write_results(order_sheet, result.outcomes, errors, output_path)

    if stage == "validate" or not grouping.orders:
        finish([])
        return result
    if stage == "preview":
        previewed = preview(grouping, settings, progress=progress, policy=policy)
        finish([previewed[list(OUTCOME_COLUMNS)]])
        return result
    ledger_path = Path(ledger) if ledger is not None else settings.ledger
    if ledger_path is None:
        ledger_path = default_ledger_path(output_path or Path.cwd() / "orders.results.xlsx")
    with Ledger.open(ledger_path) as journal:
        run_id = uuid.uuid4().hex
        source = str(order_sheet.source or "<DataFrame>")
        log.info("run %s: importing %s", run_id, source, extra={"run_id": run_id, "file": source})
        journal.start_run(run_id, source)
        to_send, settled = reconcile(grouping.orders, settings, journal, policy=policy)
        previewed = preview_orders(to_send, settings, progress=progress, policy=policy, ledger=journal)
        if max_total is not None:
            hold_over_budget(previewed, max_total)
        created = create_orders(
            to_send, previewed, settings, progress=progress, policy=policy, ledger=journal, run_id=run_id
        )
        finish([settled[list(OUTCOME_COLUMNS)], previewed[list(OUTCOME_COLUMNS)], created[list(OUTCOME_COLUMNS)]])
        journal.finish_run(run_id, result.exit_code, _row_records(order_sheet, result.outcomes))
        log.info("run %s finished: %s", run_id, result.counts, extra={"run_id": run_id, "file": source})
    result.ledger = ledger_path
    return result


def hold_over_budget(previewed: pd.DataFrame, max_total: Decimal) -> Decimal:
    """Hold every previewed order when their previewed totals add up to more than ``max_total``.

    Returns the previewed total. The totals are added in integer fen
    (:mod:`importer.money`), so a thousand orders add up to the exact sum. Holding is done on the frame, so the create
    stage then finds nothing it may buy.
    """
    ready = previewed["status"] == str(Status.PREVIEWED)
    total_fen = sum_fen(v for v in previewed.loc[ready, "order_total"] if str(v) not in ("", "None"))
    total = fen_to_yuan(total_fen)
    if Decimal(total_fen) > max_total * 100:
        previewed.loc[ready, "status"] = str(Status.HELD)
        previewed.loc[ready, "error"] = (
            f"held: the previewed total of all orders, {total}, is above --max-total {max_total}; nothing was bought"
        )
    return total


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


def export_run(ledger: str | Path, path: str | Path, run_id: str | None = None) -> Path:
    """Write the per-row results of an earlier import (the latest, or the run whose id starts with ``run_id``).

    The ledger keeps each row's sheet, Excel row and outcome (status, ids,
    amounts, message), never the sheet's own cells; the export therefore has
    ``sheet`` and ``row`` columns to find each row in the original file.
    """
    from .errors import InputError
    from .outcomes import errors_frame

    with Ledger.open(ledger) as journal:
        runs = [r for r in journal.runs() if run_id is None or str(r["run_id"]).startswith(run_id)]
        if not runs or (run_id is not None and len(runs) > 1):
            what = "no import run" if not runs else f"{len(runs)} runs"
            raise InputError(f"{what} in {ledger} matches '{run_id or 'latest'}'; see `order-importer status`")
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


PROBE_EXTERNAL_ID = "OI-CHECK-CONFIG-PROBE"


def check_accounts(settings: Settings) -> dict[str, str]:
    """Try every configured account with an order lookup that buys nothing; '' per account that works.

    A lookup needs valid credentials (and, for Shanjing, a token renewal), so
    it proves the account can be used without creating anything.
    """
    from .errors import ProviderError
    from .providers import provider_class

    problems: dict[str, str] = {}
    for key, account in sorted(settings.accounts.items()):
        try:
            provider_class(key)(account).find_order(PROBE_EXTERNAL_ID)
            problems[key] = ""
        except (ProviderError, ImporterError) as error:
            problems[key] = f"failed: {error}"
        except NotImplementedError:
            problems[key] = ""  # configured, but this provider has no lookup to try
    return problems
