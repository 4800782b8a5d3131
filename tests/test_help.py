"""Help texts read as written: brackets shown, not eaten as terminal markup; status fits 80 columns."""

import re

import pytest
import typer
from typer.testing import CliRunner

from importer.cli import app

COMMANDS = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_help_text_shows_its_brackets(command):
    group = typer.main.get_command(app)
    params = group.commands[command].params + group.params  # type: ignore[attr-defined]
    wanted = [str(p.help) for p in params if "[" in str(getattr(p, "help", None) or "")]
    shown = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "80"}).output
    flat = re.sub(r"\s+", " ", shown)
    for text in wanted:
        assert re.sub(r"\s+", " ", text) in flat, f"{command}: {text!r} not shown as written"


def test_import_help_names_the_run_and_headers_tables():
    shown = re.sub(r"\s+", " ", CliRunner().invoke(app, ["import", "--help"], env={"COLUMNS": "80"}).output)
    assert "(default: [run] ledger, else one per user in the data folder)" in shown
    assert '[headers] "their header" = "column", ignore, [values.COLUMN], split, group_by' in shown


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_fits_80_columns(command):
    shown = CliRunner().invoke(app, [*([command] if command else []), "--help"], env={"COLUMNS": "80"}).output
    assert shown and max(map(len, shown.splitlines())) <= 80
