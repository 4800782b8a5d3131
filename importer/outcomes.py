"""Row outcomes: the per-row status table every stage contributes to.

An outcome frame is indexed by row id and has the result columns of
:data:`importer.models.RESULT_COLUMNS` plus ``error_column``. Stages return
outcomes only for the rows they decided; :func:`merge_outcomes` lays later
stages over earlier ones, so each row ends with exactly one status.

These helpers build a value or two per row, so like the stages they run
with the cyclic garbage collector paused (see :mod:`importer.columns`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from .columns import paused_gc
from .models import ERROR_COLUMN_COL, RESULT_COLUMNS, ROW_COL, CellError
from .money import fen_or_none, fen_text, fen_to_yuan

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


# ----- money for analysts, and tallies shared by the console, the log, the notification and the Summary -----

MONEY_COLUMNS: tuple[str, ...] = ("estimated_unit_price", "estimated_amount", "freight", "order_total")
FEN_SUFFIX = "_fen"
BOUGHT_STATUSES = frozenset({"CREATED"})
PRICED_STATUSES = frozenset({"PREVIEWED"})
UNSETTLED_STATUSES = frozenset({"NOT_ATTEMPTED", "UNKNOWN"})
"""Rows a later run may still settle: never sent (a provider was down), or sent with no clear answer."""
SEVERITY: tuple[str, ...] = (
    "UNKNOWN",
    "ALREADY_CREATED_ELSEWHERE",
    "CREATE_FAILED",
    "PRICE_CHANGED",
    "PREVIEW_FAILED",
    "INVALID",
    "HELD",
    "NOT_ATTEMPTED",
    "VALID",
    "PREVIEWED",
    "ALREADY_CREATED",
    "CREATED",
    "SKIPPED",
)
"""Statuses worst first: an order's status is the worst status among its rows."""


def analyst_frame(outcomes: pd.DataFrame) -> pd.DataFrame:
    """The outcome frame as an analyst sums it: each money column as float yuan plus an exact ``<column>_fen``.

    ``order_total`` becomes a float64 column (NaN where blank) and
    ``order_total_fen`` a nullable Int64 column of hundredths (``<NA>`` where
    blank), so ``frame["order_total"].sum()`` works and
    ``frame["order_total_fen"].sum()`` is exact. A frame already converted is
    returned unchanged.
    """
    result = outcomes.copy()
    for column in MONEY_COLUMNS:
        if column not in result or f"{column}{FEN_SUFFIX}" in result:
            continue
        fen = [_fen(value) for value in result[column].tolist()]
        result[f"{column}{FEN_SUFFIX}"] = pd.array(fen, dtype="Int64")
        result[column] = pd.array([None if f is None else f / 100 for f in fen], dtype="float64")
    return result


def exact_frame(outcomes: pd.DataFrame) -> pd.DataFrame:
    """The inverse of :func:`analyst_frame`: money back to Decimal (from the fen columns), blanks back to ''."""
    result = outcomes.copy()
    for column in MONEY_COLUMNS:
        fen_column = f"{column}{FEN_SUFFIX}"
        if fen_column in result:
            fen = result.pop(fen_column).tolist()
            result[column] = pd.Series(
                ["" if pd.isna(f) else fen_to_yuan(int(f)) for f in fen], index=result.index, dtype=object
            )
        elif column in result and pd.api.types.is_float_dtype(result[column]):
            result[column] = pd.Series(
                ["" if pd.isna(v) else fen_to_yuan(round(float(v) * 100)) for v in result[column].tolist()],
                index=result.index,
                dtype=object,
            )
    return result


def _fen(value: Any) -> int | None:
    if isinstance(value, float) and value == value:  # a float that came back from an analyst frame
        return round(value * 100)
    return fen_or_none(value)


def totals_fen(outcomes: pd.DataFrame, statuses: frozenset[str], column: str = "order_total") -> dict[str, int]:
    """Exact sums per currency (in hundredths) of ``column`` over the rows whose status is in ``statuses``.

    ``order_total`` stands on one row per order (freight included), so its
    sum over bought rows is what was spent.
    """
    totals: dict[str, int] = {}
    currencies = outcomes["currency_charged"] if "currency_charged" in outcomes else pd.Series("", index=outcomes.index)
    for status, value, currency in zip(
        outcomes["status"].tolist(), outcomes[column].tolist(), currencies.tolist(), strict=True
    ):
        fen = _fen(value) if str(status) in statuses else None
        if fen is not None:
            key = str(currency or "") or "?"
            totals[key] = totals.get(key, 0) + fen
    return totals


def totals_text(totals: dict[str, int]) -> str:
    """``{"CNY": 123450}`` -> ``CNY 1234.50`` (several currencies joined by ", "; "0.00" when none)."""
    return ", ".join(f"{currency} {fen_text(fen)}" for currency, fen in sorted(totals.items())) or "0.00"


def order_statuses(frame: pd.DataFrame, outcomes: pd.DataFrame, severity: Sequence[str] = SEVERITY) -> pd.DataFrame:
    """One row per order of the sheet (provider + order_ref): its worst row status, rows and first row id.

    ``severity`` lists statuses worst first. Every row of the sheet belongs to
    exactly one order (a row without an order_ref is an order of its own),
    so the orders counted here are the orders the console, the log and the
    Summary all name.
    """
    rank = {status: i for i, status in enumerate(severity)}
    provider = frame["provider"].astype(str) if "provider" in frame else pd.Series("", index=frame.index)
    if "order_ref" in frame:
        ref = frame["order_ref"].astype(str)
        ref = ref.where(ref != "", "row " + frame[ROW_COL].astype(str))
    else:
        ref = "row " + frame[ROW_COL].astype(str)
    statuses = outcomes["status"].astype(str).reindex(frame.index).fillna("NOT_ATTEMPTED")
    blank = [None] * len(frame)
    totals = outcomes["order_total"].reindex(frame.index).tolist() if "order_total" in outcomes else blank
    ids = outcomes["provider_order_id"].reindex(frame.index).tolist() if "provider_order_id" in outcomes else blank
    table = pd.DataFrame(
        {
            "provider": provider,
            "order_ref": ref,
            "rank": statuses.map(lambda s: rank.get(s, len(rank))),
            "row_id": frame.index,
            "total_fen": [_fen(value) or 0 for value in totals],
            "ids": ["" if value is None or value != value else str(value) for value in ids],
        }
    )
    grouped = table.groupby(["provider", "order_ref"], sort=False)
    orders = grouped.agg(
        rank=("rank", "min"),
        rows=("row_id", "size"),
        first_row=("row_id", "min"),
        total_fen=("total_fen", "sum"),
        provider_order_ids=("ids", lambda found: ", ".join(dict.fromkeys(i for i in found if i))),
    ).reset_index()
    orders["status"] = [severity[r] if r < len(severity) else "NOT_ATTEMPTED" for r in orders["rank"]]
    return orders.drop(columns="rank").sort_values("first_row").reset_index(drop=True)
