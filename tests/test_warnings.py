"""Warnings beside errors: rows that go ahead with a note, and a config that moves rules between the two."""

import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import importer
from importer.config import load_settings
from importer.errors import ConfigError
from importer.models import Status

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
BASE = {
    "provider": "xportcn-open",
    "item_id": "600126245031041190",
    "sku_id": "5016042822039",
    "quantity": "1",
    "receiver_name": "张三",
    "receiver_mobile": "13800138000",
    "province": "浙江省",
    "city": "杭州市",
    "address": "文一西路969号",
}


def test_the_warnings_sample_goes_through_with_notes(tmp_path, sandbox):
    sheet = shutil.copy(SAMPLES / "orders-with-warnings.xlsx", tmp_path / "w.xlsx")
    result = importer.run(sheet, settings=sandbox.settings())
    out = result.outcomes
    # the fourth row needs its fixes; the last two show prices and dates typed freely, understood
    assert list(out["status"]) == [Status.CREATED] * 3 + [Status.INVALID] + [Status.CREATED] * 2
    assert set(out["order_date_iso"]) == {"2026-11-24"}  # six spellings of one day
    assert out.loc[4, "warning"] == out.loc[5, "warning"] == ""  # 12.5元 and RMB 12.50 are the provider's 12.50
    assert "(fix: 'CNY'; --fix applies it)" in out.loc[3, "error"]
    assert "order_remark has 250 characters" in out.loc[0, "warning"]
    assert "22% below your 16.00" in out.loc[0, "warning"]  # from the preview, kept after create
    assert "has mobile 13800138000 on order PO-3001 but 13900139000 here" in out.loc[1, "warning"]
    assert out.loc[2, "warning"] == ""
    book = openpyxl.load_workbook(result.output)
    header = [c.value for c in book["Orders"][1]]
    assert "warning" in header
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True) if row and row[0]}
    assert summary["rows with warnings"] == 2


def test_config_moves_a_warning_to_an_error_and_back():
    frame = pd.DataFrame([{**BASE, "order_ref": "R-1", "order_remark": "x" * 300}])
    assert importer.validate(frame).errors.empty
    stopped = importer.validate(frame, severity={"remark_length": "error"})
    assert list(stopped.errors["column"]) == ["order_remark"] and stopped.invalid_row_ids == [0]
    phone = pd.DataFrame([{**BASE, "order_ref": "R-2", "receiver_mobile": "call me"}])
    assert importer.validate(phone).invalid_row_ids == [0]
    relaxed = importer.validate(phone, severity={"receiver_mobile.phone": "warning"})
    assert relaxed.errors.empty and "does not look like a phone number" in relaxed.warnings.loc[0, "message"]


def test_severity_in_the_config_file(tmp_path):
    config = tmp_path / "importer.toml"
    config.write_text('[validation]\nseverity = { remark_length = "error" }\n', encoding="utf-8")
    assert load_settings(config, {}).severity == {"remark_length": "error"}
    config.write_text('[validation]\nseverity = { remark_length = "fatal" }\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="either 'error' or 'warning'"):
        load_settings(config, {})


def test_mainland_address_rules_from_the_rule_pack():
    rows = [
        {**BASE, "order_ref": "A-1", "receiver_mobile": "+86 139-1234-5678", "zip": "010020", "district": "新城区"},
        {**BASE, "order_ref": "A-2", "receiver_mobile": "1391234567", "zip": "01002", "district": ""},
        {
            **BASE,
            "order_ref": "A-3",
            "receiver_mobile": "5551234",
            "zip": "94105",
            "country": "United States",
            "receiver_name": "John",
        },
    ]
    report = importer.validate(pd.DataFrame(rows))
    notes = {
        (int(r), c): m
        for r, c, m in zip(
            report.warnings["row_id"], report.warnings["column"], report.warnings["message"], strict=True
        )
    }
    assert (0, "receiver_mobile") not in notes  # +86 and separators are allowed
    assert "11 digits and starts with 1; got '1391234567'" in notes[(1, "receiver_mobile")]
    assert "6 digits; got '01002'" in notes[(1, "zip")]
    assert "need province, city and district" in notes[(1, "district")]
    assert not any(row == 2 for row, _ in notes)  # not a mainland address: the pack does not apply
    strict = importer.validate(pd.DataFrame(rows), severity={"cn.mobile": "error", "cn.zip": "error"})
    assert strict.invalid_row_ids == [1]


def test_warning_texts_are_joined_per_row_in_row_order():
    import pandas as pd

    from importer.models import CellError, OrderSheet
    from importer.outcomes import errors_frame
    from importer.validate.check import Report

    def texts(*found: CellError) -> dict[int, str]:
        report = Report(OrderSheet(frame=pd.DataFrame()), errors_frame([]), pd.DataFrame(), errors_frame(found))
        series = report.warning_texts
        assert series.index.name == "row_id"
        return dict(zip(series.index.tolist(), series.tolist(), strict=True))

    one_each = texts(CellError(3, "S", 5, "a", "", "m1"), CellError(1, "S", 3, "a", "", "m0"))
    assert list(one_each.items()) == [(1, "m0"), (3, "m1")]
    two = texts(
        CellError(3, "S", 5, "a", "", "m1"), CellError(1, "S", 3, "a", "", "m0"), CellError(3, "S", 5, "b", "", "m2")
    )
    assert list(two.items()) == [(1, "m0"), (3, "m1; m2")]


def test_a_pack_pattern_is_asked_of_each_value_once_its_ignored_characters_are_out():
    """Filled values that fail once spaces, dashes and the +86 prefix are out break the rule; empty ones never do."""
    from importer.validate.warnings import _pattern_breaks

    breaks = _pattern_breaks({"pattern": "1[3-9][0-9]{9}", "ignore": r"^\+?86|[\s\-()]"})
    values = ["", "13800138000", "+86 138-0013-8000", "8613800138000", "12345", "138 0013 800"]
    assert breaks(values).tolist() == [False, False, False, False, True, True]
    assert breaks(["13800138000", None, 12]).tolist() == [False, True, True]  # not text: never a match
    assert _pattern_breaks({"pattern": "[0-9]{6}"})(["310000", "31000", ""]).tolist() == [False, True, False]
