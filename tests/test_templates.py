"""The order templates: what a person filling them in gets, and that the shipped ones import as they are."""

from pathlib import Path

import openpyxl
import pytest

import importer
from importer.cli import app
from importer.models import Status
from importer.providers import REGISTRY
from importer.templates import ALL, TEXT_COLUMNS, template_columns, write_template

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
KEYS = [*sorted(REGISTRY), ALL]


def shipped(key):
    return TEMPLATES / ("all-providers.xlsx" if key == ALL else f"{key}.xlsx")


@pytest.mark.parametrize("key", KEYS)
def test_shipped_template_imports_cleanly_against_the_sandbox(key, sandbox, tmp_path):
    result = importer.run(
        shipped(key), settings=sandbox.settings(), output=tmp_path / "out.xlsx", ledger=tmp_path / "l"
    )
    assert set(result.outcomes["status"]) == {Status.CREATED}, result.outcomes["error"].tolist()
    assert len(result.outcomes) == 2  # the example order of two lines
    assert any("说明 Help" in note for note in result.sheet.notes)  # the help sheet is skipped and said so


@pytest.mark.parametrize("key", KEYS)
def test_shipped_template_is_what_the_generator_writes_today(key, tmp_path):
    fresh = write_template(key, tmp_path / "fresh.xlsx")
    assert _cells(fresh) == _cells(shipped(key)), "regenerate with: order-importer template all -o templates"


@pytest.mark.parametrize("key", KEYS)
def test_template_guards_against_excel_accidents(key):
    sheet = openpyxl.load_workbook(shipped(key))["Orders"]
    headers = [cell.value for cell in sheet[1]]
    assert headers == template_columns(key)
    assert sheet.freeze_panes == "A2"
    assert all(cell.comment is not None and cell.comment.text.strip() for cell in sheet[1])
    for index, header in enumerate(headers, start=1):
        if header in TEXT_COLUMNS:
            assert sheet.cell(row=500, column=index).number_format == "@", header
    rules = {str(dv.sqref).split(":")[0][:-1]: dv for dv in sheet.data_validations.dataValidation}
    letter = {h: openpyxl.utils.get_column_letter(i) for i, h in enumerate(headers, start=1)}
    assert rules[letter["provider"]].type == "list"
    assert (key if key != ALL else "dajisaas") in rules[letter["provider"]].formula1
    assert rules[letter["currency"]].type == "list" and "CNY" in rules[letter["currency"]].formula1
    assert rules[letter["quantity"]].type == "whole"
    assert sheet.cell(row=2, column=headers.index("item_id") + 1).data_type == "s"


def test_template_command_writes_one_file_and_refuses_unknown_providers(tmp_path):
    from typer.testing import CliRunner

    runner = CliRunner()
    target = tmp_path / "mine.xlsx"
    assert runner.invoke(app, ["template", "dajisaas", "-o", str(target)]).exit_code == 0
    assert target.exists()
    refused = runner.invoke(app, ["template", "nope", "-o", str(tmp_path / "x.xlsx")])
    assert refused.exit_code == 2
    assert "unknown provider 'nope'" in refused.output


def _cells(path):
    workbook = openpyxl.load_workbook(path)
    return {name: [[cell.value for cell in row] for row in workbook[name].iter_rows()] for name in workbook.sheetnames}
