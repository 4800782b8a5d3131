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
from .base import Absent, JsonDict, LookupResult, Provider, Unsure
from .fields import DOCUMENTED, INFERRED, RequestField
from .upstream import int_or_none, text

HEADER_SOURCE = "PROVIDERS.md, Xportcn system parameters (PandaPon twin doc-6055770)"
HEADER_FIELDS: tuple[RequestField, ...] = (
    RequestField("header access-key", "credential access_key", DOCUMENTED, HEADER_SOURCE),
    RequestField("header timestamp", "now, in seconds", DOCUMENTED, HEADER_SOURCE, "seconds (timestamp_ms = false)"),
    RequestField("header nonce-str", "32 random letters and digits", DOCUMENTED, HEADER_SOURCE),
    RequestField("header user-id", "option user_id (required)", DOCUMENTED, HEADER_SOURCE, "none: set user_id"),
    RequestField(
        "header signature",
        "MD5(access_key + timestamp + nonce + secret), upper-case hex",
        INFERRED,
        "third-party client; the official rule is not public (signature_variant)",
        "ak-ts-nonce-secret",
    ),
)
"""The signed headers every Xportcn surface sends."""
XPORTCN_CONFIG: tuple[tuple[str, str, str], ...] = (
    ("access_key_env, secret_env", "required", "environment variables holding the AccessKey and its secret"),
    ("user_id", "required", "your account's user id, sent in the user-id header (documented as required)"),
    ("timestamp_ms", "false", "send the timestamp in milliseconds (true/false; the example sends seconds)"),
    ("signature_variant", "ak-ts-nonce-secret", "the order of the signed parts (the official rule is not public)"),
)

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
        """The signed headers; ``user_id`` is required (the ``user-id`` header is documented as required)."""
        user_id = self.required_option(
            "user_id", "the user-id header is documented as required (Xportcn system parameters); use your account's"
        )
        return XportcnSignedHeaders(
            account.credential("access_key"),
            account.credential("secret"),
            user_id,
            variant=self.option_text("signature_variant", "ak-ts-nonce-secret"),
            milliseconds=self.option_flag("timestamp_ms", False),
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


def order_page_records(body: JsonDict, reference_field: str, external_id: str) -> list[JsonDict] | LookupResult:
    """The records of an Xportcn order page ``data: {records: [...], total}``, each carrying our id.

    Either the records, all filtered by ``reference_field`` == ``external_id``,
    or the lookup result the page itself settles: Absent only for
    ``records: []`` with ``total: 0``, Unsure for any other shape.
    """
    data = body.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("records"), list):
        return Unsure("the order list answer has no data.records list")
    total = data.get("total")
    if isinstance(total, bool) or not isinstance(total, int):
        return Unsure("the order list answer has no whole-number data.total")
    records: list[JsonDict] = data["records"]
    if not records:
        return Absent() if total == 0 else Unsure(f"the order list says {total} orders but shows none")
    if any(not isinstance(r, dict) or text(r.get(reference_field)) != external_id for r in records):
        return Unsure(f"the order list was not filtered by {reference_field}")
    return records
