"""Helpers for stages that handle every cell of a large sheet.

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
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

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
