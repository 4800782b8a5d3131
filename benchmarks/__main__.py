"""Run the benchmark suite and print (and save) one table: ``python -m benchmarks``.

    python -m benchmarks                          # 1k, 10k, 100k rows as .xlsx and .csv, offline and online
    python -m benchmarks --sizes 1000,10000       # smaller
    python -m benchmarks --formats xlsx           # workbooks only
    python -m benchmarks --huge                   # also 1,048,575 rows (.xlsx, the project only)

Offline: each pipeline runs in a fresh process per sheet (so peak RSS is its
own) and the project's time is reported beside the reference pipeline's in
the same run, and each stage beside the fastest known approach to that stage
when its libraries are installed (``pip install -e ".[bench]"``); validation
also beside that approach's schema run alone on the project reader's cells
(the same input, see ``benchmarks.stages.schema``). Online:
orders against the sandbox with latency and a rate limit, as a share of the
rate that latency, concurrency and the limit allow.
Results go to ``benchmarks/results.json``; the README quotes them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .generate import make

HERE = Path(__file__).resolve().parent
EXCEL_MAX_DATA_ROWS = 1_048_575


def offline(kind: str, sheet: Path) -> dict[str, Any]:
    """One pipeline on one sheet in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.stages", kind, str(sheet)],
        capture_output=True,
        text=True,
        check=True,
        cwd=HERE.parent,
        timeout=3600,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def online(orders: int, latency: float, rate: float, concurrency: int) -> dict[str, Any]:
    """Import ``orders`` one-line orders against the sandbox; achieved orders/s against the achievable rate."""
    import dataclasses

    import pandas as pd

    import importer
    from importer.cli import progress_bar
    from importer.sandbox import Faults, Sandbox

    from .stages import warm_up

    loading = time.perf_counter()
    import importer.api

    warm_up()  # the libraries a run imports on first use (pandera above all), as the offline pipelines do
    imports_s = time.perf_counter() - loading
    rows = [
        {
            "provider": "xportcn-open",
            "order_ref": f"BENCH-{time.time_ns()}-{n}",
            "item_id": "600126245031041190",
            "sku_id": "5016042822039",
            "quantity": "1",
            "receiver_name": "张三",
            "receiver_mobile": "13800138000",
            "province": "浙江省",
            "city": "杭州市",
            "address": "文一西路969号",
        }
        for n in range(orders)
    ]
    with Sandbox.start(faults=Faults(latency=latency, rate_limit=rate)) as sandbox:
        settings = sandbox.settings()
        account = dataclasses.replace(settings.account("xportcn-open"), rate_limit=rate, concurrency=concurrency)
        settings = settings.with_accounts({"xportcn-open": account})
        with tempfile.TemporaryDirectory(prefix="bench-online-") as name:
            folder = Path(name)
            reported: list[float] = []  # when each order was previewed, then when each was created

            with progress_bar() as bar:

                def progress(done: int, total: int) -> None:
                    reported.append(time.perf_counter())
                    bar(done, total)

                started = time.perf_counter()
                result = importer.run(
                    pd.DataFrame(rows),
                    settings=settings,
                    output=folder / "out.xlsx",
                    ledger=folder / "ledger.sqlite",
                    progress=progress,
                )
                elapsed = time.perf_counter() - started
        refused = sandbox.state.calls() - 2 * orders  # a call over the limit is answered 429 and retried
    calls = 2 * orders  # a preview and a create per order
    achievable = orders / max(calls / rate, calls * latency / concurrency)
    achieved = orders / elapsed
    return {
        "orders": orders,
        "latency_s": latency,
        "rate_limit": rate,
        "concurrency": concurrency,
        "created": int((result.outcomes["status"] == "CREATED").sum()),
        "seconds": round(elapsed, 2),
        "first_to_last_s": round(reported[-1] - reported[0], 2) if reported else 0.0,
        "orders_per_s": round(achieved, 2),
        "achievable_per_s": round(achievable, 2),
        "ratio": round(achieved / achievable, 3),
        "calls_over_limit": max(refused, 0),
        "first_use_imports_s": round(imports_s, 2),
    }


def fastest_available() -> bool:
    """Whether the libraries of the fastest-approach pipeline are installed (``pip install -e ".[bench]"``)."""
    import importlib.util

    return all(importlib.util.find_spec(name) for name in ("fastexcel", "polars", "rustpy_xlsxwriter"))


def stage_ratios(project: dict[str, float], fastest: dict[str, float]) -> dict[str, float]:
    """Each stage's time as a multiple of the fastest approach's time for the same stage."""
    return {
        stage: round(project[stage] / max(fastest[stage], 0.001), 2) for stage in ("read", "validate", "group", "write")
    }


def startup() -> float:
    """Seconds for ``order-importer --help`` in a fresh process (best of 3)."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "importer", "--help"], capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return round(min(times), 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated row counts")
    parser.add_argument("--no-reference", action="store_true", help="skip the reference pipeline")
    parser.add_argument("--formats", default="xlsx,csv", help="comma-separated sheet formats: xlsx, csv")
    parser.add_argument("--huge", action="store_true", help="also run the project at 1,048,575 rows (.xlsx)")
    parser.add_argument("--online-orders", type=int, default=200, help="orders for the online run (0: skip)")
    parser.add_argument("--data", type=Path, default=HERE / "data", help="where generated sheets are kept")
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    args = parser.parse_args(argv)
    sheets = [(int(size), fmt) for fmt in args.formats.split(",") if fmt for size in args.sizes.split(",") if size]
    if args.huge:
        sheets.append((EXCEL_MAX_DATA_ROWS, "xlsx"))
    report: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "system": platform.platform()},
        "offline": [],
        "startup_s": startup(),
    }
    print(
        f"{'rows':>9} {'format':>6} {'pipeline':>9} {'read':>7} {'validate':>8} {'group':>7} {'write':>7} "
        f"{'total':>7} {'RSS MB':>7}"
    )
    for size, fmt in sheets:
        sheet = make(args.data, size, fmt)
        kinds = ["project"] if args.no_reference or size > 100_000 else ["project", "reference"]
        if size <= 100_000 and not args.no_reference and fastest_available():
            kinds += ["fastest", "schema"]
        results = {kind: offline(kind, sheet) for kind in kinds}
        for kind, result in results.items():
            st = dict.fromkeys(("read", "validate", "group", "write"), "-") | result["stages"]
            print(
                f"{size:>9} {fmt:>6} {kind:>9} {st['read']:>7} {st['validate']:>8} {st['group']:>7} {st['write']:>7} "
                f"{st['total']:>7} {result['peak_rss_mb']:>7}"
            )
        entry: dict[str, Any] = {"rows": size, "format": fmt, **results}
        if "reference" in results:
            entry["ratio"] = round(results["project"]["stages"]["total"] / results["reference"]["stages"]["total"], 3)
            print(f"{'':>9} project / reference = {entry['ratio']}")
        if "fastest" in results:
            entry["stage_ratios"] = stage_ratios(results["project"]["stages"], results["fastest"]["stages"])
            shown = ", ".join(f"{stage} {ratio}" for stage, ratio in entry["stage_ratios"].items())
            print(f"{'':>9} project / fastest, per stage: {shown}")
        if "schema" in results:
            same = results["project"]["stages"]["validate"] / max(results["schema"]["stages"]["validate"], 0.001)
            entry["validate_same_cells_ratio"] = round(same, 2)
            print(f"{'':>9} project / the schema alone on the project reader's cells: validate {round(same, 2)}")
        report["offline"].append(entry)
    if args.online_orders:
        report["online"] = online(args.online_orders, latency=0.1, rate=20.0, concurrency=4)
        o = report["online"]
        print(
            f"online: {o['orders']} orders in {o['seconds']} s ({o['first_to_last_s']} s from the first order "
            f"previewed to the last created) = {o['orders_per_s']}/s of an achievable "
            f"{o['achievable_per_s']}/s (ratio {o['ratio']}), {o['calls_over_limit']} calls over the limit"
        )
    print(f"startup: order-importer --help in {report['startup_s']} s")
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
