"""Stage 4, submit: preview and create the grouped orders at their providers, exactly once.

``orders`` prices and creates orders (retries, the circuit breaker,
reconciliation of orders a killed run may have sent); ``ledger`` is the SQLite
journal that records an order's state before its create request leaves.
"""

from .ledger import Ledger
from .orders import Progress, RetryPolicy, create_orders, preview_orders, reconcile

__all__ = ["Ledger", "Progress", "RetryPolicy", "create_orders", "preview_orders", "reconcile"]
