"""The ``order-importer`` command line: a thin shell over :mod:`importer.api`.

Exit codes, for scheduled runs: 0 every row succeeded or was skipped on
purpose; 1 some rows failed, were held, are UNKNOWN (see ``order-importer
unknown``) or need a look (an order_ref bought from another file); 2 the
input file, the configuration or the ledger is unusable (a ledger earlier
runs used that is missing or unreadable stops the run here, nothing sent);
3 a provider was unavailable and its rows were not attempted (retry later as
it is); 4 the results could not be written where asked and went to the
fallback place the run names. An inbox keeps a sheet with rows left to
settle (NOT_ATTEMPTED or UNKNOWN) and exits 3: run again later.
Heavy libraries are imported inside the commands so ``--help`` stays fast.
"""

from __future__ import annotations

import contextlib
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from .api import RunResult, Stage
    from .config import Account, Settings
    from .submit.ledger import Ledger, LedgerEntry
    from .submit.orders import Progress

EXIT_OK, EXIT_ROWS_FAILED, EXIT_INPUT = 0, 1, 2
INBOX_MAPPING = "mapping.toml"
"""A mapping file (or profile) in an inbox folder applies to every sheet imported from it."""

app = typer.Typer(
    name="order-importer",
    help="Import a spreadsheet of purchase orders into purchasing-agent APIs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts show their brackets ("[run] ledger", "[headers]") as written
)

FileArg = Annotated[Path, typer.Argument(help="The order sheet (.xlsx, .xlsm or .csv).", show_default=False)]
ProviderOpt = Annotated[
    str | None, typer.Option("--provider", "-p", help="Provider for rows whose provider cell is empty.")
]
SheetOpt = Annotated[str | None, typer.Option("--sheet", help="Import only this sheet of the workbook.")]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Results workbook (default: <input>.results.xlsx).")
]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="Config file (default: $ORDER_IMPORTER_CONFIG or ./importer.toml).")
]
SandboxOpt = Annotated[
    bool, typer.Option("--sandbox", help="Send to the bundled provider sandbox started for this run.")
]


@app.callback()
def _options(
    log_level: Annotated[
        str | None,
        typer.Option(help="DEBUG, INFO, WARNING or ERROR (default: INFO into a --log-file, WARNING on stderr)."),
    ] = None,
    log_format: Annotated[str, typer.Option(help="'text' lines or 'json' lines.")] = "text",
    log_file: Annotated[
        Path | None, typer.Option(help="Append the log here instead of stderr: a line per file and per order.")
    ] = None,
) -> None:
    """Turn a spreadsheet of purchase orders into orders at purchasing-agent APIs."""
    from .logs import configure

    try:
        configure(log_level or ("INFO" if log_file else "WARNING"), log_format, log_file)
    except ValueError as error:
        _stderr(f"error: {error}")
        raise typer.Exit(EXIT_INPUT) from None


def _stderr(message: str) -> None:
    typer.echo(message, err=True)


@contextlib.contextmanager
def _settings(config: Path | None, sandbox: bool) -> Iterator[Settings]:
    from .config import load_settings
    from .logs import add_secrets

    settings = load_settings(config)
    add_secrets([secret.reveal() for account in settings.accounts.values() for secret in account.credentials.values()])
    if not sandbox:
        yield settings
        return
    from .sandbox import Sandbox

    with Sandbox.start() as running:
        _stderr(f"sandbox running at {running.url}")
        yield settings.with_accounts(running.settings().accounts)


@dataclass
class _RunOptions:
    """What the validate / preview / import commands share."""

    provider: str | None = None
    sheet: str | None = None
    output: Path | None = None
    config: Path | None = None
    sandbox: bool = False
    ledger: Path | None = None
    max_total: Decimal | None = None
    mapping: str | None = None
    summary_json: Path | None = None
    notify: str | None = None
    fix: bool = False
    new_ledger: bool = False
    include_hidden: bool | None = None


def _run(stage: Stage, file: Path, options: _RunOptions) -> None:
    from .errors import ImporterError

    try:
        mapping = options.mapping
        if mapping is None and file.is_dir() and (file / INBOX_MAPPING).is_file():
            mapping = str(file / INBOX_MAPPING)  # an inbox names the profile of the sheets dropped into it
        with _settings(options.config, options.sandbox) as settings, progress_bar() as progress:
            from .api import run

            def run_file(path: Path, output: Path | None) -> RunResult:
                return run(
                    path,
                    stage=stage,
                    settings=settings,
                    provider=options.provider,
                    sheet=options.sheet,
                    output=output,
                    ledger=options.ledger,
                    progress=progress,
                    max_total=options.max_total,
                    mapping=mapping,
                    new_ledger=options.new_ledger,
                    include_hidden=options.include_hidden,
                )

            notify_url = options.notify or settings.notify_url
            if options.fix and file.is_file():
                file = _apply_fixes(file, options, settings)
            if file.is_dir() and stage == "import":
                _run_inbox(file, settings.output_dir, _notifying(run_file, notify_url), options.summary_json)
            result = _notifying(run_file, notify_url)(file, options.output)
    except ImporterError as error:
        _stderr(f"error: {error}")
        raise typer.Exit(getattr(error, "exit_code", EXIT_INPUT)) from None
    _print_summary(result)
    if options.summary_json:
        _write_json(options.summary_json, result_summary(result))
    raise typer.Exit(result.exit_code)


def _apply_fixes(file: Path, options: _RunOptions, settings: Settings) -> Path:
    """``--fix``: write a fixed copy of the sheet, list every change, and go on with the copy."""
    from .api import load
    from .validate.fixes import apply, suggest

    sheet = load(file, provider=options.provider, sheet=options.sheet, mapping=options.mapping, settings=settings)
    fixes = suggest(sheet, settings.decimal_separator)
    if not fixes:
        _stderr("--fix: nothing to fix")
        return file
    target = apply(sheet, fixes)
    _stderr(f"--fix: {len(fixes)} cells changed in {target} (the original is untouched):")
    for fix in fixes:
        _stderr(f"  {fix.describe()}")
    return target


def _notifying(
    run_file: Callable[[Path, Path | None], RunResult], url: str | None
) -> Callable[[Path, Path | None], RunResult]:
    """Wrap a run so its summary is posted to the webhook when it ends."""
    if not url:
        return run_file

    def run_and_notify(path: Path, output: Path | None) -> RunResult:
        from .schedule.notify import notify

        result = run_file(path, output)
        if not notify(url, result):
            _stderr("warning: the run notification could not be delivered")
        return result

    return run_and_notify


def _run_inbox(
    folder: Path,
    output_dir: Path | None,
    run_file: Callable[[Path, Path | None], RunResult],
    summary_json: Path | None,
) -> None:
    from .logs import log
    from .schedule.inbox import closing_line, folder_exit_code, process_inbox, summary

    items = process_inbox(folder, output_dir, run_file)
    for item in items:
        typer.echo(item.line())
        if item.result is None:  # refused before a run: the run's own log line is missing
            log.warning("%s", item.line(), extra={"file": str(item.source), "status": str(item.exit_code)})
    if items:
        typer.echo(closing_line(items))
        log.info("inbox %s: %s", folder, closing_line(items), extra={"file": str(folder)})
    else:
        typer.echo(f"no new order sheets in {folder}")
    if summary_json:
        _write_json(summary_json, summary(items))
    raise typer.Exit(folder_exit_code(items))


def result_summary(result: RunResult) -> dict[str, object]:
    """The JSON written by ``--summary-json``: what a monitor needs to know about one run."""
    return {
        "file": str(result.sheet.source or ""),
        "exit_code": result.exit_code,
        "rows": len(result.outcomes),
        "orders": len(result.orders),
        "counts": result.counts,
        "order_counts": result.order_counts,
        "warning_rows": result.warning_rows,
        "mapping_profile": result.sheet.profile,
        "output": str(result.output or ""),
        "results_elsewhere": result.results_elsewhere,
        "ledger": str(result.ledger or ""),
        "notes": result.notes,
    }


def _write_json(path: Path, value: object) -> None:
    import json

    path.write_text(json.dumps(value, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


@contextlib.contextmanager
def progress_bar() -> Iterator[Progress]:
    """A progress bar on stderr, shown while orders are sent (also by the online benchmark)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("orders"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = bar.add_task("orders", total=None)

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    with bar:
        yield update


def _print_summary(result: RunResult) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for note in result.notes:
        console.print(f"note: {note}", markup=False, highlight=False)
    title = f"{len(result.outcomes)} rows, {len(result.orders)} orders"
    table = Table(title=title, title_justify="left")
    for column in ("status", "rows", "orders"):
        table.add_column(column, justify="left" if column == "status" else "right")
    orders = result.order_counts
    for status, count in sorted(result.counts.items()):
        table.add_row(status, str(count), str(orders.get(status, 0)))
    console.print(table)
    outcomes = result.outcomes
    if result.bought:
        from .outcomes import totals_text

        console.print(f"bought: {totals_text(result.bought)}", markup=False, highlight=False)
    _print_skipped(console, result)
    attention = outcomes[(outcomes["error"] != "") & (outcomes["status"] != "SKIPPED")]
    _print_examples(console, result, attention, "error", "rows need attention")
    if "warning" in outcomes:
        _print_examples(console, result, outcomes[outcomes["warning"] != ""], "warning", "rows have warnings")
    if result.output:
        where = "NOT where asked; results written instead to" if result.results_elsewhere else "results written to"
        console.print(f"{where} {result.output}", markup=False)
    elif result.results_elsewhere:
        console.print("the results could NOT be written: see the notes above; the ledger keeps every order")


def _print_skipped(console: Console, result: RunResult) -> None:
    """How many rows were skipped and why, with a few of them."""
    from collections import Counter

    from .read.skips import skip_kind

    skipped = result.outcomes[result.outcomes["status"] == "SKIPPED"]
    if not len(skipped):
        return
    kinds = Counter(skip_kind(str(error)) or "other" for error in skipped["error"])
    console.print(f"{len(skipped)} rows skipped ({', '.join(f'{n} {kind}' for kind, n in sorted(kinds.items()))}):")
    places = result.sheet.frame.loc[skipped.index[:5], ["_sheet", "_row"]].to_dict("records")
    for place, error in zip(places, skipped["error"].head(5), strict=True):
        console.print(f"  {place['_sheet']} row {place['_row']}: {error}", markup=False, highlight=False)


_EXAMPLES = 8


def _print_examples(console: Any, result: RunResult, rows: Any, column: str, what: str) -> None:
    """The count of rows with an error (or a warning), then the first few with where they are."""
    if not len(rows):
        return
    console.print(f"{len(rows)} {what}, for example:" if len(rows) > _EXAMPLES else f"{len(rows)} {what}:")
    first = rows.head(_EXAMPLES)
    places = result.sheet.frame.loc[first.index, ["_sheet", "_row"]].to_dict("records")
    for place, text in zip(places, first[column], strict=True):
        console.print(f"  {place['_sheet']} row {place['_row']}: {text}", markup=False, highlight=False)


MappingOpt = Annotated[
    str | None,
    typer.Option(
        "--mapping",
        metavar="FILE|NAME",
        help='A mapping file ([headers] "their header" = "column", ignore, [values.COLUMN], split, group_by) '
        "or the name of a built-in or [mappings.NAME] profile (default: picked by the sheet's headers).",
    ),
]
SummaryOpt = Annotated[Path | None, typer.Option("--summary-json", help="Write a JSON summary of the run here.")]
FixOpt = Annotated[
    bool, typer.Option("--fix", help="Apply the safe fixes to a copy (FILE.fixed.xlsx), list them, and use it.")
]
NotifyOpt = Annotated[str | None, typer.Option("--notify", help="POST the run summary as JSON to this webhook URL.")]
HiddenOpt = Annotated[
    bool | None,
    typer.Option(
        "--include-hidden/--skip-hidden",
        help="Read rows hidden by a filter or by hand as orders (default: skipped; [run] include_hidden).",
        show_default=False,
    ),
]


@app.command()
def validate(
    file: FileArg,
    provider: ProviderOpt = None,
    sheet: SheetOpt = None,
    output: OutputOpt = None,
    config: ConfigOpt = None,
    mapping: MappingOpt = None,
    summary_json: SummaryOpt = None,
    notify: NotifyOpt = None,
    fix: FixOpt = False,
    include_hidden: HiddenOpt = None,
) -> None:
    """Check the sheet and write the results workbook; nothing is sent."""
    options = _RunOptions(
        provider,
        sheet,
        output,
        config,
        False,
        None,
        None,
        mapping,
        summary_json,
        notify,
        fix,
        include_hidden=include_hidden,
    )
    _run("validate", file, options)


@app.command()
def preview(
    file: FileArg,
    provider: ProviderOpt = None,
    sheet: SheetOpt = None,
    output: OutputOpt = None,
    config: ConfigOpt = None,
    sandbox: SandboxOpt = False,
    mapping: MappingOpt = None,
    summary_json: SummaryOpt = None,
    notify: NotifyOpt = None,
    fix: FixOpt = False,
    include_hidden: HiddenOpt = None,
) -> None:
    """Validate, then ask each provider to price every order; nothing is bought."""
    options = _RunOptions(
        provider,
        sheet,
        output,
        config,
        sandbox,
        None,
        None,
        mapping,
        summary_json,
        notify,
        fix,
        include_hidden=include_hidden,
    )
    _run("preview", file, options)


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="The order sheet, or an inbox folder of sheets to import once each.")],
    provider: ProviderOpt = None,
    sheet: SheetOpt = None,
    output: OutputOpt = None,
    config: ConfigOpt = None,
    sandbox: SandboxOpt = False,
    ledger: Annotated[
        Path | None,
        typer.Option("--ledger", help="The ledger (default: [run] ledger, else one per user in the data folder)."),
    ] = None,
    new_ledger: Annotated[
        bool,
        typer.Option(
            "--new-ledger", help="Start an empty ledger where an earlier one is missing (it may buy orders again)."
        ),
    ] = False,
    max_total: Annotated[
        str | None, typer.Option("--max-total", help="Buy nothing if the previewed total is above this amount.")
    ] = None,
    mapping: MappingOpt = None,
    summary_json: SummaryOpt = None,
    notify: NotifyOpt = None,
    fix: FixOpt = False,
    include_hidden: HiddenOpt = None,
) -> None:
    """Validate, preview and create the orders, then write the results workbook."""
    options = _RunOptions(
        provider,
        sheet,
        output,
        config,
        sandbox,
        ledger,
        _amount(max_total),
        mapping,
        summary_json,
        notify,
        fix,
        include_hidden=include_hidden,
    )
    options.new_ledger = new_ledger
    _run("import", file, options)


def _amount(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text)
    except ArithmeticError:
        raise typer.BadParameter(f"--max-total wants an amount like 5000 or 1234.50, got '{text}'") from None
    if not value.is_finite() or value < 0:
        raise typer.BadParameter(f"--max-total wants an amount of 0 or more, got '{text}'")
    return value


LedgerOpt = Annotated[
    Path | None,
    typer.Option("--ledger", help="The ledger (default: [run] ledger, else one per user in the data folder)."),
]


@contextlib.contextmanager
def _existing_ledger(ledger: Path | None, config: Path | None, *, write: bool = False) -> Iterator[Ledger]:
    """The ledger a command reads (or, with ``write``, changes); exit 2 when unusable.

    ``--ledger``, else ``[run] ledger``, else the default.
    """
    from .config import load_settings
    from .errors import ImporterError
    from .submit.ledger import open_existing

    try:
        chosen = ledger if ledger is not None else load_settings(config).ledger
        with open_existing(chosen, write=write) as journal:
            yield journal
    except ImporterError as error:
        _stderr(f"error: {error}")
        raise typer.Exit(EXIT_INPUT) from None


@app.command()
def status(ledger: LedgerOpt = None, config: ConfigOpt = None) -> None:
    """List the orders in a ledger per state, and the runs recorded in it (safe while an import runs)."""
    with _existing_ledger(ledger, config) as journal:
        path, counts, entries, runs = journal.path, journal.counts(), journal.entries(), journal.runs()
    for line in status_lines(path, counts, entries, runs):
        typer.echo(line)


def status_lines(
    ledger: Path, counts: dict[str, int], entries: list[LedgerEntry], runs: list[dict[str, object]]
) -> list[str]:
    """The ``status`` report as lines of at most 80 characters: orders per state, open orders, the last runs."""
    lines = [f"orders in {ledger}:"]
    lines += [f"  {state:<10} {count:>8}" for state, count in sorted(counts.items())] or ["  (none)"]
    for entry in entries:
        if entry.state in ("SENDING", "UNKNOWN"):
            lines.append(f"{entry.state}: {entry.provider} order_ref {entry.order_ref}")
            lines.append(f"  external id {entry.key}")
            if entry.message:
                lines += textwrap.wrap(entry.message, 78, initial_indent="  ", subsequent_indent="  ")
    if any(entry.state in ("SENDING", "UNKNOWN") for entry in entries):
        lines.append("settle them: see `order-importer unknown`")
    lines.append(f"runs ({len(runs)}, latest last):")
    lines.append(f"  {'run':<8}  {'started (UTC)':<19}  {'exit':>4}  file")
    for run in runs[-20:]:
        started = str(run["started_at"]).replace("T", " ")[:19]
        code = "" if run["exit_code"] is None else str(run["exit_code"])
        name = Path(str(run["source"])).name
        lines.append(f"  {str(run['run_id'])[:8]:<8}  {started:<19}  {code:>4}  {name}"[:80])
    return lines


@app.command()
def unknown(ledger: LedgerOpt = None, config: ConfigOpt = None) -> None:
    """List every unsettled order (SENDING or UNKNOWN): what it is, where it came from, and how to settle it."""
    with _existing_ledger(ledger, config) as journal:
        entries = journal.unsettled()
        if not entries:
            typer.echo(f"no unsettled orders in {journal.path}")
            return
        typer.echo(f"{len(entries)} unsettled orders in {journal.path}:")
        for entry in entries:
            typer.echo("")
            typer.echo(describe_unsettled(entry, journal.path))


def describe_unsettled(entry: LedgerEntry, ledger: Path, width: int = 80) -> str:
    """One unsettled order as a few lines of at most ``width`` characters."""
    import shlex
    import textwrap

    from .submit.ledger import default_ledger_path

    where = "" if ledger.resolve() == default_ledger_path().resolve() else f" --ledger {shlex.quote(str(ledger))}"
    sent = entry.sent_at.replace("T", " ").replace("+00:00", " UTC") if entry.sent_at else "never recorded"
    fields = [
        f"{entry.state} {entry.provider} (account {entry.account}) order_ref {entry.order_ref}",
        f"external id {entry.key}",
        f"sent {sent}; amount {entry.amount or 'unknown'}",
        f"from {entry.source or 'an unknown file'}, rows {entry.rows or 'unknown'}",
    ]
    if entry.message:
        fields.append(f"why: {entry.message}")
    fields.append(f"found it at the provider: order-importer resolve {entry.key} --created ORDER_ID{where}")
    fields.append(f"it is not there: order-importer resolve {entry.key} --absent{where}")
    wrap = textwrap.TextWrapper(width=width, initial_indent="  ", subsequent_indent="    ", break_on_hyphens=False)
    first, *rest = fields
    heading = textwrap.fill(first, width=width, subsequent_indent="    ", break_on_hyphens=False)
    return "\n".join([heading, *map(wrap.fill, rest)])


@app.command()
def resolve(
    external_id: Annotated[str, typer.Argument(help="The external id `order-importer unknown` shows.")],
    created: Annotated[
        str | None, typer.Option("--created", help="The provider's order id: the order is there (CREATED).")
    ] = None,
    absent: Annotated[
        bool, typer.Option("--absent", help="The provider has no such order: the next run sends it again.")
    ] = False,
    note: Annotated[str, typer.Option("--note", help="What you checked, kept in the ledger.")] = "",
    ledger: LedgerOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Record what you found at the provider for an unsettled order, with the time and a note."""
    from .errors import LedgerConflict
    from .submit.ledger import UNSETTLED

    if (created is None) == (not absent):
        _stderr("error: give exactly one of --created PROVIDER_ORDER_ID or --absent")
        raise typer.Exit(EXIT_INPUT)
    with _existing_ledger(ledger, config, write=True) as journal:
        entry = journal.get(external_id)
        if entry is None or entry.state not in UNSETTLED:
            state = "not in the ledger" if entry is None else f"{entry.state}, not unsettled"
            _stderr(f"error: order {external_id} is {state}; nothing was changed")
            raise typer.Exit(EXIT_INPUT)
        try:
            if created is not None:
                journal.resolve_created(external_id, created.strip(), note)
            else:
                journal.resolve_absent(external_id, note)
        except LedgerConflict as error:
            _stderr(f"error: {error}")
            raise typer.Exit(EXIT_INPUT) from None
    outcome = f"CREATED as {created}" if created is not None else "absent: the next run sends it again"
    typer.echo(f"order {entry.order_ref} at {entry.provider} (external id {external_id}) recorded {outcome}")


@app.command("check-config")
def check_config(config: ConfigOpt = None, sandbox: SandboxOpt = False) -> None:
    """Validate the config and try each account's credentials with a documented call that buys nothing."""
    from .errors import ImporterError

    try:
        with _settings(config, sandbox) as settings:
            from .api import check_accounts

            checks = check_accounts(settings)
            notes = {key: lookup_note(settings.account(key)) for key in checks}
    except ImporterError as error:
        _stderr(f"error: {error}")
        raise typer.Exit(EXIT_INPUT) from None
    if not checks:
        _stderr("error: the config has no [providers.*] section")
        raise typer.Exit(EXIT_INPUT)
    for provider, result in checks.items():
        typer.echo(f"{provider}: {result}")
        if notes[provider]:
            typer.echo(f"  {notes[provider]}")
    failed = any(result.startswith("failed") for result in checks.values())
    raise typer.Exit(EXIT_INPUT if failed else EXIT_OK)


def lookup_note(account: Account) -> str:
    """How reconciliation uses this provider's lookup, from its declared capabilities and the account's options."""
    from .errors import ConfigError
    from .providers import provider_class
    from .submit.orders import AbsenceRule

    try:
        cls = provider_class(account.provider)
    except ConfigError:
        return ""  # the account's own line says what is wrong
    lookup = cls.capabilities.lookup
    if lookup.value is None:
        return "no order lookup: unsettled orders stay UNKNOWN until resolved by hand"
    rule = AbsenceRule.of(cls(account))
    trust = (
        f'its "no such order" is trusted {rule.settle_seconds:g} s after a send ({rule.why})'
        if rule.trusted
        else f'its "no such order" is not trusted: {rule.why}'
    )
    return f"lookup {lookup.value.method} {lookup.value.path} ({lookup.basis}) finds orders; {trust}"


@app.command()
def export(
    run_id: Annotated[
        str | None, typer.Argument(help="A run id or its first characters (default: the latest).")
    ] = None,
    ledger: LedgerOpt = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="The workbook to write.")] = Path("run.results.xlsx"),
    config: ConfigOpt = None,
) -> None:
    """Re-export the per-row results of an earlier import from its ledger."""
    from .api import export_run
    from .config import load_settings
    from .errors import ImporterError

    try:
        path = export_run(ledger if ledger is not None else load_settings(config).ledger, output, run_id)
    except ImporterError as error:
        _stderr(f"error: {error}")
        raise typer.Exit(EXIT_INPUT) from None
    typer.echo(f"wrote {path}")


@app.command()
def template(
    provider: Annotated[str, typer.Argument(help="A provider key, or 'all' for every provider in one sheet.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File, or a folder for 'all' (one per provider).")
    ] = None,
) -> None:
    """Write an .xlsx order template: header notes, drop-downs, text-formatted id columns, an example order."""
    from .errors import ImporterError
    from .templates import ALL, write_all, write_template

    try:
        if provider == ALL and (output is None or output.suffix == ""):
            for path in write_all(output or Path("templates")):
                typer.echo(f"wrote {path}")
            return
        target = write_template(provider, output or Path(f"{provider}-template.xlsx"))
    except ImporterError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_INPUT) from None
    typer.echo(f"wrote {target}")


@app.command()
def sandbox(
    host: Annotated[str, typer.Option(help="Loopback address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0 picks a free one).")] = 8765,
    latency: Annotated[float, typer.Option(help="Seconds added to every call.")] = 0.0,
    error_rate: Annotated[float, typer.Option(help="Share of calls answered HTTP 500 (nothing done).")] = 0.0,
    rate_503: Annotated[float, typer.Option(help="Share of calls answered HTTP 503.")] = 0.0,
    rate_429: Annotated[float, typer.Option(help="Share of calls answered HTTP 429 with Retry-After.")] = 0.0,
    retry_after: Annotated[float, typer.Option(help="Seconds sent in Retry-After.")] = 1.0,
    reset_rate: Annotated[float, typer.Option(help="Share of connections closed without an answer.")] = 0.0,
    stall_rate: Annotated[float, typer.Option(help="Share of calls that stall past the client's timeout.")] = 0.0,
    stall: Annotated[float, typer.Option(help="Seconds a stalled call waits.")] = 15.0,
    drop_after_commit: Annotated[
        float, typer.Option(help="Share of creates that make the order, then drop the connection.")
    ] = 0.0,
    error_after_commit: Annotated[
        float, typer.Option(help="Share of creates that make the order, then answer HTTP 500.")
    ] = 0.0,
    rate_limit: Annotated[float | None, typer.Option(help="Calls per second per provider; more get 429.")] = None,
    endpoint_latency: Annotated[
        list[str] | None, typer.Option(help="PATH=SECONDS added to calls whose path ends with PATH (repeatable).")
    ] = None,
    token_lifetime: Annotated[float | None, typer.Option(help="Seconds a Shanjing access token lives.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for repeatable faults.")] = None,
    create_delay: Annotated[
        float, typer.Option(help="Seconds a create takes; the order is made, and visible to lookups, only then.")
    ] = 0.0,
    state: Annotated[
        Path | None, typer.Option("--state", help="Folder that keeps created orders across restarts.")
    ] = None,
    lookup_answer: Annotated[
        str, typer.Option(help="Bend lookup answers: as-is, null-data, missing-keys, error-envelope, http-500.")
    ] = "as-is",
) -> None:
    """Run the provider sandbox until interrupted, and print a config that points at it."""
    from .sandbox import Faults, LookupAnswer, serve

    try:
        bent = LookupAnswer(lookup_answer)
    except ValueError:
        raise typer.BadParameter(f"--lookup-answer is one of {', '.join(a.value for a in LookupAnswer)}") from None
    if create_delay < 0:
        raise typer.BadParameter("--create-delay must not be negative")
    faults = Faults(
        lookup_answer=bent,
        latency=latency,
        error_rate=error_rate,
        rate_503=rate_503,
        rate_429=rate_429,
        retry_after=retry_after,
        reset_rate=reset_rate,
        stall_rate=stall_rate,
        stall=stall,
        drop_after_commit=drop_after_commit,
        error_after_commit=error_after_commit,
        rate_limit=rate_limit,
        endpoint_latency=_endpoint_latency(endpoint_latency or []),
        seed=seed,
    )
    serve(host, port, faults, token_lifetime=token_lifetime, create_delay=create_delay, state_dir=state)


catalogue_app = typer.Typer(
    help="The product catalogue: your own SKU (商家编码, Lineitem sku) -> a provider's item_id and sku_id.",
    no_args_is_help=True,
)
app.add_typer(catalogue_app, name="catalogue")


@catalogue_app.command("add")
def catalogue_add(
    sku_code: Annotated[str, typer.Argument(help="Your SKU, as the exports write it (商家编码, Lineitem sku).")],
    item_id: Annotated[str, typer.Option("--item-id", help="The provider's product id (offerId, item id).")],
    sku_id: Annotated[str, typer.Option("--sku-id", help="The provider's SKU id (1688: the specId).")] = "",
    provider: Annotated[str, typer.Option("--provider", "-p", help="The provider key rows of this SKU go to.")] = "",
    file: Annotated[
        Path | None, typer.Option("--file", help="The catalogue CSV (default: [run] catalogue in the config).")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Add one SKU to the catalogue (a CSV, made with its header when it does not exist yet)."""
    from .errors import ImporterError
    from .read.catalogue import Entry, add_entry

    try:
        target = file
        if target is None:
            from .config import load_settings

            target = load_settings(config).catalogue
        if target is None:
            raise typer.BadParameter("name the catalogue with --file, or set [run] catalogue in the config")
        written = add_entry(target, Entry(sku_code.strip(), item_id.strip(), sku_id.strip(), provider.strip()))
    except ImporterError as error:
        _stderr(f"error: {error}")
        raise typer.Exit(EXIT_INPUT) from None
    typer.echo(f"added {sku_code} -> item_id {item_id}" + (f", sku_id {sku_id}" if sku_id else "") + f" to {written}")


def _endpoint_latency(pairs: list[str]) -> dict[str, float]:
    latency: dict[str, float] = {}
    for pair in pairs:
        path, _, seconds = pair.rpartition("=")
        try:
            latency[path] = float(seconds)
        except ValueError:
            raise typer.BadParameter(f"--endpoint-latency wants PATH=SECONDS, got '{pair}'") from None
    return latency


users_app = typer.Typer(help="Manage the team server's users (names, roles, password hashes).", no_args_is_help=True)
app.add_typer(users_app, name="users")


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The name the user signs in with.")],
    role: Annotated[str, typer.Option("--role", help="viewer (upload, check, preview), buyer (also buy), admin.")],
    config: ConfigOpt = None,
) -> None:
    """Add a user (or give an existing one a new password and role); the password is asked for, or read from stdin."""
    from .errors import ImporterError
    from .web.config import load_server_config
    from .web.users import Role, UserFile

    try:
        chosen = Role(role)
    except ValueError:
        raise typer.BadParameter(f"--role must be viewer, buyer or admin, got '{role}'") from None
    try:
        users = UserFile(load_server_config(config).users_file)
        users.add(name, chosen, _read_password())
    except ImporterError as error:
        _stderr(f"error: {error}")
        raise typer.Exit(EXIT_INPUT) from None
    typer.echo(f"{name} can sign in as {chosen} ({users.path})")


@users_app.command("list")
def users_list(config: ConfigOpt = None) -> None:
    """List the users and their roles (never their passwords)."""
    from .web.config import load_server_config
    from .web.users import UserFile

    for name, role in sorted(UserFile(load_server_config(config).users_file).names().items()):
        typer.echo(f"{name}\t{role}")


@contextlib.contextmanager
def _sandbox_ledger(settings: Settings, sandbox: bool) -> Iterator[Settings]:
    """With ``--sandbox``, a ledger of its own that ends with the sandbox (whose orders end with it too)."""
    if not sandbox:
        yield settings
        return
    import tempfile
    from dataclasses import replace

    with tempfile.TemporaryDirectory(prefix="order-importer-sandbox-") as folder:
        yield replace(settings, ledger=Path(folder) / "sandbox.ledger.sqlite")


def _read_password() -> str:
    """A new password from a hidden prompt (typed twice), or the first line of stdin when it is not a terminal."""
    import sys

    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    return password


@app.command()
def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on; beyond loopback only when users exist.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0 picks a free one).")] = 8080,
    config: ConfigOpt = None,
    sandbox: SandboxOpt = False,
) -> None:
    """Run the team server: upload, check, preview and buy from a browser."""
    from .errors import ImporterError

    try:
        from .web.serve import run_server
    except ImportError as error:
        _stderr(
            f"error: the team server needs the web extra ({error.name} is missing): pip install 'order-importer[web]'"
        )
        raise typer.Exit(EXIT_INPUT) from None
    try:
        with _settings(config, sandbox) as settings, _sandbox_ledger(settings, sandbox) as used:
            run_server(used, config, host, port, echo=typer.echo)
    except ImporterError as error:
        _stderr(f"error: {error}")
        raise typer.Exit(EXIT_INPUT) from None


def main() -> None:
    """Console-script entry point."""
    app(prog_name="order-importer")


if __name__ == "__main__":  # pragma: no cover
    main()
