"""Faults the sandbox injects, so retries and reconciliation meet real failure shapes.

The server asks :meth:`Faults.choose` once per call, before dispatch, and acts
on the :class:`FaultAction` it gets; :meth:`Faults.delay` gives the latency
for an endpoint. A new kind of fault is a new field here, a new action and
one branch in the server.

Two faults only apply to create endpoints, because they are the ones that
make an order's fate unclear: ``drop_after_commit`` (the order is created,
then the connection is closed without an answer) and ``error_after_commit``
(the order is created, then HTTP 500 is answered).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum


class LookupAnswer(Enum):
    """How the sandbox bends the answer of an order lookup (only lookups), to test that odd shapes prove nothing."""

    AS_IS = "as-is"
    """The lookup answers as the module does."""
    NULL_DATA = "null-data"
    """The envelope says success, with ``data: null``."""
    MISSING_KEYS = "missing-keys"
    """The envelope says success; ``data`` lacks the keys the lookup declares (``records``, ``orders``)."""
    ERROR_ENVELOPE = "error-envelope"
    """HTTP 200 with the provider's own error envelope."""
    HTTP_500 = "http-500"
    """HTTP 500 on the lookup only (the order was still looked up for nobody)."""


class FaultAction(Enum):
    """What the server does with one call instead of (or besides) answering it."""

    PASS = "pass"  # noqa: S105 - an action name, not a password
    """Dispatch the call normally."""
    HTTP_500 = "http-500"
    """Answer HTTP 500 without dispatching: nothing happens at the provider."""
    HTTP_503 = "http-503"
    """Answer HTTP 503 without dispatching."""
    HTTP_429 = "http-429"
    """Answer HTTP 429 with ``Retry-After`` without dispatching."""
    RESET = "reset"
    """Close the connection without an answer, without dispatching."""
    STALL = "stall"
    """Wait ``stall`` seconds (past the client's timeout), then dispatch and answer to nobody."""
    DROP_AFTER_COMMIT = "drop-after-commit"
    """Create: dispatch (the order is made), then close the connection without an answer."""
    ERROR_AFTER_COMMIT = "error-after-commit"
    """Create: dispatch (the order is made), then answer HTTP 500."""


_RATES = ("error_rate", "rate_503", "rate_429", "reset_rate", "stall_rate", "drop_after_commit", "error_after_commit")


@dataclass
class Faults:
    """Fault knobs; the defaults inject nothing.

    Rates are shares of calls between 0 and 1. ``latency`` is added to every
    call, ``endpoint_latency`` to calls whose path ends with a key (e.g.
    ``"/purchase/order/create"``). ``retry_after`` is the seconds sent with a
    429. ``rate_limit`` (calls per second, per provider) is enforced with a
    token bucket; calls over it get 429 with ``Retry-After``.
    ``lookup_answer`` bends every order lookup's answer (:class:`LookupAnswer`).
    ``seed`` makes the sequence of injected faults repeatable.
    """

    latency: float = 0.0
    endpoint_latency: Mapping[str, float] = field(default_factory=dict)
    error_rate: float = 0.0
    rate_503: float = 0.0
    rate_429: float = 0.0
    retry_after: float = 1.0
    reset_rate: float = 0.0
    stall_rate: float = 0.0
    stall: float = 15.0
    drop_after_commit: float = 0.0
    error_after_commit: float = 0.0
    rate_limit: float | None = None
    lookup_answer: LookupAnswer = LookupAnswer.AS_IS
    seed: int | None = None
    _rng: random.Random = field(init=False, repr=False, compare=False)
    _lock: threading.Lock = field(init=False, repr=False, compare=False, default_factory=threading.Lock)
    _buckets: dict[str, tuple[float, float]] = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        values = {name: getattr(self, name) for name in ("latency", "retry_after", "stall", *_RATES)}
        values.update({f"endpoint_latency[{path}]": v for path, v in self.endpoint_latency.items()})
        for name, value in values.items():
            if value < 0:
                raise ValueError(f"fault {name} must not be negative")
        for name in _RATES:
            if getattr(self, name) > 1:
                raise ValueError(f"fault {name} is a share between 0 and 1")
        if self.rate_limit is not None and self.rate_limit <= 0:
            raise ValueError("fault rate_limit must be above 0 calls per second")
        self._rng = random.Random(self.seed)  # noqa: S311 - fault injection, not security

    @property
    def active(self) -> bool:
        return (
            self.latency > 0
            or bool(self.endpoint_latency)
            or any(getattr(self, name) > 0 for name in _RATES)
            or self.rate_limit is not None
            or self.lookup_answer is not LookupAnswer.AS_IS
        )

    def _roll(self, rate: float) -> bool:
        if rate <= 0:
            return False
        if rate >= 1:
            return True
        with self._lock:
            return self._rng.random() < rate

    def delay(self, path: str) -> float:
        """Seconds to wait before handling a call to ``path``."""
        return self.latency + sum(seconds for suffix, seconds in self.endpoint_latency.items() if path.endswith(suffix))

    def choose(self, *, is_create: bool = False) -> FaultAction:
        """The action for the next call; draws from the seeded generator, thread-safe."""
        for rate, action in (
            (self.reset_rate, FaultAction.RESET),
            (self.rate_429, FaultAction.HTTP_429),
            (self.rate_503, FaultAction.HTTP_503),
            (self.error_rate, FaultAction.HTTP_500),
            (self.stall_rate, FaultAction.STALL),
        ):
            if self._roll(rate):
                return action
        if is_create and self._roll(self.drop_after_commit):
            return FaultAction.DROP_AFTER_COMMIT
        if is_create and self._roll(self.error_after_commit):
            return FaultAction.ERROR_AFTER_COMMIT
        return FaultAction.PASS

    def over_rate_limit(self, bucket: str, now: float | None = None) -> float | None:
        """Take one token from ``bucket``; the seconds until the next token when none is left, else None."""
        if self.rate_limit is None:
            return None
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(bucket, (self.rate_limit, now))
            tokens = min(self.rate_limit, tokens + (now - last) * self.rate_limit)
            if tokens < 1:
                self._buckets[bucket] = (tokens, now)
                return (1 - tokens) / self.rate_limit
            self._buckets[bucket] = (tokens - 1, now)
            return None
