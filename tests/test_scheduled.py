"""What a scheduled nightly run relies on: an inbox folder, a config check, JSON summaries, header mappings."""

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from importer.cli import app

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture
def configured(tmp_path, sandbox, monkeypatch):
    """An importer.toml pointing at the sandbox, with credentials in the environment, as a server would have."""
    config = tmp_path / "importer.toml"
    for name, value in sandbox.write_config(config).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ORDER_IMPORTER_CONFIG", str(config))
    return config


def test_inbox_imports_each_sheet_once_and_files_it(tmp_path, configured, sandbox):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLES / "orders.xlsx", inbox / "monday.xlsx")
    shutil.copy(SAMPLES / "orders-xportcn-open.xlsx", inbox / "tuesday.xlsx")
    (inbox / "notes.pdf").write_bytes(b"%PDF")
    (inbox / "broken.xlsx").write_bytes(b"not a workbook")
    (inbox / "~$monday.xlsx").write_bytes(b"excel lock file")
    summary = tmp_path / "summary.json"
    runner = CliRunner()
    first = runner.invoke(app, ["import", str(inbox), "--summary-json", str(summary)])
    assert first.exit_code == 2, first.output  # one file could not be read
    assert sorted(p.name for p in (inbox / "done").iterdir() if p.suffix == ".xlsx") == [
        "monday.results.xlsx",
        "monday.xlsx",
        "tuesday.results.xlsx",
        "tuesday.xlsx",
    ]
    assert (inbox / "failed" / "broken.xlsx").exists()
    assert "not a valid .xlsx" in (inbox / "failed" / "broken.xlsx.error.txt").read_text(encoding="utf-8")
    assert (inbox / "notes.pdf").exists() and (inbox / "~$monday.xlsx").exists()  # not order sheets: left alone
    report = json.loads(summary.read_text(encoding="utf-8"))
    assert report["exit_code"] == 2 and len(report["files"]) == 3
    creates = sandbox.state.create_calls()
    again = runner.invoke(app, ["import", str(inbox)])
    assert again.exit_code == 0 and "no new order sheets" in again.output
    shutil.copy(inbox / "done" / "monday.xlsx", inbox / "monday.xlsx")  # the same file dropped in again
    third = runner.invoke(app, ["import", str(inbox)])
    assert third.exit_code == 0, third.output
    assert sandbox.state.create_calls() == creates  # the ledger in done/ knows every order
    assert len(list((inbox / "done").glob("monday*.xlsx"))) == 4  # kept apart, not overwritten


def test_summary_json_for_one_file(tmp_path, configured):
    sheet = shutil.copy(SAMPLES / "orders-with-errors.xlsx", tmp_path / "errors.xlsx")
    summary = tmp_path / "run.json"
    result = CliRunner().invoke(app, ["validate", str(sheet), "--summary-json", str(summary)])
    assert result.exit_code == 1
    report = json.loads(summary.read_text(encoding="utf-8"))
    assert report["exit_code"] == 1 and report["rows"] == 13 and report["counts"]["INVALID"] == 7


def test_check_config_tries_every_account_without_buying(configured, sandbox, monkeypatch):
    runner = CliRunner()
    creates = sandbox.state.create_calls()
    good = runner.invoke(app, ["check-config"])
    assert good.exit_code == 0, good.output
    assert good.output.count(": ok") == 4 and good.output.count(": not checked") == 1
    monkeypatch.setenv("XPORTCN_OPEN_SECRET", "wrong")
    bad = runner.invoke(app, ["check-config"])
    assert bad.exit_code == 2
    assert "xportcn-open: failed" in bad.output and "wrong" not in bad.output
    assert sandbox.state.create_calls() == creates
    monkeypatch.delenv("DAJISAAS_APP_KEY")
    missing = runner.invoke(app, ["check-config"])
    assert missing.exit_code == 2 and "DAJISAAS_APP_KEY" in missing.output


def test_mapping_file_maps_any_header(tmp_path, configured):
    csv_path = tmp_path / "erp.csv"
    csv_path.write_text(
        "渠道,客户单号,货号,规格编码,件数,联系人,联系手机,省份,城市,收货地址\n"
        "xportcn-open,ERP-1,600126245031041190,5016042822039,1,张三,13800138000,浙江省,杭州市,文一西路969号\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(
        '[headers]\n"客户单号" = "order_ref"\n"货号" = "item_id"\n"规格编码" = "sku_id"\n"件数" = "quantity"\n'
        '"联系人" = "receiver_name"\n"联系手机" = "receiver_mobile"\n"省份" = "province"\n"城市" = "city"\n'
        '"收货地址" = "address"\n"渠道" = "provider"\n',
        encoding="utf-8",
    )
    runner = CliRunner()
    result = runner.invoke(app, ["validate", str(csv_path), "--mapping", str(mapping)])
    assert result.exit_code == 0, result.output
    mapping.write_text('[headers]\n"货号" = "item"\n', encoding="utf-8")
    wrong = runner.invoke(app, ["validate", str(csv_path), "--mapping", str(mapping)])
    assert wrong.exit_code == 2 and "unknown columns" in wrong.output


def test_no_secret_in_environment_listing(configured):
    assert "sandbox-xportcn-secret" in os.environ.values()  # the fixture really set credentials
