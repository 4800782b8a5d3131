"""The stages pause the cyclic garbage collector while they run and always resume it."""

import gc

import pandas as pd
import pytest

import importer
from importer.bulk import paused_gc


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
    from importer.bulk import all_text

    assert all_text(["a", "", "600126245031041190"]) and all_text([])
    assert not all_text(["a", None]) and not all_text(["1", 1.0])
