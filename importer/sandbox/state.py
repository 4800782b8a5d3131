"""What the sandbox remembers between calls: stock, created orders and call counts.

One :class:`SandboxState` is shared by every provider module of a running
sandbox, so stock taken through one provider is gone for the others, and tests
can count what reached "the provider". Handlers that read and then change
state (check stock, then take it) hold :attr:`SandboxState.lock` around both.
"""

from __future__ import annotations

import copy
import json
import os
import threading
import time
from collections import Counter, deque
from pathlib import Path
from typing import Any

from .catalogue import CATALOGUE
from .catalogue_1688 import OFFERS

StockKey = tuple[str, str]


def _initial_stock() -> dict[StockKey, int]:
    stock = {(item.item_id, sku.sku_id): sku.stock for item in CATALOGUE for sku in item.skus}
    stock.update({(offer.offer_id, spec.spec_id): spec.stock for offer in OFFERS for spec in offer.specs})
    return stock


STATE_FILE = "sandbox-state.json"


class SandboxState:
    """Thread-safe memory of one sandbox; :meth:`reset` returns it to the catalogue's start.

    With a ``folder``, created orders, their counts per external id, stock and
    the id sequence are saved there after every change and read back on
    start, so they survive a restart of the sandbox (``--state DIR``).
    """

    def __init__(self, folder: str | Path | None = None) -> None:
        self.lock = threading.RLock()
        self._sequence = 0  # never reset: ids stay unique for the life of the process (and of the folder)
        self._file = Path(folder) / STATE_FILE if folder is not None else None
        self._reset()
        self._load()

    def _load(self) -> None:
        if self._file is None or not self._file.exists():
            return
        saved = json.loads(self._file.read_text(encoding="utf-8"))
        self._sequence = int(saved["sequence"])
        self._stock.update({(item, sku): int(n) for item, sku, n in saved["stock"]})
        self._orders.update({str(k): list(v) for k, v in saved["orders"].items()})
        self._made.update({(p, ext): int(n) for p, ext, n in saved["made"]})
        self._creates.update({(p, ext): int(n) for p, ext, n in saved["creates"]})

    def _save(self) -> None:
        """Write what must survive a restart, atomically; the caller holds the lock."""
        if self._file is None:
            return
        saved = {
            "sequence": self._sequence,
            "stock": [[item, sku, n] for (item, sku), n in self._stock.items()],
            "orders": self._orders,
            "made": [[p, ext, n] for (p, ext), n in self._made.items()],
            "creates": [[p, ext, n] for (p, ext), n in self._creates.items()],
        }
        self._file.parent.mkdir(parents=True, exist_ok=True)
        partial = self._file.with_suffix(".partial")
        partial.write_text(json.dumps(saved, ensure_ascii=False), encoding="utf-8")
        os.replace(partial, self._file)

    def _reset(self) -> None:
        self._stock = _initial_stock()
        self._prices: dict[StockKey, int] = {}
        self._orders: dict[str, list[dict[str, Any]]] = {}
        self._creates: Counter[tuple[str, str]] = Counter()
        self._made: Counter[tuple[str, str]] = Counter()
        self._calls: Counter[str] = Counter()
        self._arrivals: deque[tuple[float, str]] = deque(maxlen=100_000)
        self._errors: list[str] = []

    def reset(self) -> None:
        """Forget orders and counts, and restore stock and prices."""
        with self.lock:
            self._reset()
            self._save()

    # ----- ids ------------------------------------------------------------------
    def next_id(self, base: int) -> str:
        """A fresh numeric id as text: ``base`` plus a process-wide sequence number."""
        with self.lock:
            self._sequence += 1
            self._save()
            return str(base + self._sequence)

    # ----- stock and prices -------------------------------------------------------
    def stock(self, item_id: str, sku_id: str) -> int:
        with self.lock:
            return self._stock.get((item_id, sku_id), 0)

    def set_stock(self, item_id: str, sku_id: str, quantity: int) -> None:
        with self.lock:
            self._stock[(item_id, sku_id)] = quantity

    def take_stock(self, item_id: str, sku_id: str, quantity: int) -> bool:
        """Take ``quantity`` units if that many are left; False (and nothing taken) otherwise."""
        with self.lock:
            left = self._stock.get((item_id, sku_id), 0)
            if quantity > left:
                return False
            self._stock[(item_id, sku_id)] = left - quantity
            self._save()
            return True

    def price(self, item_id: str, sku_id: str, default: int) -> int:
        """The unit price in fen now: a price set with :meth:`set_price`, else ``default``."""
        with self.lock:
            return self._prices.get((item_id, sku_id), default)

    def set_price(self, item_id: str, sku_id: str, fen: int) -> None:
        with self.lock:
            self._prices[(item_id, sku_id)] = fen

    # ----- orders -------------------------------------------------------------------
    def record_create(self, provider: str, external_id: str) -> None:
        """Count one create call that reached a provider's logic."""
        with self.lock:
            self._creates[(provider, external_id)] += 1
            self._save()

    def create_calls(self, external_id: str | None = None, provider: str | None = None) -> int:
        """How many create calls reached the providers, optionally for one external id or provider."""
        with self.lock:
            return sum(
                n
                for (p, ext), n in self._creates.items()
                if (external_id is None or ext == external_id) and (provider is None or p == provider)
            )

    def add_order(self, provider: str, order: dict[str, Any], external_id: str = "") -> None:
        """Remember a created order; ``external_id`` is the caller reference it was created with."""
        with self.lock:
            self._orders.setdefault(provider, []).append(copy.deepcopy(order))
            if external_id:
                self._made[(provider, external_id)] += 1
            self._save()

    def count_order(self, provider: str, external_id: str) -> None:
        """Count one order made under ``external_id`` (for providers that store one record per split part)."""
        with self.lock:
            self._made[(provider, external_id)] += 1
            self._save()

    def orders_per_external_id(self, provider: str | None = None) -> dict[str, int]:
        """How many orders were made under each external id: more than 1 is a duplicate purchase."""
        with self.lock:
            return {ext: n for (p, ext), n in self._made.items() if provider is None or p == provider}

    def order_counts(self) -> list[dict[str, Any]]:
        """``[{provider, external_id, orders}]``: how many orders were made under each external id."""
        with self.lock:
            return [{"provider": p, "external_id": ext, "orders": n} for (p, ext), n in sorted(self._made.items())]

    def duplicates(self) -> dict[str, int]:
        """External ids under which more than one order was made, at any provider."""
        with self.lock:
            return {f"{p}/{ext}": n for (p, ext), n in self._made.items() if n > 1}

    def orders(self, provider: str) -> list[dict[str, Any]]:
        """Copies of the orders created at one provider, oldest first."""
        with self.lock:
            return copy.deepcopy(self._orders.get(provider, []))

    # ----- calls and handler errors -------------------------------------------------
    def record_call(self, method: str, path: str) -> None:
        with self.lock:
            self._calls[f"{method} {path}"] += 1
            self._arrivals.append((time.monotonic(), f"{method} {path}"))

    def arrivals(self, prefix: str = "") -> list[float]:
        """Arrival times (``time.monotonic``) of the latest calls, optionally only paths under ``prefix``."""
        with self.lock:
            return [t for t, endpoint in self._arrivals if endpoint.split(" ", 1)[1].startswith(prefix)]

    def calls(self, endpoint: str | None = None) -> int:
        """Calls received, all or for one endpoint written as ``"POST /xportcn/api/open/order"``."""
        with self.lock:
            return self._calls[endpoint] if endpoint is not None else sum(self._calls.values())

    def calls_by_endpoint(self) -> dict[str, int]:
        with self.lock:
            return dict(self._calls)

    def record_error(self, text: str) -> None:
        """Keep a handler crash so a test can fail on it rather than on its HTTP 500."""
        with self.lock:
            self._errors.append(text)

    @property
    def errors(self) -> list[str]:
        with self.lock:
            return list(self._errors)
