"""Shanjing Ecommerce API, Taobao-global purchase orders (provider key ``shanjing``).

Source: shanjing-taobao-global-purchase-order-create.txt and PROVIDERS.md §5.

- Auth: ``Authorization: Bearer <access_token>``, renewed with
  ``GET /rest/taobao-global/auth/token/refresh?refresh_token=…``.
- Mapping (撞库): ``GET /rest/taobao-global/product/get?item_source_market=…&item_id=…``.
- Preview: ``POST /rest/taobao-global/purchase/order/render``.
- Create: ``POST /rest/taobao-global/purchase/order/create`` with ``outer_purchase_id`` (our external id).
- Lookup: ``GET /rest/taobao-global/purchase/order/query?outer_purchase_id=…``.

The envelope is ``{success, errorCode, errorMsg, data}``; success needs
``success`` and, for orders, ``data.success``.

**[inferred]**: the render answer (``data`` is the upstream render data), the
expired-token answer (HTTP 401, or ``errorCode`` ``IllegalAccessToken``, as
upstream Taobao Global answers), ``TB_MARKET`` as the Taobao source market, the
query path and answer (``data.orders``: create ``data`` objects), and that a
refresh may hand out a new refresh token. The Obtain Token call is not public:
an access token (optional) and a refresh token come from the environment.
"""

from __future__ import annotations

import requests

from ..config import Account
from ..errors import OutcomeUnknown, ProviderError, Rejected, Transient
from ..http import redact
from .auth import BearerWithRefresh, TokenRefreshFailed
from .base import ApiRequest, JsonDict
from .capabilities import Capabilities, Fact
from .taobao_global import TaobaoGlobalProvider, query_lookup
from .upstream import as_object, int_or_none, text

REFRESH_PATH = "/rest/taobao-global/auth/token/refresh"
QUERY_PATH = "/rest/taobao-global/purchase/order/query"
EXPIRED_TOKEN_CODES = frozenset({"IllegalAccessToken", "AccessTokenExpired"})  # [inferred] upstream codes
BUSY_CODES = frozenset({"ServiceUnavailable", "SYSTEM_BUSY", "ApiCallLimit"})  # [inferred] worth a retry


class Shanjing(TaobaoGlobalProvider):
    """Adapter for Shanjing's Taobao-global purchase orders."""

    key = "shanjing"
    title = "Shanjing (Taobao-global)"
    default_base_url = "https://ecommerce-api.shanjing-inc.com"
    sandbox_prefix = "/shanjing"
    MAPPING_PATH = "/rest/taobao-global/product/get"
    RENDER_PATH = "/rest/taobao-global/purchase/order/render"
    CREATE_PATH = "/rest/taobao-global/purchase/order/create"
    REFERENCE_FIELD = "outer_purchase_id"
    capabilities = Capabilities(
        caller_id_field=Fact(
            "outer_purchase_id", "documented", "shanjing-taobao-global-purchase-order-create.txt, create body"
        ),
        repeated_id=Fact(
            "not documented",
            "inferred",
            "PROVIDERS.md §5: upstream calls it idempotent, a reseller of the same upstream saw a second order",
        ),
        lookup=Fact(
            query_lookup("GET", QUERY_PATH, "?outer_purchase_id="),
            "inferred",
            "PROVIDERS.md §5 'Cancel and query': Order Query is listed as a GET; path and params not recovered",
        ),
        money_unit=Fact("fen", "inferred", "PROVIDERS.md §5: as the upstream (purchase_amount in fen)"),
        partial_create=Fact(
            False, "documented", "shanjing-taobao-global-purchase-order-create.txt: support_partial_success, sent false"
        ),
        splits_by_seller=Fact(
            True, "documented", "shanjing-taobao-global-purchase-order-create.txt answer: orderList[].purchaseId"
        ),
        preview=Fact(RENDER_PATH, "documented", "PROVIDERS.md §5 'Pre-create (render)'"),
    )

    def make_auth(self, account: Account) -> requests.auth.AuthBase:
        access = account.credentials.get("access_token")
        return BearerWithRefresh(
            self._refresh_token,
            account.credential("refresh_token"),
            access.reveal() if access is not None else "",
            is_expired=token_expired,
            margin=float(account.options.get("token_refresh_margin", 300)),
        )

    def _refresh_token(self, stale_token: str, refresh_token: str) -> tuple[str, float | None, str | None]:
        """Trade the refresh token for a new access token (documented answer fields)."""
        headers = {"Authorization": f"Bearer {stale_token}"} if stale_token else {}
        try:
            response = self.session.get(
                self.url(REFRESH_PATH),
                params={"refresh_token": refresh_token},
                headers=headers,
                timeout=(self.account.connect_timeout, self.account.read_timeout),
            )
            body = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise Transient(
                f"could not renew the access token: {type(exc).__name__}",
                provider=self.key,
                endpoint=f"GET {REFRESH_PATH}",
            ) from None
        data = as_object(body.get("data")) if "data" in body else as_object(body)
        token = text(data.get("access_token"))
        if response.status_code != 200 or not token:
            reason = redact(
                text(body.get("errorMsg") or data.get("error_code") or body.get("errorCode")), self._secrets()
            )
            raise Rejected(
                f"the refresh token was refused ({reason or 'no access token in the answer'}); "
                "get a new refresh token from Shanjing and update the environment",
                provider=self.key,
                endpoint=f"GET {REFRESH_PATH}",
                code="token_refresh",
            )
        expires = int_or_none(data.get("expires_in"))
        return token, float(expires) if expires else None, text(data.get("refresh_token")) or None

    def send(self, request: ApiRequest, *, may_have_side_effects: bool) -> JsonDict:
        try:
            return super().send(request, may_have_side_effects=may_have_side_effects)
        except TokenRefreshFailed as exc:
            raise self._error(Rejected, str(exc), request) from None

    def mapping_request(self, raw_id: str) -> ApiRequest:
        market = str(self.account.options.get("item_source_market", "TB_MARKET"))
        return ApiRequest("GET", self.MAPPING_PATH, params={"item_source_market": market, "item_id": raw_id})

    def render_result(self, body: JsonDict) -> JsonDict:
        """[inferred] the envelope is the upstream result itself: ``{success, errorCode, errorMsg, data}``."""
        return body

    def check_envelope(self, body: JsonDict, endpoint: str) -> None:
        """``success == true`` is success; the order-level ``data.success`` is read by the parse functions."""
        if body.get("success") is True:
            return
        code = text(body.get("errorCode"))
        message = redact(text(body.get("errorMsg")) or "no message", self._secrets())
        is_create = endpoint == f"POST {self.CREATE_PATH}"
        if "success" not in body:
            kind: type[ProviderError] = OutcomeUnknown if is_create else Transient
            raise kind(f"the answer is not a Shanjing envelope: {message}", provider=self.key, endpoint=endpoint)
        if code in EXPIRED_TOKEN_CODES:
            raise Rejected(
                f"the access token was refused even after renewal: {message}",
                provider=self.key,
                endpoint=endpoint,
                code=code,
            )
        if code in BUSY_CODES:
            raise Transient(f"the provider is busy: {message}", provider=self.key, endpoint=endpoint, code=code)
        raise Rejected(
            f"the provider refused the request: {message}", provider=self.key, endpoint=endpoint, code=code or None
        )

    def lookup_request(self, external_id: str) -> ApiRequest:
        """[inferred] ``GET …/purchase/order/query?outer_purchase_id=…`` → ``data.orders``."""
        return ApiRequest("GET", QUERY_PATH, params={"outer_purchase_id": external_id})


def token_expired(response: requests.Response) -> bool:
    """Whether an answer says the access token is missing, invalid or expired."""
    if response.status_code == 401:
        return True
    try:
        body = response.json()
    except ValueError:
        return False
    return (
        isinstance(body, dict) and body.get("success") is False and text(body.get("errorCode")) in EXPIRED_TOKEN_CODES
    )
