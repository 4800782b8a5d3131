"""Money guards: a price that rose past the sheet's expectation, and a run over its budget, buy nothing."""

from decimal import Decimal

import pandas as pd
from typer.testing import CliRunner

import importer
from importer.cli import app
from importer.models import Status

CUP, CUP_SKU = "600126245031041190", "5016042822039"  # 12.50 at the sandbox
BAG, BAG_SKU = "600129202197070073", "4860968496626"  # 39.90


def sheet(*lines):
    rows = []
    for ref, item, sku, quantity, price in lines:
        rows.append(
            {
                "provider": "xportcn-open",
                "order_ref": ref,
                "item_id": item,
                "sku_id": sku,
                "quantity": quantity,
                "unit_price": price,
                "receiver_name": "张三",
                "receiver_mobile": "13800138000",
                "province": "浙江省",
                "city": "杭州市",
                "address": "文一西路969号",
            }
        )
    return pd.DataFrame(rows, dtype=str)


def run(frame, sandbox, tmp_path, **kwargs):
    return importer.run(frame, settings=sandbox.settings(), output=tmp_path / "o.xlsx", ledger=tmp_path / "l", **kwargs)


def test_a_price_above_the_sheets_holds_the_order(fresh_sandbox, tmp_path):
    frame = sheet(
        ("P-1", CUP, CUP_SKU, "1", "12.00"), ("P-1", BAG, BAG_SKU, "1", ""), ("P-2", CUP, CUP_SKU, "1", "12.50")
    )
    result = run(frame, fresh_sandbox, tmp_path)
    out = result.outcomes
    assert list(out["status"]) == [Status.PRICE_CHANGED, Status.HELD, Status.CREATED]
    assert "you expected 12.00, the provider asks 12.50 (+4.2%)" in out.loc[0, "error"]
    assert out.loc[0, "estimated_unit_price_fen"] == 1250  # both prices are on the row (exact, in fen)
    assert fresh_sandbox.state.create_calls() == 1  # only P-2


def test_the_tolerance_accepts_a_small_rise(fresh_sandbox, tmp_path):
    from dataclasses import replace
    from decimal import Decimal

    settings = replace(fresh_sandbox.settings(), price_tolerance_percent=Decimal(5))
    frame = sheet(("T-1", CUP, CUP_SKU, "1", "12.00"))
    result = importer.run(frame, settings=settings, output=tmp_path / "o.xlsx", ledger=tmp_path / "l")
    assert list(result.outcomes["status"]) == [Status.CREATED]


def test_max_total_holds_the_whole_run(fresh_sandbox, tmp_path):
    from decimal import Decimal

    frame = sheet(("M-1", CUP, CUP_SKU, "4", ""), ("M-2", BAG, BAG_SKU, "1", ""))  # 50 + 6 and 39.90 + 6
    result = run(frame, fresh_sandbox, tmp_path, max_total=Decimal("100"))
    assert set(result.outcomes["status"]) == {Status.HELD}
    assert "is above --max-total 100" in result.outcomes.loc[0, "error"]
    assert fresh_sandbox.state.create_calls() == 0
    under = run(frame, fresh_sandbox, tmp_path / "again", max_total=Decimal("101.90"))
    assert set(under.outcomes["status"]) == {Status.CREATED}


def test_max_total_on_the_command_line(tmp_path):
    frame = sheet(("C-1", CUP, CUP_SKU, "1", ""))
    path = tmp_path / "orders.csv"
    frame.to_csv(path, index=False)
    runner = CliRunner()
    held = runner.invoke(app, ["import", str(path), "--sandbox", "--max-total", "1"])
    assert held.exit_code == 1 and "HELD" in held.output
    assert runner.invoke(app, ["import", str(path), "--sandbox", "--max-total", "lots"]).exit_code == 2


def test_max_total_holds_an_order_its_provider_prices_only_when_buying(fresh_sandbox, tmp_path):
    """xportcn-ka-taobao documents no preview: with a budget, its order cannot be checked, so it is held."""
    import importer

    result = importer.run(
        "samples/orders.xlsx",
        settings=fresh_sandbox.settings(),
        output=tmp_path / "o.xlsx",
        ledger=tmp_path / "l.sqlite",
        max_total=Decimal("100000"),
    )
    out = result.outcomes
    held = out[out["status"] == "HELD"]
    assert len(held) == 1 and "no price before buying" in held["error"].iloc[0]
    assert set(out.drop(held.index)["status"]) == {"CREATED"}
    assert "xportcn-ka-taobao" not in {e["provider"] for e in fresh_sandbox.state.order_counts()}
