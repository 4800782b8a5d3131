"""Sessions and request checks: a signed cookie per browser, a CSRF token per session, same-origin POSTs.

The session cookie is signed and dated with itsdangerous (HttpOnly,
SameSite=Strict), so it cannot be forged or kept past its lifetime. It carries
the user's name and a random CSRF token; every form posts the token back, and
a POST whose Origin or Sec-Fetch-Site says it came from another site is
refused before the token is even looked at.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request

SESSION_COOKIE = "oi_session"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class Session:
    """What the cookie says: who (empty before sign-in) and the CSRF token of this browser."""

    user: str
    csrf: str

    @classmethod
    def anonymous(cls) -> Session:
        return cls(user="", csrf=secrets.token_urlsafe(24))


class SessionSigner:
    """Signs and reads session cookies with the server's key."""

    def __init__(self, key: str, max_age_seconds: int) -> None:
        self._serializer = URLSafeTimedSerializer(key, salt="order-importer-session")
        self.max_age = max_age_seconds

    def dump(self, session: Session) -> str:
        return str(self._serializer.dumps({"u": session.user, "c": session.csrf}))

    def load(self, cookie: str | None) -> Session | None:
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=self.max_age)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("u"), str) or not isinstance(data.get("c"), str):
            return None
        return Session(user=data["u"], csrf=data["c"])


def session_key(data_dir: Path) -> str:
    """The server's signing key, made once and kept in the data folder (0600)."""
    path = data_dir / "session.key"
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(secrets.token_hex(32))
    return path.read_text(encoding="utf-8").strip()


def cross_site_reason(request: Request) -> str:
    """Why a POST looks like it came from another site; '' when it came from this one."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return f"the request came from another site (Sec-Fetch-Site: {fetch_site})"
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host", request.url.netloc):
        return f"the request came from another origin ({origin})"
    return ""


def csrf_matches(session: Session, sent: str | None) -> bool:
    """True when the form sent this session's token (compared in constant time)."""
    return bool(sent) and hmac.compare_digest(session.csrf.encode(), str(sent).encode())


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and 'localhost': addresses no other machine can reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
