"""HTTP plumbing shared by every provider: sessions, timeouts and redaction.

Redaction lives here, once: anything that may be logged or put into an error
message passes through :func:`redact` first.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable

import requests
from requests.adapters import HTTPAdapter

# Header and body field names whose values are credentials or derived from them.
SENSITIVE_NAMES = frozenset(
    {
        "access-key",
        "access_key",
        "accesskey",
        "signature",
        "sign",
        "appkey",
        "appsecret",
        "app_key",
        "app_secret",
        "secret",
        "authorization",
        "access_token",
        "refresh_token",
        "token",
        "password",
    }
)

_NAMES = "|".join(re.escape(n) for n in sorted(SENSITIVE_NAMES, key=len, reverse=True))
_FIELD_PATTERN = re.compile(
    r"""(?ix)
    (["']?(?:"""
    + _NAMES
    + r""")["']?\s*[:=]\s*["']?)   # name, separator and an optional quote
    ([^"'&\s,}]+)                                       # the value
    """
)
_BEARER_PATTERN = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask credential-looking fields and any of the given secret values in ``text``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    text = _BEARER_PATTERN.sub(r"\1***", text)
    return _FIELD_PATTERN.sub(r"\1***", text)


def make_session(pool_size: int = 4) -> requests.Session:
    """A session with a connection pool sized for the provider's concurrency.

    Retries are not done here: the submit stage owns them, so that a create
    call is never repeated by a lower layer.
    """
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = "order-importer"
    return session


class RateLimiter:
    """At most ``rate`` calls per second, spaced evenly; :meth:`acquire` blocks until the next slot.

    Even spacing (a token bucket holding one token) keeps every 1-second
    window at or under the limit, which a bucket with a burst cannot promise.
    The interval is 5 % longer than ``1 / rate`` so thread and network
    jitter cannot push arrivals at the provider over the limit. Thread-safe.

    Slots lie on an even grid: a thread that wakes a little late (at most
    :attr:`catch_up` seconds, a sleep's usual overshoot) still takes its
    slot, and the next slot is one interval after the slot, not after the
    late call, so small delays do not add up over a long run. A call then
    leaves at most ``catch_up`` after its slot, and any 1-second window
    holds at most ``ceil((1 + catch_up) * rate / 1.05)`` calls: no more
    than a whole-number ``rate`` while ``catch_up`` stays under 0.05 s.
    A thread later than that starts the grid again from now.
    """

    MAX_CATCH_UP = 0.01
    """Seconds of lateness the grid absorbs, at most; the rest of the 5 % margin is left for network jitter."""

    def __init__(
        self, rate: float, *, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be above 0 calls per second")
        self.interval = 1.05 / rate
        self.catch_up = min(self.MAX_CATCH_UP, self.interval / 10)
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Wait for the next slot; the slot is taken when the call may go, not booked ahead.

        Booking slots ahead let every thread whose booked time passed during a
        stall (a collector pass, a busy machine) go at once when it ended: a
        burst over the limit. Taking the slot only once it is due keeps calls
        an interval apart however late a thread wakes: past ``catch_up``,
        the next slot is one interval from now, not from the missed slot.
        """
        while True:
            with self._lock:
                now = self._clock()
                wait = self._next - now
                if wait <= 0:
                    on_grid = -wait <= self.catch_up
                    self._next = (self._next if on_grid else now) + self.interval
                    return
            self._sleep(wait)


_LIMITERS: dict[tuple[str, float], RateLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def shared_limiter(account_key: str, rate: float) -> RateLimiter:
    """The one limiter of an account in this process.

    A preview stage and the create stage after it (separate calls from a
    notebook, or one run) then share the same budget.
    """
    with _LIMITERS_LOCK:
        limiter = _LIMITERS.get((account_key, rate))
        if limiter is None:
            limiter = _LIMITERS[(account_key, rate)] = RateLimiter(rate)
        return limiter
