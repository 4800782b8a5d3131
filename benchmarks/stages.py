"""Time one pipeline on one sheet, stage by stage, in this process; print JSON (run in a fresh process each).

    python -m benchmarks.stages project orders-10000.xlsx
    python -m benchmarks.stages reference orders-10000.xlsx

``project`` is order-importer's own stages; ``reference`` is the plain way
(pandas ``read_excel`` with openpyxl or ``read_csv``, the same pandera schema,
``groupby`` with ``apply(to_dict)``, ``to_excel``), kept here so every run
compares against it on the same machine. ``fastest`` does each stage the
fastest way known (fastexcel or polars ``read_csv``, the same pandera schema,
polars ``group_by``, the rust_xlsxwriter binding; ``pip install -e ".[bench]"``), so each of the
project's stages is measured against the floor of that stage. ``schema``
times that schema alone on the cells the project's reader makes.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def timed(stages: dict[str, float], name: str, work: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    value = work()
    stages[name] = round(time.perf_counter() - started, 3)
    return value


def project(path: Path, out: Path) -> dict[str, float]:
    import fastexcel  # noqa: F401  # read.py imports its readers' libraries on first use
    import polars  # noqa: F401

    import importer
    import importer.api  # the libraries are imported before timing, as the reference's are

    stages: dict[str, float] = {}
    sheet = timed(stages, "read", lambda: importer.load(path))
    report = timed(stages, "validate", lambda: importer.validate(sheet))
    grouping = timed(stages, "group", lambda: importer.group(report))

    def write() -> None:
        """What ``run(stage="validate")`` writes: grouped rows VALID, every warning noted."""
        import pandas as pd

        from importer.models import Status
        from importer.outcomes import attach_warnings, merge_outcomes, status_outcomes

        valid = status_outcomes([line.row_id for order in grouping.orders for line in order.lines], str(Status.VALID))
        outcomes = attach_warnings(merge_outcomes(valid, report.outcomes, grouping.outcomes), report.warning_texts)
        errors = pd.concat([report.errors, grouping.errors], ignore_index=True)
        importer.write_results(sheet, outcomes, errors, out)

    timed(stages, "write", write)
    return stages


def schema_failures(frame: Any) -> Any:
    """The project's pandera schema run lazily on ``frame``, as the plain pipelines validate: its failure cases."""
    import pandas as pd
    from pandera.errors import SchemaErrors

    from importer.validate.check import KNOWN_PROVIDER_KEYS
    from importer.validate.schema import build_schema

    try:
        build_schema(KNOWN_PROVIDER_KEYS, columns_present=frame.columns).validate(frame, lazy=True)
    except SchemaErrors as errors:
        return errors.failure_cases
    return pd.DataFrame()


def reference(path: Path, out: Path) -> dict[str, float]:
    import pandas as pd

    def read() -> pd.DataFrame:
        if path.suffix == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False)
        return pd.read_excel(path, dtype=str, engine="openpyxl").fillna("")

    stages: dict[str, float] = {}
    frame = timed(stages, "read", read)
    timed(stages, "validate", lambda: schema_failures(frame))
    timed(
        stages,
        "group",
        lambda: frame.groupby(["provider", "order_ref"]).apply(lambda g: g.to_dict("records"), include_groups=False),
    )
    timed(stages, "write", lambda: frame.assign(status="VALID").to_excel(out, index=False))
    return stages


def fastest(path: Path, out: Path) -> dict[str, float]:
    """Each stage the fastest known way, producing what the reference produces (records per order, a sheet)."""
    import fastexcel
    import pandas as pd
    import polars as pl
    from rustpy_xlsxwriter import write_worksheet

    def read() -> pl.DataFrame:
        if path.suffix == ".csv":
            return pl.read_csv(path, infer_schema=False)
        return fastexcel.read_excel(str(path)).load_sheet(0, dtypes="string").to_polars()

    stages: dict[str, float] = {}
    frame = timed(stages, "read", read)
    frame = frame.fill_null("")
    cells = pd.DataFrame({column: frame[column].to_list() for column in frame.columns}, dtype=str)  # not timed
    timed(stages, "validate", lambda: schema_failures(cells))
    keys = ["provider", "order_ref"]
    timed(
        stages,
        "group",
        lambda: (
            frame.group_by(keys, maintain_order=True).agg(pl.struct(pl.all().exclude(keys)).alias("lines")).to_dicts()
        ),
    )
    timed(
        stages,
        "write",
        lambda: write_worksheet(frame.with_columns(status=pl.lit("VALID")).to_dicts(), str(out), sheet_name="Orders"),
    )
    return stages


def schema(path: Path, out: Path) -> dict[str, float]:
    """The fastest approach's validation (the pandera schema alone) on the very cells the project's reader makes.

    The same schema on the same values runs about 1.5 times slower on the
    strings calamine makes than on those polars' ``to_list`` makes: calamine
    creates a row's strings one after another, polars a column's, and a
    check reads a column at a time, so it finds calamine's strings scattered
    in memory. This run gives validation the project's input, so the
    project's validate stage can be compared with the schema alone on equal
    terms (and with ``fastest`` on its own frame).
    """
    import pandas as pd

    import importer
    from importer.models import CANONICAL_COLUMNS

    frame = importer.load(path).frame
    cells = pd.DataFrame({c: frame[c].tolist() for c in CANONICAL_COLUMNS if c in frame.columns}, dtype=str)
    stages: dict[str, float] = {}
    timed(stages, "validate", lambda: schema_failures(cells))
    return stages


KINDS = {"project": project, "reference": reference, "fastest": fastest, "schema": schema}


def warm_up() -> None:
    """Let pandera register its backends (imports on the first validate, 0.1-0.2 s) before any stage is timed.

    Every pipeline validates with pandera, and libraries are imported before
    timing; this is the one import pandera defers to its first use.
    """
    import pandas as pd

    row = {"provider": ["xportcn-open"], "order_ref": ["W-1"], "item_id": ["1"], "quantity": ["1"]}
    schema_failures(pd.DataFrame(row, dtype=str))


def main() -> None:
    kind, path = sys.argv[1], Path(sys.argv[2])
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out.xlsx"
        warm_up()
        stages = KINDS[kind](path, out)
    stages["total"] = round(sum(stages.values()), 3)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"kind": kind, "file": path.name, "stages": stages, "peak_rss_mb": round(peak_mb)}))


if __name__ == "__main__":
    main()
