"""The helpers of the stages that handle every cell: the paused collector, per-value answers, group codes."""

import gc

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import importer
from importer.columns import each_distinct, first_of_group, group_codes, paused_gc


def test_a_stage_runs_with_the_collector_paused_and_resumes_it():
    seen = []

    @paused_gc
    def stage() -> int:
        seen.append(gc.isenabled())
        return 7

    assert stage() == 7
    assert seen == [False] and gc.isenabled()


def test_the_collector_is_resumed_when_a_stage_fails():
    @paused_gc
    def stage() -> None:
        raise ValueError("bad sheet")

    with pytest.raises(ValueError, match="bad sheet"):
        stage()
    assert gc.isenabled()


def test_a_nested_stage_leaves_the_collector_paused_for_the_outer_one():
    inner_after = []

    @paused_gc
    def inner() -> None:
        pass

    @paused_gc
    def outer() -> None:
        inner()
        inner_after.append(gc.isenabled())

    outer()
    assert inner_after == [False] and gc.isenabled()


def test_a_collector_switched_off_by_the_caller_stays_off():
    gc.disable()
    try:
        paused_gc(lambda: None)()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_pipeline_leaves_the_collector_on():
    frame = pd.DataFrame([{"provider": "xportcn-open", "order_ref": "PO-1", "item_id": "1", "quantity": "1"}])
    importer.group(importer.validate(frame))
    assert gc.isenabled()


def test_all_text_tells_a_column_of_str_from_one_with_anything_else():
    from importer.columns import all_text

    assert all_text(["a", "", "600126245031041190"]) and all_text([])
    assert not all_text(["a", None]) and not all_text(["1", 1.0])


# ----- per distinct value, group codes -------------------------------------------------------------

CELLS = st.lists(st.sampled_from(["", "a", "b", " a", "上海", "138"]) | st.none(), min_size=1, max_size=40)


@given(CELLS)
def test_each_distinct_answers_every_cell_as_asking_each_would(cells):
    asked: list[object] = []

    def test(value: object) -> bool:
        asked.append(value)
        return isinstance(value, str) and value.startswith("a")

    series = pd.Series(cells, index=range(100, 100 + len(cells)), dtype=object)
    answers = each_distinct(series, test)
    assert answers.tolist() == [isinstance(v, str) and v.startswith("a") for v in cells]
    assert answers.index.equals(series.index)
    assert len(asked) == len(set(map(repr, cells)))  # once per distinct value (None included)


@given(CELLS, CELLS, st.sampled_from(["object", "category"]))
def test_group_codes_name_each_combination_and_first_of_group_finds_its_first_row(left, right, dtype):
    """Plain and categorical columns alike; categories may be unused (rows filtered away) or missing."""
    n = min(len(left), len(right))
    left, right = left[:n], right[:n]
    columns = [pd.Series(values, dtype=object) for values in (left, right)]
    if dtype == "category":
        categories = pd.CategoricalDtype(["unused", "", "a", "b", " a", "上海", "138"])
        columns = [column.astype(categories) for column in columns]
    codes = group_codes(*columns)
    pairs = list(zip(left, right, strict=True))
    for i in range(n):
        for j in range(n):
            assert (codes[i] == codes[j]) == (pairs[i] == pairs[j])
    assert first_of_group(codes).tolist() == [pairs.index(pair) for pair in pairs]


@given(CELLS)
def test_text_cells_hold_each_value_once_and_give_back_every_cell(cells):
    from importer.columns import TEXT, distinct_values, text_cells

    texts = ["" if v is None else v.strip() for v in cells]  # two typed values may clean to one
    index = pd.RangeIndex(7, 7 + len(texts))
    column = text_cells(texts, index)
    assert column.tolist() == texts and column.index.equals(index)
    assert column.cat.categories.is_unique and column.cat.categories.dtype == TEXT
    codes, values = distinct_values(column)
    assert [values[code] for code in codes] == texts

    distinct = list(dict.fromkeys(cells))
    typed_codes = [distinct.index(v) for v in cells]
    cleaned = ["" if v is None else v.strip() for v in distinct]
    assert text_cells(cleaned, index, np.array(typed_codes)).tolist() == texts


@given(CELLS)
def test_distinct_values_of_a_plain_column_number_its_cells_as_factorizing_would(cells):
    from importer.columns import distinct_values

    codes, values = distinct_values(pd.Series(cells, dtype=object))
    missing = [pd.isna(values[code]) for code in codes]  # pandas gives a missing cell back as NaN
    assert missing == [cell is None for cell in cells]
    present = [values[code] for code, gone in zip(codes, missing, strict=True) if not gone]
    assert present == [cell for cell in cells if cell is not None]
    assert len(values) == len(set(map(repr, cells)))


@given(CELLS)
def test_filled_answers_alike_for_plain_text_and_for_categories(cells):
    from importer.columns import filled, text_cells

    texts = ["" if v is None else v for v in cells]
    plain = pd.Series(texts, dtype=object)
    assert filled(plain).tolist() == [t != "" for t in texts]
    assert filled(text_cells(texts, plain.index)).tolist() == [t != "" for t in texts]


@given(CELLS)
def test_text_list_gives_back_the_cells_of_a_category_column_as_str(cells):
    from importer.columns import text_cells, text_list

    texts = ["" if v is None else v for v in cells]
    listed = text_list(text_cells(texts, pd.RangeIndex(len(texts))))
    assert listed == texts and all(type(value) is str for value in listed)
    assert text_list(pd.Series(pd.Categorical([None, "a"]))) == ["", "a"]  # a missing cell reads as empty
