"""Helpers for stages that handle every cell of a large sheet.

:func:`each_distinct` asks a question once per distinct value of a column;
:func:`group_codes` numbers the combinations of values of several columns.

The stages pause Python's cyclic garbage collector while they build many
small objects. Reading, checking, grouping and writing a sheet of 100,000 rows create
millions of short lists, tuples and records that form no reference cycles.
With the collector running, each of its passes walks every container still
alive, and at that size those passes are a third to a half of the time of a
stage. Reference counting still frees everything as usual; the collector is
resumed (when it was on) as soon as the stage returns or fails.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterable
from typing import Any, ParamSpec, TypeVar

import numpy as np
import pandas as pd

P = ParamSpec("P")
R = TypeVar("R")


def paused_gc(stage: Callable[P, R]) -> Callable[P, R]:
    """Run ``stage`` with the cyclic collector paused; nested stages leave it as the outer one set it."""

    @functools.wraps(stage)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return stage(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return run


def all_text(values: list[Any]) -> bool:
    """True when every value is a str, checked in one pass in C (a generator costs 20 ms a column of 100,000)."""
    return set(map(type, values)) <= {str}


def each_distinct(series: pd.Series[Any], test: Callable[[Any], bool]) -> pd.Series[bool]:
    """``test`` of every cell, asked once per distinct value.

    Order sheets repeat themselves (one provider, a few items and prices,
    receivers on many rows), so a column of 100,000 cells holds a few
    thousand values at most; a regular expression run per cell by pandas'
    string methods cost ten times as much.
    """
    return for_distinct(series, lambda values: np.fromiter(map(test, values), dtype=bool, count=len(values)))


def for_distinct(series: pd.Series[Any], answer: Callable[[list[Any]], np.ndarray[Any, Any]]) -> pd.Series[bool]:
    """Like :func:`each_distinct`, for a test quicker asked of all distinct values at once (numpy on their lengths).

    ``answer`` gets the list of distinct values and gives one bool per value.
    """
    codes, uniques = distinct_values(series)
    answers = np.asarray(answer(uniques), dtype=bool)
    return pd.Series(answers[codes], index=series.index, dtype=bool)


def all_ascii_digits(values: list[Any]) -> bool:
    """True when every value is text of the digits 0-9 only (empty values allowed), checked in C."""
    if not all_text(values):
        return False
    joined = "".join(values)
    return joined.isascii() and joined.isdigit()


def distinct_values(series: pd.Series[Any]) -> tuple[np.ndarray[Any, np.dtype[np.intp]], list[Any]]:
    """A column's distinct values, and per cell the position of its value among them.

    A column of :func:`text_cells` is factorized already: its categories are
    the distinct values, at no cost.
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy().astype(np.intp, copy=False), series.cat.categories.tolist()
    codes, uniques = pd.factorize(series, use_na_sentinel=False)
    return codes, list(uniques)


def filled(cells: pd.Series[Any]) -> pd.Series[bool]:
    """Per cell, whether it is not the empty string; a column of :func:`text_cells` asks each category once."""
    if not isinstance(cells.dtype, pd.CategoricalDtype):
        return cells != ""
    codes = cells.cat.codes.to_numpy()
    empty = np.flatnonzero(cells.cat.categories.to_numpy(object) == "")  # the categories are distinct: one at most
    is_filled = codes != empty[0] if len(empty) else np.ones(len(codes), dtype=bool)  # a missing cell (-1) is not ""
    return pd.Series(is_filled, index=cells.index)


def text_cells(
    values: Iterable[str], index: pd.Index[Any], codes: np.ndarray[Any, Any] | None = None, *, distinct: bool = False
) -> pd.Series[Any]:
    """Text cells as categories: each distinct value stored once, the cells as codes into them.

    Checks then ask about each distinct value once and compare codes, not
    text. With ``codes``, ``values`` are the values and ``codes`` say which
    one each cell holds; two values may be equal (they become one) unless
    the caller knows them to be ``distinct``.
    """
    listed = list(values)
    if codes is not None and (distinct or len(set(listed)) == len(listed)):  # the codes hold as they are
        categories: Any = listed
    else:
        renumbered, categories = pd.factorize(np.array(listed, dtype=object))
        codes = renumbered if codes is None else renumbered[codes]
    cells = pd.Categorical.from_codes(codes, categories=pd.Index(categories, dtype=TEXT), validate=False)
    return pd.Series(cells, index=index)


def text_list(cells: pd.Series[Any]) -> list[str]:
    """The cells of a :func:`text_cells` column as a list of str: one take from its categories.

    Converting the column to a text dtype first would check every cell's
    type again and copy it twice (once to convert, once to fill blanks).
    """
    categories = np.append(cells.cat.categories.to_numpy(object), "")  # code -1 (missing) takes the last
    listed: list[str] = categories.take(cells.cat.codes.to_numpy()).tolist()
    return listed


def group_codes(*columns: pd.Series[Any]) -> np.ndarray[Any, np.dtype[np.intp]]:
    """One integer per row naming its combination of values: a group key far cheaper than joined text.

    Joining two text columns with a separator costs a new string per row;
    the codes are numpy arithmetic on each column's factorized values.
    """
    codes = np.zeros(len(columns[0]), dtype=np.intp)
    for column in columns:
        if isinstance(column.dtype, pd.CategoricalDtype):  # numbered already; a missing cell's -1 becomes 0
            column_codes = column.cat.codes.to_numpy().astype(np.intp) + 1
            size = len(column.cat.categories) + 1
        else:
            column_codes, uniques = pd.factorize(column, use_na_sentinel=False)
            size = len(uniques)
        codes, _ = pd.factorize(codes * size + column_codes)  # renumbered, so the next product stays small
    return codes


def first_of_group(codes: np.ndarray[Any, np.dtype[np.intp]]) -> np.ndarray[Any, np.dtype[np.intp]]:
    """Per row, the position of the first row with the same code (codes as :func:`group_codes` numbers them).

    The codes count up in order of first appearance, so the first rows of
    the groups, in order, are the groups' firsts.
    """
    firsts = np.flatnonzero(~pd.Series(codes).duplicated().to_numpy())
    per_row: np.ndarray[Any, np.dtype[np.intp]] = firsts[codes]
    return per_row


def _text_dtype() -> Any:
    """The text dtype, with Python storage where pandas has a choice.

    Checked cells then stay the very ``str`` objects the reader made. With
    pyarrow installed, pandas would otherwise copy every cell into Arrow
    buffers and back (a third more memory on a sheet of 100,000 rows).
    pandas before 2.3 has no such choice: ``str`` is its plain object column.
    """
    try:
        return pd.StringDtype("python", na_value=np.nan)
    except TypeError:
        return str


TEXT = _text_dtype()
