"""The team server's benchmark stays runnable (a small run); its figures are reported, never asserted."""

import json

import pytest

pytest.importorskip("fastapi", reason="the team server needs the web extra: pip install 'order-importer[web]'")

from benchmarks.web import main


def test_small_web_benchmark_reports_upload_and_grid_figures(tmp_path):
    out = tmp_path / "web.json"
    assert (
        main(["--upload-rows", "300", "--grid-rows", "600", "--data", str(tmp_path / "data"), "--out", str(out)]) == 0
    )
    report = json.loads(out.read_text(encoding="utf-8"))
    assert set(report["upload_to_check"]) == {"xlsx", "csv"}
    assert all(entry["rows"] == 300 and entry["median_s"] > 0 for entry in report["upload_to_check"].values())
    pages = {name for name in report["grid"] if ":" in name}
    assert pages == {
        "all: first page",
        "all: middle page",
        "all: last page",
        "problems: first page",
        "problems: last page",
    }
    assert all(report["grid"][name]["median_ms"] > 0 for name in pages)
