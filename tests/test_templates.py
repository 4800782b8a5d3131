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
def test_a_shipped_template_as_it_stands_buys_nothing_its_example_is_skipped(key, fresh_sandbox, tmp_path):
    result = importer.run(
        shipped(key), settings=fresh_sandbox.settings(), output=tmp_path / "out.xlsx", ledger=tmp_path / "l"
    )
    assert result.outcomes["status"].tolist() == [Status.SKIPPED, Status.SKIPPED]  # the example order of two lines
    assert all("the template's example row, unchanged" in e for e in result.outcomes["error"])
    assert result.exit_code == 0
    assert fresh_sandbox.state.create_calls() == 0 and fresh_sandbox.state.orders_per_external_id() == {}
    assert any("说明 Help" in note for note in result.sheet.notes)  # the help sheet is skipped and said so


@pytest.mark.parametrize("key", KEYS)
def test_an_edited_example_order_of_a_shipped_template_is_bought_against_the_sandbox(key, fresh_sandbox, tmp_path):
    edited = tmp_path / "mine.xlsx"
    book = openpyxl.load_workbook(shipped(key))
    headers = [cell.value for cell in book["Orders"][1]]
    for row in (2, 3):  # the user types an order reference of their own over the example's
        book["Orders"].cell(row=row, column=headers.index("order_ref") + 1).value = "MY-PO-7"
    book.save(edited)
    result = importer.run(
        edited, settings=fresh_sandbox.settings(), output=tmp_path / "out.xlsx", ledger=tmp_path / "l"
    )
    assert set(result.outcomes["status"]) == {Status.CREATED}, result.outcomes["error"].tolist()
    assert len(result.outcomes) == 2
    made = fresh_sandbox.state.orders_per_external_id()
    assert len(made) == 1 and set(made.values()) == {1}


def test_the_template_command_then_an_untouched_import_buys_nothing(tmp_path, monkeypatch, fresh_sandbox):
    from typer.testing import CliRunner

    monkeypatch.chdir(tmp_path)
    for name, value in fresh_sandbox.write_config(tmp_path / "importer.toml").items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    assert runner.invoke(app, ["template", "xportcn-open", "-o", "t.xlsx"]).exit_code == 0
    imported = runner.invoke(app, ["import", "t.xlsx", "--config", "importer.toml", "--ledger", "l.sqlite"])
    assert imported.exit_code == 0, imported.output
    assert "2 rows skipped (2 example)" in imported.output
    rows = list(openpyxl.load_workbook("t.results.xlsx")["Orders"].iter_rows(values_only=True))
    status = rows[0].index("status")
    assert [row[status] for row in rows[1:3]] == ["SKIPPED", "SKIPPED"]
    assert fresh_sandbox.state.calls() == 0


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
