"""Run notifications: post the run's summary as JSON to a webhook when the run ends.

``--notify URL`` (or ``notify_url`` in ``[run]``) sends one POST with counts
per status, totals per currency, the results file and the exit code. The same
JSON suits a generic webhook and, through its ``text`` field, Slack. Webhook
URLs often carry a token in their path, so the URL itself is never logged or
written anywhere; a failed notification is a warning, never a failed run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import requests

from ..logs import log
from ..money import fen_text, is_amount, to_fen

if TYPE_CHECKING:
    from ..api import RunResult

TIMEOUT = (5.0, 10.0)


def run_summary(result: RunResult) -> dict[str, Any]:
    """What the webhook receives: no personal data, no credentials, only counts, sums and paths."""
    totals: dict[str, int] = {}  # fen per currency: summed exactly, shown in yuan
    counted = {"PREVIEWED", "CREATED", "ALREADY_CREATED"}
    for status, amount, currency in zip(
        result.outcomes["status"], result.outcomes["estimated_amount"], result.outcomes["currency_charged"], strict=True
    ):
        if str(status) in counted and is_amount(amount):
            totals[str(currency) or "?"] = totals.get(str(currency) or "?", 0) + to_fen(amount)
    counts = result.counts
    text = f"order-importer: {len(result.outcomes)} rows, {result.orders} orders, " + ", ".join(
        f"{n} {s}" for s, n in sorted(counts.items())
    )
    return {
        "text": text,
        "file": str(result.sheet.source or ""),
        "exit_code": result.exit_code,
        "rows": len(result.outcomes),
        "orders": result.orders,
        "counts": counts,
        "order_counts": result.order_counts,
        "warning_rows": result.warning_rows,
        "totals": {currency: fen_text(total) for currency, total in sorted(totals.items())},
        "output": str(result.output or ""),
    }


def notify(url: str, result: RunResult) -> bool:
    """POST the summary to ``url``; True when the receiver answered 2xx."""
    try:
        response = requests.post(url, json=run_summary(result), timeout=TIMEOUT)
    except requests.RequestException as error:
        log.warning("run notification not delivered: %s", type(error).__name__)
        return False
    if not response.ok:
        log.warning("run notification refused with HTTP %s", response.status_code)
        return False
    return True
