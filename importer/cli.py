"""The ``order-importer`` command line: a thin shell over :mod:`importer.api`.

Exit codes, for scheduled runs: 0 every row succeeded, 1 some rows failed or
were held, 2 the input file or the configuration is unusable.
Heavy libraries are imported inside the commands so ``--help`` stays fast.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from .api import RunResult, Stage
    from .config import Settings
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
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING or ERROR.")] = "WARNING",
    log_format: Annotated[str, typer.Option(help="'text' lines or 'json' lines.")] = "text",
    log_file: Annotated[Path | None, typer.Option(help="Write the log here instead of stderr.")] = None,
) -> None:
    """Turn a spreadsheet of purchase orders into orders at purchasing-agent APIs."""
    from .logs import configure

    try:
        configure(log_level, log_format, log_file)
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
    from .schedule.inbox import folder_exit_code, process_inbox, summary

    items = process_inbox(folder, output_dir, run_file)
    for item in items:
        state = f"exit {item.exit_code}" + (f": {item.error}" if item.error else "")
        typer.echo(f"{item.source.name} -> {item.moved_to} ({state})")
    if not items:
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
        "orders": result.orders,
        "counts": result.counts,
        "order_counts": result.order_counts,
        "warning_rows": result.warning_rows,
        "mapping_profile": result.sheet.profile,
        "output": str(result.output or ""),
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
    title = f"{len(result.outcomes)} rows, {result.orders} orders"
    table = Table(title=title, title_justify="left")
    for column in ("status", "rows", "orders"):
        table.add_column(column, justify="left" if column == "status" else "right")
    orders = result.order_counts
    for status, count in sorted(result.counts.items()):
        table.add_row(status, str(count), str(orders.get(status, 0)))
    console.print(table)
    outcomes = result.outcomes
    _print_examples(console, result, outcomes[outcomes["error"] != ""], "error", "rows need attention")
    if "warning" in outcomes:
        _print_examples(console, result, outcomes[outcomes["warning"] != ""], "warning", "rows have warnings")
    if result.output:
        console.print(f"results written to {result.output}", markup=False)


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
        help='A mapping file (\\[headers] "their header" = "column", ignore, \\[values.COLUMN], split, group_by) '
        "or the name of a built-in or \\[mappings.NAME] profile (default: picked by the sheet's headers).",
    ),
]
SummaryOpt = Annotated[Path | None, typer.Option("--summary-json", help="Write a JSON summary of the run here.")]
FixOpt = Annotated[
    bool, typer.Option("--fix", help="Apply the safe fixes to a copy (FILE.fixed.xlsx), list them, and use it.")
]
NotifyOpt = Annotated[str | None, typer.Option("--notify", help="POST the run summary as JSON to this webhook URL.")]


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
) -> None:
    """Check the sheet and write the results workbook; nothing is sent."""
    options = _RunOptions(provider, sheet, output, config, False, None, None, mapping, summary_json, notify, fix)
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
) -> None:
    """Validate, then ask each provider to price every order; nothing is bought."""
    options = _RunOptions(provider, sheet, output, config, sandbox, None, None, mapping, summary_json, notify, fix)
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
        Path | None, typer.Option("--ledger", help="The ledger (default: [run] ledger, else beside the results).")
    ] = None,
    max_total: Annotated[
        str | None, typer.Option("--max-total", help="Buy nothing if the previewed total is above this amount.")
    ] = None,
    mapping: MappingOpt = None,
    summary_json: SummaryOpt = None,
    notify: NotifyOpt = None,
    fix: FixOpt = False,
) -> None:
    """Validate, preview and create the orders, then write the results workbook."""
    options = _RunOptions(
        provider, sheet, output, config, sandbox, ledger, _amount(max_total), mapping, summary_json, notify, fix
    )
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


LedgerOpt = Annotated[Path, typer.Option("--ledger", help="The ledger file.")]


@app.command()
def status(ledger: LedgerOpt = Path("order-importer.ledger.sqlite")) -> None:
    """List the orders in a ledger per state, and the runs recorded in it."""
    from rich.console import Console
    from rich.table import Table

    from .submit.ledger import Ledger

    if not ledger.exists():
        _stderr(f"error: no ledger at {ledger}")
        raise typer.Exit(EXIT_INPUT)
    console = Console()
    with Ledger.open(ledger) as journal:
        counts = journal.counts()
        table = Table(title=f"orders in {ledger}", title_justify="left")
        for column in ("state", "orders"):
            table.add_column(column)
        for state, count in sorted(counts.items()):
            table.add_row(state, str(count))
        console.print(table)
        for entry in journal.entries():
            if entry.state in ("SENDING", "UNKNOWN"):
                console.print(
                    f"{entry.state}: {entry.provider} order_ref {entry.order_ref}, external id {entry.key}"
                    f" {entry.message}",
                    markup=False,
                )
        runs = Table(title="runs", title_justify="left")
        for column in ("run_id", "source", "started", "exit"):
            runs.add_column(column)
        for run in journal.runs():
            runs.add_row(run["run_id"], run["source"], run["started_at"], str(run["exit_code"]))
        console.print(runs)


@app.command("check-config")
def check_config(config: ConfigOpt = None, sandbox: SandboxOpt = False) -> None:
    """Validate the config and try each account's credentials with a harmless lookup; nothing is bought."""
    from .errors import ImporterError

    try:
        with _settings(config, sandbox) as settings:
            from .api import check_accounts

            checks = check_accounts(settings)
    except ImporterError as error:
        _stderr(f"error: {error}")
        raise typer.Exit(EXIT_INPUT) from None
    if not checks:
        _stderr("error: the config has no [providers.*] section")
        raise typer.Exit(EXIT_INPUT)
    for provider, problem in checks.items():
        typer.echo(f"{provider}: {problem or 'ok'}")
    raise typer.Exit(EXIT_OK if not any(checks.values()) else EXIT_INPUT)


@app.command()
def export(
    run_id: Annotated[
        str | None, typer.Argument(help="A run id or its first characters (default: the latest).")
    ] = None,
    ledger: LedgerOpt = Path("order-importer.ledger.sqlite"),
    output: Annotated[Path, typer.Option("--output", "-o", help="The workbook to write.")] = Path("run.results.xlsx"),
) -> None:
    """Re-export the per-row results of an earlier import from its ledger."""
    from .api import export_run
    from .errors import ImporterError

    if not ledger.exists():
        _stderr(f"error: no ledger at {ledger}")
        raise typer.Exit(EXIT_INPUT)
    try:
        path = export_run(ledger, output, run_id)
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
) -> None:
    """Run the provider sandbox until interrupted, and print a config that points at it."""
    from .sandbox import Faults, serve

    faults = Faults(
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
    serve(host, port, faults, token_lifetime=token_lifetime)


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
        Path | None, typer.Option("--file", help="The catalogue CSV (default: \\[run] catalogue in the config).")
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


def main() -> None:
    """Console-script entry point."""
    app(prog_name="order-importer")


if __name__ == "__main__":  # pragma: no cover
    main()
