"""What every Xportcn surface shares: signed headers and the ``{requestId, code, developId, msg, data}`` envelope.

PROVIDERS.md, "Xportcn: shared base URL, auth and envelope": HTTP 200 even
for business errors, ``code == 200`` is success, 3005 is the only documented
error code; the others below are [inferred].
"""

from __future__ import annotations

from typing import ClassVar

import requests

from ..config import Account
from ..errors import NotSent, OutcomeUnknown, ProviderError, Rejected, Transient
from ..http import redact
from .auth import XportcnSignedHeaders
from .base import JsonDict, Provider
from .upstream import int_or_none

# Envelope codes other than 200, and what they mean for the importer. Only
# 3005 is documented; the table of Xportcn error codes is not public, so the
# others are [inferred] and marked so.
ERROR_CODES: dict[int, tuple[type[ProviderError], str]] = {
    3005: (Rejected, "the provider could not read the request parameters"),
    401: (Rejected, "the provider refused the signature; check the access key and secret"),  # [inferred]
    429: (NotSent, "the provider asks to slow down"),  # [inferred]
}

_REFUSED: tuple[type[ProviderError], str] = (Rejected, "the provider refused the request")


class XportcnProvider(Provider):
    """Base of the Xportcn adapters; a subclass declares its paths and request/answer shapes."""

    default_base_url = "https://www.xportcn.com/api"
    CREATE_PATH: ClassVar[str]

    def make_auth(self, account: Account) -> requests.auth.AuthBase:
        return XportcnSignedHeaders(
            account.credential("access_key"),
            account.credential("secret"),
            str(account.options.get("user_id", "")),
            variant=str(account.options.get("signature_variant", "ak-ts-nonce-secret")),
            milliseconds=bool(account.options.get("timestamp_ms", False)),
        )

    def check_envelope(self, body: JsonDict, endpoint: str) -> None:
        """``code == 200`` is success; other codes map through ERROR_CODES (unknown ones are refusals)."""
        code = body.get("code")
        if code in (200, "200"):
            return
        message = redact(str(body.get("msg") or "no message"), self._secrets())
        if code is None:
            kind: type[ProviderError] = OutcomeUnknown if endpoint == f"POST {self.CREATE_PATH}" else Transient
            raise kind(f"the answer is not an Xportcn envelope: {message}", provider=self.key, endpoint=endpoint)
        number = int_or_none(code)
        kind, hint = ERROR_CODES.get(number, _REFUSED) if number is not None else _REFUSED
        raise kind(f"{hint}: {message}", provider=self.key, endpoint=endpoint, code=str(code))
