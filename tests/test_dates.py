"""Dates as people type them and as Excel stores them: one calendar day, whatever the time zone."""

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from sample_rows import ORDER_ROW

import importer
from importer.config import load_settings
from importer.errors import ConfigError
from importer.read.headers import match_headers
from importer.validate.date_text import from_serial, read_column

ROW = ORDER_ROW


def frame(dates: list[str]) -> pd.DataFrame:
    return pd.DataFrame([{**ROW, "order_ref": f"PO-{n}", "order_date": d} for n, d in enumerate(dates)])


@pytest.mark.parametrize(
    "typed",
    ["2026-11-24", "2026/11/24", "2026.11.24", "2026年11月24日", "2026年11月24号", "20261124", "46350",
     "2026-11-24 10:30:00", "２０２６-１１-２４"],
)  # fmt: skip
def test_every_accepted_form_reads_the_same_day(typed):
    report = importer.validate(frame([typed]))
    assert report.ok, report.errors["message"].tolist()
    assert report.order_dates.tolist() == ["2026-11-24"]
    assert report.sheet.frame.loc[0, "order_date"] == typed  # the user's cell is left alone


def test_single_digit_months_and_days():
    assert importer.validate(frame(["2026/1/5"])).order_dates.tolist() == ["2026-01-05"]


def test_serials_follow_the_1900_system_and_the_fake_leap_day_is_refused():
    assert from_serial(61) == dt.date(1900, 3, 1)
    assert from_serial(59) == dt.date(1900, 2, 28)
    assert from_serial(1) == dt.date(1900, 1, 1)
    report = importer.validate(frame(["60", "100", "3000000", "2026-02-30", "tomorrow"]))
    assert report.ok  # no provider receives the date: a warning by default
    assert report.order_dates.empty
    assert report.warnings["message"].tolist() == [
        "order_date '60' is Excel's serial 60, the 1900-02-29 that never existed; write the date like 2026-11-24",
        "order_date '100' reads as 1900-04-09, outside 2000–2099; write the date like 2026-11-24",
        "order_date '3000000' is not a date; write the date like 2026-11-24",
        "order_date '2026-02-30' is not a day of the calendar; write the date like 2026-11-24",
        "order_date 'tomorrow' is not a date; write the date like 2026-11-24",
    ]


def test_day_and_month_order_is_decided_per_column():
    day_first = importer.validate(frame(["24/11/2026", "11/12/2026", "5/5/2026"]))
    assert day_first.ok
    assert day_first.order_dates.tolist() == ["2026-11-24", "2026-12-11", "2026-05-05"]
    month_first = importer.validate(frame(["11/24/2026", "11/12/2026"]))
    assert month_first.order_dates.tolist() == ["2026-11-24", "2026-11-12"]


def test_a_column_that_never_decides_is_not_guessed():
    report = importer.validate(frame(["11/12/2026", "2026-11-24"]), severity={"order_date.date": "error"})
    [error] = report.errors.to_dict("records")
    assert error["row"] == 2
    assert "reads as day/month or as month/day" in error["message"]
    assert "[validation] date_order" in error["message"]
    assert importer.validate(frame(["11/12/2026"]), date_order="mdy").order_dates.tolist() == ["2026-11-12"]


def test_a_column_with_both_orders_errs_on_the_minority_naming_both():
    report = importer.validate(frame(["24/11/2026", "25/11/2026", "11/26/2026"]))
    [error] = report.warnings.to_dict("records")
    assert (error["row"], error["value"]) == (4, "11/26/2026")
    assert "is month first (like 11/24/2026), but most dates of this column are day first" in error["message"]
    tie = importer.validate(frame(["24/11/2026", "11/26/2026"]))
    assert len(tie.warnings) == 2


def test_the_config_sets_the_date_order(tmp_path):
    config = tmp_path / "importer.toml"
    config.write_text('[validation]\ndate_order = "dmy"\n', encoding="utf-8")
    assert load_settings(config, environ={}).date_order == "dmy"
    config.write_text('[validation]\ndate_order = "ymd"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="date_order must be one of"):
        load_settings(config, environ={})
    cells, order = read_column(["11/26/2026"], forced="dmy")
    assert order == "dmy" and cells[0].against


@pytest.mark.parametrize("header", ["下单日期", "订单日期", "日期", "date", "Order Date", "ORDER_DATE"])
def test_date_headers(header):
    match = match_headers(["订单号", "商品ID", "数量", header, "单价", "手机"])
    assert {o: c for _, o, c in match.columns}[header] == "order_date"
    assert match.duplicates == []


def test_an_order_whose_rows_give_one_day_in_two_spellings_is_one_order():
    table = frame(["2026/11/24", "2026年11月24日"]).assign(order_ref="PO-1")
    grouping = importer.group(importer.validate(table))
    assert len(grouping.orders) == 1 and grouping.errors.empty


def _workbook(path: Path, *, exact_reader: bool = False) -> Path:
    """Date cells, a serial and a text date; ``exact_reader``: a zip stored as a number sends it to openpyxl."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Orders"
    columns = [*ROW, "order_ref", "order_date"]
    sheet.append(columns)
    values = [dt.date(2026, 11, 24), dt.datetime(2026, 11, 24, 23, 59, 59), 46350, "2026/11/24"]
    zip_cell = {"zip": 311121} if exact_reader else {}
    for n, value in enumerate(values):
        sheet.append([*{**ROW, **zip_cell}.values(), f"PO-{n}", value])
    sheet.cell(row=2, column=len(columns)).number_format = "yyyy/m/d"
    workbook.save(path)
    return path


_PROBE = """
import json, sys
import importer
report = importer.validate(importer.load(sys.argv[1]))
print(json.dumps({"dates": report.order_dates.tolist(), "errors": report.errors["message"].tolist()}))
"""


@pytest.mark.parametrize("exact_reader", [False, True], ids=["calamine", "openpyxl"])
@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Asia/Shanghai", "Pacific/Kiritimati"])
def test_excel_date_cells_and_serials_give_the_same_day_in_every_time_zone(tmp_path, zone, exact_reader):
    path = _workbook(tmp_path / "dates.xlsx", exact_reader=exact_reader)
    env = {**os.environ, "TZ": zone}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(path)], capture_output=True, text=True, env=env, timeout=120, check=True
    )
    assert json.loads(done.stdout) == {"dates": ["2026-11-24"] * 4, "errors": []}


def test_the_results_workbook_shows_the_date_read_and_keeps_the_cell(tmp_path, sandbox):
    path = _workbook(tmp_path / "orders.xlsx")
    result = importer.run(path, settings=sandbox.settings())
    assert result.exit_code == 0
    rows = list(openpyxl.load_workbook(result.output)["Orders"].iter_rows(values_only=True))
    header = rows[0]
    iso, typed = header.index("order_date_iso"), header.index("order_date")
    assert [r[iso] for r in rows[1:]] == ["2026-11-24"] * 4
    assert rows[4][typed] == "2026/11/24"
    assert isinstance(rows[1][typed], dt.datetime)  # the user's own date cell, untouched


def test_validate_through_the_cli_on_a_csv(tmp_path):
    path = tmp_path / "orders.csv"
    frame(["2026年11月24日", "60"]).to_csv(path, index=False)
    done = subprocess.run(
        [sys.executable, "-m", "importer", "validate", str(path)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0  # the unreadable date is a warning: the row may still be bought
    results = pd.read_excel(tmp_path / "orders.results.xlsx", sheet_name=0, dtype=str, engine="openpyxl")
    assert results["order_date_iso"].fillna("").tolist() == ["2026-11-24", ""]
    assert "1900-02-29 that never existed" in results.loc[1, "warning"]
    config = tmp_path / "importer.toml"
    config.write_text('[validation]\nseverity = { "order_date.date" = "error" }\n', encoding="utf-8")
    strict = subprocess.run(
        [sys.executable, "-m", "importer", "validate", str(path), "--config", str(config)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert strict.returncode == 1


def test_a_results_workbook_from_before_order_date_iso_reuses_its_result_columns(tmp_path):
    from importer.models import RESULT_COLUMNS
    from importer.outcomes import outcomes_frame

    older = RESULT_COLUMNS[:-1]
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Orders"
    sheet.append([*ROW, "order_ref", *older])
    sheet.append([*ROW.values(), "PO-1", "VALID", *[None] * (len(older) - 1)])
    path = tmp_path / "orders.results.xlsx"
    workbook.save(path)
    loaded = importer.load(path)
    written = importer.write_results(
        loaded, outcomes_frame([{"row_id": 0, "status": "VALID", "order_date_iso": "2026-11-24"}]), None,
        tmp_path / "again.xlsx",
    )  # fmt: skip
    header = next(openpyxl.load_workbook(written)["Orders"].iter_rows(values_only=True))
    assert header == (*ROW, "order_ref", *RESULT_COLUMNS)
