"""HTTP plumbing shared by every provider: sessions, timeouts and redaction.

Redaction lives here, once: anything that may be logged or put into an error
message passes through :func:`redact` first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

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
