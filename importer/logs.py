"""Logging: readable lines by default, JSON lines for machines, and never a secret in either.

Every record passes a redaction filter before it is formatted, so a
credential that slipped into a message (a URL with a token, a body with
``appSecret``) is masked in files and on the console alike. Fields given as
``extra`` (run_id, file, provider, order_ref, status, ms) become JSON keys.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .http import redact

LOGGER_NAME = "importer"
FIELDS = ("run_id", "file", "provider", "order_ref", "status", "endpoint", "ms")

log = logging.getLogger(LOGGER_NAME)


class RedactingFilter(logging.Filter):
    """Masks credential-looking text in every record (the last line of defence, after the callers' own)."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        super().__init__()
        self.secrets = list(secrets or [])

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), self.secrets)
        record.args = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, message and the known extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "msg": record.getMessage(),
        }
        entry.update({name: getattr(record, name) for name in FIELDS if hasattr(record, name)})
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(
    level: str = "WARNING", fmt: str = "text", file: Path | None = None, secrets: list[str] | None = None
) -> None:
    """Send the importer's log to stderr (or ``file``) at ``level``, as ``text`` or ``json`` lines."""
    if fmt not in ("text", "json"):
        raise ValueError(f"log format must be 'text' or 'json', not '{fmt}'")
    handler: logging.Handler = (
        logging.FileHandler(file, encoding="utf-8") if file else logging.StreamHandler(sys.stderr)
    )
    handler.setFormatter(
        JsonFormatter() if fmt == "json" else logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    )
    handler.addFilter(RedactingFilter(secrets))
    for old in list(log.handlers):
        log.removeHandler(old)
    log.addHandler(handler)
    log.setLevel(level.upper())
    log.propagate = False


def add_secrets(values: list[str]) -> None:
    """Mask these exact values too (the configured credentials) in everything logged from now on."""
    for handler in log.handlers:
        for found in handler.filters:
            if isinstance(found, RedactingFilter):
                found.secrets.extend(v for v in values if v)
