"""Authentication schemes, one class each, shared by the adapters that use them.

Each is a :class:`requests.auth.AuthBase`, so the same provider code works with
any scheme and the scheme can be tested on its own against the sandbox's
verifier.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import string
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

_NONCE_ALPHABET = string.ascii_letters + string.digits


def xportcn_signature(
    access_key: str, timestamp: str, nonce: str, secret: str, variant: str = "ak-ts-nonce-secret"
) -> str:
    """Upper-case MD5 hex of the signed header values and the secret.

    The official concatenation order is not public (PROVIDERS.md); the best
    evidence is ``access_key + timestamp + nonce + secret``. ``variant`` names
    the order of the four parts so a real account can switch without code.
    """
    parts = {"ak": access_key, "ts": timestamp, "nonce": nonce, "secret": secret}
    try:
        ordered = [parts[name] for name in variant.split("-")]
    except KeyError:
        raise ValueError(f"unknown Xportcn signature variant '{variant}'") from None
    return hashlib.md5("".join(ordered).encode(), usedforsecurity=False).hexdigest().upper()


class XportcnSignedHeaders(requests.auth.AuthBase):
    """Xportcn's header scheme: access-key, timestamp, nonce-str, user-id, signature."""

    def __init__(
        self,
        access_key: str,
        secret: str,
        user_id: str = "",
        *,
        variant: str = "ak-ts-nonce-secret",
        milliseconds: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._access_key = access_key
        self._secret = secret
        self._user_id = user_id
        self._variant = variant
        self._milliseconds = milliseconds
        self._clock = clock

    def __repr__(self) -> str:
        return "XportcnSignedHeaders(***)"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        now = self._clock()
        timestamp = str(int(now * 1000) if self._milliseconds else int(now))
        nonce = "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(32))
        request.headers["access-key"] = self._access_key
        request.headers["timestamp"] = timestamp
        request.headers["nonce-str"] = nonce
        request.headers["user-id"] = self._user_id
        request.headers["signature"] = xportcn_signature(
            self._access_key, timestamp, nonce, self._secret, self._variant
        )
        return request


def dajisaas_sign(params: Mapping[str, Any], secret: str) -> str:
    """Dajisaas's ``sign``: sorted ``k=v`` pairs joined by ``&``, then ``&secret=…``; MD5, upper-case hex.

    Null values are left out and empty strings kept (as two independent
    clients implement the unpublished rule). How nested objects and booleans
    are written for POST-JSON bodies is not public: they are **[inferred]** as
    compact JSON and ``true``/``false``, here and nowhere else.
    """
    pairs = [
        f"{key}={_sign_text(value)}" for key, value in sorted(params.items()) if key != "sign" and value is not None
    ]
    text = "&".join(pairs) + "&secret=" + secret
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest().upper()


def _sign_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


class DajisaasAppKey(requests.auth.AuthBase):
    """Dajisaas's credentials in the request itself: ``appKey`` plus ``appSecret`` (debug) or ``sign``.

    POST bodies get them as JSON fields, GET calls as query parameters. The
    documentation calls ``appSecret`` debug-only and ``sign`` the production
    way; ``mode`` picks one, from the account's ``auth_mode`` option.
    """

    MODES = ("debug", "sign")

    def __init__(self, app_key: str, app_secret: str, mode: str = "debug") -> None:
        if mode not in self.MODES:
            raise ValueError(f"unknown Dajisaas auth mode '{mode}'; use one of {', '.join(self.MODES)}")
        self._app_key = app_key
        self._app_secret = app_secret
        self._mode = mode

    def __repr__(self) -> str:
        return f"DajisaasAppKey(mode={self._mode!r}, ***)"

    def credentials_for(self, params: Mapping[str, Any]) -> dict[str, str]:
        """The fields to add to ``params``: appKey and either appSecret or the sign over both."""
        added = {"appKey": self._app_key}
        if self._mode == "debug":
            added["appSecret"] = self._app_secret
        else:
            added["sign"] = dajisaas_sign({**params, **added}, self._app_secret)
        return added

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if request.method == "GET" or not request.body:
            url = urlsplit(request.url or "")
            query = dict(parse_qsl(url.query, keep_blank_values=True))
            query.update(self.credentials_for(query))
            request.url = urlunsplit(url._replace(query=urlencode(query)))
            return request
        raw = request.body.decode("utf-8") if isinstance(request.body, bytes) else str(request.body)
        body = json.loads(raw)
        body.update(self.credentials_for(body))
        request.prepare_body(data=None, files=None, json=body)
        return request


class TokenRefreshFailed(Exception):
    """The bearer token could not be renewed; the message says why, without the token."""


class BearerWithRefresh(requests.auth.AuthBase):
    """``Authorization: Bearer <token>``, renewed with a refresh token.

    The token is renewed ahead of its expiry (``margin`` seconds before it),
    and when an answer says it has expired (``is_expired``) it is renewed once
    and the request replayed. ``refresh`` is the provider's call that trades
    the refresh token for ``(access_token, expires_in seconds or None,
    refresh_token or None)``. Thread-safe: one renewal at a time.
    """

    def __init__(
        self,
        refresh: Callable[[str, str], tuple[str, float | None, str | None]],
        refresh_token: str,
        access_token: str = "",
        *,
        is_expired: Callable[[requests.Response], bool],
        margin: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._refresh = refresh
        self._refresh_token = refresh_token
        self._access_token = access_token
        self._expires_at: float | None = None
        self._is_expired = is_expired
        self._margin = margin
        self._clock = clock
        self._lock = threading.Lock()
        self.renewals = 0

    def __repr__(self) -> str:
        return "BearerWithRefresh(***)"

    def current_token(self) -> str:
        """A token that is not about to expire, renewing it first when needed."""
        with self._lock:
            due = self._expires_at is not None and self._clock() >= self._expires_at - self._margin
            if not self._access_token or due:
                self._renew_locked(self._access_token)
            return self._access_token

    def renew(self, stale: str) -> str:
        """Renew the token unless another thread already replaced ``stale``; return the current one."""
        with self._lock:
            if self._access_token == stale:
                self._renew_locked(stale)
            return self._access_token

    def _renew_locked(self, stale: str) -> None:
        token, expires_in, refresh_token = self._refresh(stale, self._refresh_token)
        if not token:
            raise TokenRefreshFailed("the refresh answer held no access token")
        self._access_token = token
        self._expires_at = self._clock() + expires_in if expires_in else None
        if refresh_token:
            self._refresh_token = refresh_token
        self.renewals += 1

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        token = self.current_token()
        request.headers["Authorization"] = f"Bearer {token}"
        request.register_hook("response", self._replay_if_expired)  # type: ignore[no-untyped-call]
        return request

    def _replay_if_expired(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        """On an expired-token answer, renew once and send the same request again."""
        request = response.request
        if getattr(request, "_bearer_replayed", False) or not self._is_expired(response):
            return response
        sent_with = (request.headers.get("Authorization") or "").removeprefix("Bearer ")
        token = self.renew(sent_with)
        response.content  # noqa: B018 - read the body so the connection can be reused
        response.close()
        replay = request.copy()
        replay.headers["Authorization"] = f"Bearer {token}"
        replay._bearer_replayed = True  # type: ignore[attr-defined]
        adapter = response.connection
        answer: requests.Response = adapter.send(replay, **kwargs)
        answer.history.append(response)
        answer.request = replay
        return answer
