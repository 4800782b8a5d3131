"""Authentication schemes, one class each, shared by the adapters that use them.

Each is a :class:`requests.auth.AuthBase`, so the same provider code works with
any scheme and the scheme can be tested on its own against the sandbox's
verifier.
"""

from __future__ import annotations

import hashlib
import secrets
import string
import time
from collections.abc import Callable

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
