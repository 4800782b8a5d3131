"""What every Xportcn sandbox shares: header-signature checks and the response envelope.

Xportcn sends five headers (``access-key``, ``timestamp``, ``nonce-str``,
``user-id``, ``signature``), all required; the signature is
``MD5(access_key + timestamp + nonce + secret)`` in upper-case hex, and the
timestamp must be within 600 s of the server's clock (PROVIDERS.md, "Xportcn:
shared base URL, auth and envelope"). The timestamp is read in seconds, as the
seed example sends it (``1775221032``); a gate set to ``milliseconds`` reads
13 digits instead. ``user-id`` must be the account's user id. Every answer is HTTP 200 with the
envelope ``{requestId, code, developId, msg, data}``; ``code == 200`` is success.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from .schema import RequestLog
from .server import Handler, Reply, Request

MAX_CLOCK_SKEW = 600.0
"""Seconds a request's timestamp may differ from now (documented)."""

CODE_OK, MSG_OK = 200, "成功"
CODE_BAD_PARAMS, MSG_BAD_PARAMS = 3005, "获取参数失败"  # documented (xportcn-ka-taobao-order-create.txt)

# Xportcn's error-code table is not public. The codes and messages below are
# inferred; this is the one place to correct them once a real answer is seen.
AUTH_ERRORS: dict[str, tuple[int, str]] = {
    "missing": (401, "缺少签名参数"),  # [inferred] a signed header is absent
    "user_id": (401, "user-id无效"),  # [inferred] user-id absent or not this account's
    "access_key": (401, "access-key无效"),  # [inferred] unknown access key
    "timestamp": (401, "timestamp已过期"),  # [inferred] more than 600 s from now
    "signature": (401, "签名错误"),  # [inferred] signature does not match
}

SIGNED_HEADERS = ("access-key", "timestamp", "nonce-str", "signature")


def envelope(code: int, msg: str, data: Any = None, develop_id: str | None = None) -> dict[str, Any]:
    """The Xportcn response envelope; a fresh ``requestId`` per answer."""
    return {"requestId": uuid.uuid4().hex, "code": code, "developId": develop_id, "msg": msg, "data": data}


def sign(access_key: str, timestamp: str, nonce: str, secret: str) -> str:
    """The signature the sandbox expects; written out here so a client bug cannot hide in shared code."""
    text = access_key + timestamp + nonce + secret
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest().upper()


def _timestamp_seconds(value: str, milliseconds: bool) -> float | None:
    """Seconds since the epoch from the header, read in seconds (or milliseconds when the gate says so)."""
    if not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number / 1000 if milliseconds else float(number)


class XportcnGate:
    """Checks the signed headers of a call against the sandbox's keys.

    ``keys`` maps each accepted access key to its secret and ``user_id`` is the
    account's user id; ``develop_id`` is echoed in successful envelopes as
    Xportcn does. ``milliseconds`` makes the gate read 13-digit timestamps.
    """

    def __init__(
        self,
        keys: Mapping[str, str],
        user_id: str,
        develop_id: str | None = None,
        clock: Callable[[], float] = time.time,
        log: RequestLog | None = None,
    ) -> None:
        self.keys = dict(keys)
        self.user_id = user_id
        self.develop_id = develop_id
        self.clock = clock
        self.milliseconds = False
        self.log = log or RequestLog()

    def refusal(self, request: Request) -> dict[str, Any] | None:
        """The error envelope for a call that fails the header checks, or None if it passes."""
        values = {name: request.header(name) or "" for name in SIGNED_HEADERS}
        if not all(values.values()):
            return envelope(*AUTH_ERRORS["missing"])
        if (request.header("user-id") or "") != self.user_id:
            return envelope(*AUTH_ERRORS["user_id"])
        secret = self.keys.get(values["access-key"])
        if secret is None:
            return envelope(*AUTH_ERRORS["access_key"])
        sent_at = _timestamp_seconds(values["timestamp"], self.milliseconds)
        if sent_at is None or abs(self.clock() - sent_at) > MAX_CLOCK_SKEW:
            return envelope(*AUTH_ERRORS["timestamp"])
        expected = sign(values["access-key"], values["timestamp"], values["nonce-str"], secret)
        if not hmac.compare_digest(expected, values["signature"]):
            return envelope(*AUTH_ERRORS["signature"])
        return None

    def ok(self, data: Any) -> Reply:
        return 200, envelope(CODE_OK, MSG_OK, data, self.develop_id)

    def signed(self, handler: Callable[[Request], Reply]) -> Handler:
        """Wrap a handler so only correctly signed calls reach it."""

        def checked(request: Request) -> Reply:
            self.log.remember(request)
            refusal = self.refusal(request)
            if refusal is not None:
                return 200, refusal
            return handler(request)

        return checked


def bad_params(detail: str) -> Reply:
    """Xportcn's documented answer to a body it cannot read, with what was wrong after a colon."""
    return 200, envelope(CODE_BAD_PARAMS, f"{MSG_BAD_PARAMS}: {detail}")
