"""The whole pipeline on the shipped samples, against the real sandbox over HTTP."""

import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

import importer
from importer.models import Status

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture
def clean_sheet(tmp_path):
    target = tmp_path / "orders.xlsx"
    shutil.copy(SAMPLES / "orders.xlsx", target)
    return target


@pytest.fixture
def error_sheet(tmp_path):
    target = tmp_path / "orders-with-errors.xlsx"
    shutil.copy(SAMPLES / "orders-with-errors.xlsx", target)
    return target


def statuses_by_title(result):
    frame = result.sheet.frame
    return {frame.at[i, "title"]: result.outcomes.at[i, "status"] for i in frame.index}


def results_rows(path, sheet="Orders"):
    workbook = openpyxl.load_workbook(path)
    rows = list(workbook[sheet].iter_rows(values_only=True))
    header = rows[0]
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


def test_clean_import_creates_every_order(clean_sheet, sandbox):
    result = importer.run(clean_sheet, settings=sandbox.settings())
    assert result.exit_code == 0
    assert set(result.outcomes["status"]) == {Status.CREATED}
    assert result.output == clean_sheet.with_name("orders.results.xlsx")
    rows = results_rows(result.output)
    assert len(rows) == len(result.sheet.frame)
    assert all(row["status"] == "CREATED" and row["provider_order_id"] for row in rows)
    assert {row["provider"] for row in rows} == set(importer_providers())  # the demo sheet spans every provider
    assert rows[0]["provider_order_id"] == rows[1]["provider_order_id"]  # one Xportcn order for PO-1001
    # what the user typed comes back byte for byte
    assert rows[0]["item_id"] == "600126245031041190"
    assert rows[2]["zip"] == "010020"  # a zip code with its leading zero
    assert rows[3]["receiver_mobile"] == "+8615068763421"
    assert rows[3]["buyer_note"] == "=not a formula"
    assert rows[0]["receiver_name"] == "张三"


@pytest.mark.parametrize(
    "provider",
    sorted(
        p.stem.removeprefix("orders-") for p in SAMPLES.glob("orders-*.xlsx") if not p.stem.startswith("orders-with-")
    ),
)
def test_each_provider_sample_imports_cleanly(provider, tmp_path, sandbox):
    target = tmp_path / f"orders-{provider}.xlsx"
    shutil.copy(SAMPLES / target.name, target)
    result = importer.run(target, settings=sandbox.settings())
    assert set(result.outcomes["status"]) == {Status.CREATED}, result.outcomes["error"].tolist()
    assert set(result.sheet.frame["provider"]) == {provider}


def importer_providers():
    from importer.providers import REGISTRY

    return REGISTRY


def test_rerun_creates_nothing_twice(clean_sheet, sandbox):
    settings = sandbox.settings()
    first = importer.run(clean_sheet, settings=settings)
    creates_before = sandbox.state.create_calls()
    second = importer.run(clean_sheet, settings=settings)
    assert sandbox.state.create_calls() == creates_before
    assert set(second.outcomes["status"]) == {Status.ALREADY_CREATED}
    assert list(second.outcomes["provider_order_id"]) == list(first.outcomes["provider_order_id"])
    assert second.exit_code == 0


def test_same_order_ref_with_other_content_is_refused(clean_sheet, tmp_path, sandbox):
    settings = sandbox.settings()
    importer.run(clean_sheet, settings=settings)
    workbook = openpyxl.load_workbook(clean_sheet)
    workbook["Orders"]["E2"] = "7"  # PO-1001 line 1: quantity 2 -> 7
    workbook.save(clean_sheet)
    again = importer.run(clean_sheet, settings=settings)
    po1001 = again.outcomes.loc[[0, 1]]
    assert set(po1001["status"]) == {Status.INVALID}
    assert "order_ref PO-1001 was created on" in po1001.iloc[0]["error"]
    assert "total quantity of 3; this sheet has 8" in po1001.iloc[0]["error"]


def test_every_kind_of_mistake_gets_its_row_status(error_sheet, sandbox):
    result = importer.run(error_sheet, settings=sandbox.settings())
    status = statuses_by_title(result)
    assert status["clean order"] == Status.CREATED
    assert status["quantity not whole"] == Status.INVALID
    assert status["held with its order"] == Status.HELD
    assert status["no order_ref"] == Status.INVALID
    assert status["unknown provider"] == Status.INVALID
    assert status["bad price and currency"] == Status.INVALID
    assert status["bad phone"] == Status.INVALID
    assert status["unknown item (fails at preview)"] == Status.PREVIEW_FAILED
    assert status["held: other line failed"] == Status.HELD
    assert status["out of stock (fails at preview)"] == Status.PREVIEW_FAILED
    assert status["no address"] == Status.INVALID
    assert result.exit_code == 1
    errors = dict(zip(result.sheet.frame["title"], result.outcomes["error"], strict=True))
    assert "quantity must be a whole number above 0; got '2.5'" in errors["quantity not whole"]
    # every input row appears in the output exactly once
    rows = results_rows(result.output)
    assert len(rows) == len(result.sheet.frame) == 13


def test_validate_stage_sends_nothing(error_sheet, sandbox):
    calls = sandbox.state.create_calls()
    result = importer.run(error_sheet, stage="validate", settings=sandbox.settings())
    assert sandbox.state.create_calls() == calls
    assert Status.VALID in set(result.outcomes["status"])
    assert Status.CREATED not in set(result.outcomes["status"])


def test_preview_stage_prices_without_buying(clean_sheet, sandbox):
    calls = sandbox.state.create_calls()
    result = importer.run(clean_sheet, stage="preview", settings=sandbox.settings())
    assert sandbox.state.create_calls() == calls
    assert set(result.outcomes["status"]) == {Status.PREVIEWED}
    first = result.outcomes.iloc[0]
    assert str(first["estimated_unit_price"]) != ""


def test_gbk_csv_imports(tmp_path, sandbox):
    target = tmp_path / "orders.csv"
    shutil.copy(SAMPLES / "orders.csv", target)
    result = importer.run(target, settings=sandbox.settings())
    assert result.sheet.encoding in ("gb18030", "gbk")
    assert set(result.outcomes["status"]) == {Status.CREATED}
    rows = results_rows(result.output, sheet="orders")
    assert rows[0]["receiver_name"] == "张三"
    assert rows[2]["zip"] == "010020"  # a zip code with its leading zero


def run_cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "importer", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_cli_exit_codes(clean_sheet, error_sheet, tmp_path):
    assert run_cli("import", str(clean_sheet), "--sandbox").returncode == 0
    failed = run_cli("import", str(error_sheet), "--sandbox")
    assert failed.returncode == 1
    assert "rows need attention" in failed.stdout
    missing = run_cli("validate", str(tmp_path / "nope.xlsx"))
    assert missing.returncode == 2
    assert "nope.xlsx" in missing.stderr


def test_one_status_for_many_rows_is_the_frame_of_one_record_per_row():
    from importer.outcomes import outcomes_frame, status_outcomes

    for row_ids in ([3, 1, 2], []):
        expected = outcomes_frame({"row_id": r, "status": "VALID"} for r in row_ids)
        made = status_outcomes(row_ids, "VALID")
        assert made.equals(expected) and made.dtypes.to_dict() == expected.dtypes.to_dict()
        assert made.index.name == expected.index.name == "row_id"
