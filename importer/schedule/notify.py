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
from ..money import fen_text
from ..outcomes import totals_fen

if TYPE_CHECKING:
    from ..api import RunResult

TIMEOUT = (5.0, 10.0)


def run_summary(result: RunResult) -> dict[str, Any]:
    """What the webhook receives: no personal data, no credentials, only counts, sums and paths.

    ``text`` (what Slack shows) names the file, the rows and orders, the
    counts per status, the amount bought and, for a non-zero exit code, why.
    ``totals`` are the estimated amounts of the rows priced or bought;
    ``bought`` the order totals (freight included) of the orders this run created.
    """
    reason = result.reason()
    text = f"order-importer: {result.describe()}; exit {result.exit_code}" + (f": {reason}" if reason else "")
    return {
        "text": text,
        "file": str(result.sheet.source or ""),
        "exit_code": result.exit_code,
        "rows": len(result.outcomes),
        "orders": len(result.orders),
        "counts": result.counts,
        "order_counts": result.order_counts,
        "warning_rows": result.warning_rows,
        "totals": {
            currency: fen_text(fen)
            for currency, fen in sorted(totals_fen(result.outcomes, COUNTED, "estimated_amount").items())
        },
        "bought": {currency: fen_text(fen) for currency, fen in sorted(result.bought.items())},
        "output": str(result.output or ""),
    }


COUNTED = frozenset({"PREVIEWED", "CREATED", "ALREADY_CREATED"})


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
