"""Row outcomes: the per-row status table every stage contributes to.

An outcome frame is indexed by row id and has the result columns of
:data:`importer.models.RESULT_COLUMNS` plus ``error_column``. Stages return
outcomes only for the rows they decided; :func:`merge_outcomes` lays later
stages over earlier ones, so each row ends with exactly one status.

These helpers build a value or two per row, so like the stages they run
with the cyclic garbage collector paused (see :mod:`importer.columns`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from .columns import paused_gc
from .models import ERROR_COLUMN_COL, RESULT_COLUMNS, ROW_COL, CellError, Status

OUTCOME_COLUMNS: tuple[str, ...] = (*RESULT_COLUMNS, ERROR_COLUMN_COL)
ERROR_COLUMNS: tuple[str, ...] = ("row_id", "sheet", "row", "column", "value", "message")


@paused_gc
def outcomes_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Build an outcome frame from dicts that each carry ``row_id`` and some result columns.

    Missing result columns are empty strings; money stays as Decimal or text.
    """
    rows = list(records)
    columns = ["row_id", *OUTCOME_COLUMNS]
    # Column lists rather than a list of dicts: the same frame, several times faster to build.
    frame = pd.DataFrame({c: [row.get(c) for row in rows] for c in columns}, columns=columns, dtype=object)
    frame = frame.fillna("")
    frame["row_id"] = frame["row_id"].astype("int64")
    return frame.set_index("row_id")


@paused_gc
def status_outcomes(row_ids: list[int], status: str) -> pd.DataFrame:
    """An outcome frame giving every row of ``row_ids`` the same ``status``.

    The same frame as :func:`outcomes_frame` of one dict per row, without building the dicts.
    """
    count = len(row_ids)
    cells = {column: [status if column == "status" else ""] * count for column in OUTCOME_COLUMNS}
    return pd.DataFrame(cells, index=pd.Index(row_ids, dtype="int64", name="row_id"), dtype=object)


@paused_gc
def merge_outcomes(*frames: pd.DataFrame) -> pd.DataFrame:
    """Lay outcome frames over each other: for a row in several, the last one wins."""
    present = [f for f in frames if len(f)]
    if not present:
        return outcomes_frame([])
    merged = pd.concat(present)
    return merged[~merged.index.duplicated(keep="last")].sort_index()


@paused_gc
def errors_frame(errors: Iterable[CellError]) -> pd.DataFrame:
    """One row per problem: where it is and what to do about it."""
    return pd.DataFrame(
        [(e.row_id, e.sheet, e.row, e.column, e.value, e.message) for e in errors],
        columns=list(ERROR_COLUMNS),
    ).astype({"row_id": "int64", "row": "int64"})


@paused_gc
def attach_warnings(outcomes: pd.DataFrame, *notes: pd.Series) -> pd.DataFrame:
    """Set each row's ``warning`` to all its warnings (validation, preview...), joined by "; ".

    Warnings are kept apart from the layered statuses because a later stage
    (create) must not wipe what an earlier one (validate) noted.
    """
    texts: dict[int, list[str]] = {}
    for series in notes:
        for row_id, text in zip(series.index.tolist(), series.tolist(), strict=True):
            if text:
                texts.setdefault(int(row_id), []).append(str(text))
    joined = {row_id: "; ".join(found) for row_id, found in texts.items()}
    result = outcomes.copy()
    result["warning"] = [joined.get(i, "") for i in result.index.tolist()]
    return result


@paused_gc
def attach_column(outcomes: pd.DataFrame, column: str, values: pd.Series) -> pd.DataFrame:
    """Set ``column`` from ``values`` (by row id) on every row it has a value for, whatever the row's status.

    For values validation found that hold whatever happened later (the date
    read from the sheet), which the layered statuses would otherwise wipe.
    """
    result = outcomes.copy()
    known = {int(k): str(v) for k, v in zip(values.index.tolist(), values.tolist(), strict=True)}
    result[column] = [known.get(int(i), "") for i in result.index]
    return result


STATUS_SEVERITY: tuple[Status, ...] = (
    Status.UNKNOWN,
    Status.ALREADY_CREATED_ELSEWHERE,
    Status.CREATE_FAILED,
    Status.PRICE_CHANGED,
    Status.PREVIEW_FAILED,
    Status.INVALID,
    Status.HELD,
    Status.NOT_ATTEMPTED,
    Status.VALID,
    Status.PREVIEWED,
    Status.ALREADY_CREATED,
    Status.CREATED,
    Status.SKIPPED,
)
"""Statuses from the one that most needs a look to the best; an order has the first of its rows' statuses."""


def order_keys(frame: pd.DataFrame) -> pd.Series:
    """Each row's order: its provider and order_ref (its row number where the sheet has no order_ref)."""
    provider = frame["provider"] if "provider" in frame else pd.Series("", index=frame.index)
    ref = frame["order_ref"] if "order_ref" in frame else frame[ROW_COL].astype(str)
    return provider.astype(str).str.strip() + "\x1f" + ref.astype(str).str.strip()


def order_statuses(frame: pd.DataFrame, outcomes: pd.DataFrame) -> pd.Series:
    """The orders of a run, with the status of each: the worst status among its rows.

    This is what "orders" means wherever a run is counted (the console, the
    Summary sheet, ``--summary-json``, notifications): every distinct
    (provider, order_ref) among the sheet's rows, whatever became of them.
    """
    rank = {str(s): i for i, s in enumerate(STATUS_SEVERITY)}
    keys = order_keys(frame).reindex(outcomes.index)
    ranks = outcomes["status"].astype(str).map(rank).fillna(0)
    worst = pd.DataFrame({"key": keys, "rank": ranks}).groupby("key")["rank"].min()
    return worst.map(lambda r: str(STATUS_SEVERITY[int(r)]))
