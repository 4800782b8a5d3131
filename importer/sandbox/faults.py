"""Faults the sandbox injects, so retries and reconciliation meet real failure shapes.

The server asks :meth:`Faults.choose` once per call, before dispatch, and acts
on the :class:`FaultAction` it gets. A new kind of fault is a new field here,
a new action and one branch in the server.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from enum import Enum


class FaultAction(Enum):
    """What the server does with one call instead of (or besides) answering it."""

    PASS = "pass"  # noqa: S105 - an action name, not a password
    """Dispatch the call normally."""
    HTTP_500 = "http-500"
    """Answer HTTP 500 without dispatching: nothing happens at the provider."""


@dataclass
class Faults:
    """Fault knobs; the defaults inject nothing.

    ``latency`` (seconds) is added to every call. ``error_rate`` is the share
    of calls answered HTTP 500 before they reach the provider logic. ``seed``
    makes the sequence of injected faults repeatable.
    """

    latency: float = 0.0
    error_rate: float = 0.0
    seed: int | None = None
    _rng: random.Random = field(init=False, repr=False, compare=False)
    _lock: threading.Lock = field(init=False, repr=False, compare=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        for name in ("latency", "error_rate"):
            if getattr(self, name) < 0:
                raise ValueError(f"fault {name} must not be negative")
        if self.error_rate > 1:
            raise ValueError("fault error_rate is a share between 0 and 1")
        self._rng = random.Random(self.seed)  # noqa: S311 - fault injection, not security

    @property
    def active(self) -> bool:
        return self.latency > 0 or self.error_rate > 0

    def _roll(self, rate: float) -> bool:
        if rate <= 0:
            return False
        if rate >= 1:
            return True
        with self._lock:
            return self._rng.random() < rate

    def choose(self) -> FaultAction:
        """The action for the next call; draws from the seeded generator, thread-safe."""
        if self._roll(self.error_rate):
            return FaultAction.HTTP_500
        return FaultAction.PASS
