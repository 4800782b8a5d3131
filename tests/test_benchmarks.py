"""The benchmark suite stays runnable: a small run by default, the real one under ``-m bench``.

Timings are reported, never asserted: only what must hold at any speed is checked
(every order created, no call above the rate limit, every stage measured).
"""

import json

import pytest

from benchmarks.__main__ import main
from benchmarks.generate import HEADERS, rows


def test_generated_sheets_look_like_real_ones():
    data = rows(1000)
    assert len(data) == 1000 and all(len(r) == len(HEADERS) for r in data)
    orders = {r[1] for r in data}
    assert 1.5 < len(data) / len(orders) < 3  # about two lines per order
    assert all(len(r[2]) == 18 for r in data)


def run_suite(tmp_path, *args):
    out = tmp_path / "results.json"
    assert main([*args, "--data", str(tmp_path / "data"), "--out", str(out)]) == 0
    return json.loads(out.read_text(encoding="utf-8"))


def test_small_run_reports_every_stage_and_the_online_rate(tmp_path):
    report = run_suite(tmp_path, "--sizes", "300", "--online-orders", "8")
    assert [entry["format"] for entry in report["offline"]] == ["xlsx", "csv"]
    stages = {"read", "validate", "group", "write", "total"}
    for entry in report["offline"]:
        assert set(entry["project"]["stages"]) == set(entry["fastest"]["stages"]) == stages
        assert set(entry["reference"]["stages"]) == stages and entry["ratio"] > 0
        assert set(entry["stage_ratios"]) == stages - {"total"} and all(r > 0 for r in entry["stage_ratios"].values())
        assert set(entry["schema"]["stages"]) == {"validate", "total"} and entry["validate_same_cells_ratio"] > 0
    online = report["online"]
    assert online["created"] == 8 and online["calls_over_limit"] == 0
    assert 0 < online["first_to_last_s"] <= online["seconds"]
    assert report["startup_s"] > 0


@pytest.mark.bench
def test_full_suite(tmp_path):
    report = run_suite(tmp_path, "--sizes", "1000,10000,100000", "--online-orders", "200")
    assert all("project" in entry for entry in report["offline"])
    assert report["online"]["calls_over_limit"] == 0
    print(json.dumps(report, indent=2))
