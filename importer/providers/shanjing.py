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

The collision call sends ``item_source_market=CBU_MARKET``, the only value
the document shows (account option ``item_source_market``). The refresh call
is documented with the Bearer header too, so an access token is required
beside the refresh token. A line's ``currency`` is the currency its price was
previewed in (the example's ``USD`` goes with a USD price, which the importer
does not have); the option ``line_currency`` overrides it.

**[inferred]**: the render answer (``data`` is the upstream render data), the
expired-token answer (HTTP 401, or ``errorCode`` ``IllegalAccessToken``, as
upstream Taobao Global answers), the query path and answer (``data.orders``:
create ``data`` objects), and that a refresh may hand out a new refresh token.
The Obtain Token call is not public: both tokens come from the environment.
"""

from __future__ import annotations

import requests

from ..config import Account
from ..errors import OutcomeUnknown, ProviderError, Rejected, Transient
from ..http import redact
from .auth import BearerWithRefresh, TokenRefreshFailed
from .base import ApiRequest, JsonDict
from .capabilities import Capabilities, Fact
from .fields import DOCUMENTED, INFERRED, Endpoint, RequestField
from .taobao_global import TaobaoGlobalProvider, query_lookup
from .upstream import as_object, int_or_none, text

DOC = "shanjing-taobao-global-purchase-order-create.txt"
REFRESH_DOC = "PROVIDERS.md §5, Refresh Token (docs api-426247984)"
MAPPING_DOC = "PROVIDERS.md §5, Collision (docs api-424998918)"
RENDER_DOC = "PROVIDERS.md §5, Pre-create (docs en/api-424998919)"
PREVIEW = Fact(
    "/rest/taobao-global/purchase/order/render", "documented", RENDER_DOC + ": path and body; answer shape inferred"
)
"""The preview call: the capability, the endpoint table and the render path all read it."""
DEFAULT_MARKET = "CBU_MARKET"
WAREHOUSE_KEYS = ("zip", "country", "address", "city", "phone", "mobile_phone", "district", "name", "state")
CHECK_ITEM = "652876415053"
"""The collision document's example item id."""


def _field(name: str, value: str, column: str = "", default: str = "", source: str = f"{DOC}, example") -> RequestField:
    return RequestField(name, value, DOCUMENTED, source, default, column)


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
    RENDER_PATH = PREVIEW.value
    CREATE_PATH = "/rest/taobao-global/purchase/order/create"
    REFERENCE_FIELD = "outer_purchase_id"
    LINE_REMARK = True
    CONFIG = (
        ("access_token_env, refresh_token_env", "required", "environment variables holding both tokens"),
        ("item_source_market", DEFAULT_MARKET, "the collision call's source market (the only documented value)"),
        ("warehouse", "not sent", "your China warehouse, sent as warehouse_address_info"),
        ("order_source", "not sent", "the buyer platform when the sheet has no order_source column"),
        ("channel_order_type", "PANAMA", "PANAMA or PANAMA_DG"),
        ("support_partial_success", "false", "let the provider buy the buyable lines of an order"),
        ("line_currency", "the preview's", "the currency written on each line"),
        ("token_refresh_margin", "300", "seconds before expiry to renew the access token"),
        ("map_items", "auto", "auto, always or never: map raw Taobao ids to mpId / mpSkuId"),
    )
    ENDPOINTS = (
        Endpoint("token refresh", "GET", REFRESH_PATH, DOCUMENTED, REFRESH_DOC, "when the token is about to expire"),
        Endpoint("mapping (撞库)", "GET", MAPPING_PATH, DOCUMENTED, MAPPING_DOC, "once per raw item id"),
        Endpoint("preview", "POST", PREVIEW.value, PREVIEW.basis, PREVIEW.source, "before create"),
        Endpoint("create", "POST", CREATE_PATH, DOCUMENTED, DOC, "once per order"),
        Endpoint("check-config", "GET", MAPPING_PATH, DOCUMENTED, MAPPING_DOC + f", item {CHECK_ITEM}", "on demand"),
    )
    FIELDS = (
        _field("header Authorization", "Bearer access_token (required; also on the refresh)", source=REFRESH_DOC),
        _field("mapping: item_source_market", "option item_source_market", "", DEFAULT_MARKET, MAPPING_DOC),
        _field("outer_purchase_id", "the importer's external id"),
        RequestField(
            "purchase_amount",
            "Σ price × quantity + previewed China freight, in fen",
            INFERRED,
            "the example sends 443; fen and what it adds up are upstream's (PROVIDERS.md §0)",
        ),
        _field("seller_order_number", "sheet order_ref", "order_ref"),
        _field("order_source", "sheet order_source, else option order_source", "order_source", "not sent"),
        _field("order_line_list", "JSON string of the lines"),
        _field("order_line_list[].itemId", "mpId (mapped from sheet item_id), an integer", "item_id"),
        _field("order_line_list[].orderLineNo", "sheet line_no", "line_no", "1, 2, ..."),
        _field("order_line_list[].quantity", "sheet quantity, as a string", "quantity"),
        RequestField(
            "order_line_list[].price",
            "previewed unit price in fen, an integer",
            INFERRED,
            "the example shows an integer; what price it declares, and its unit, are not stated",
            "",
            "unit_price",
        ),
        _field(
            "order_line_list[].currency", "the preview's currency (the example's USD goes with a USD price)", "", "CNY"
        ),
        _field("order_line_list[].title", "sheet title", "title"),
        _field("order_line_list[].orderRemark", "sheet line_remark", "line_remark", "not sent"),
        _field("order_line_list[].skuId", "mpSkuId (mapped from sheet sku_id), an integer", "sku_id"),
        _field("receiver", "the sheet's receiver (object)"),
        *(
            _field(f"receiver.{k}", f"sheet {column}", column)
            for k, column in (
                ("zip", "zip"),
                ("country", "country"),
                ("address", "address"),
                ("city", "city"),
                ("phone", "receiver_phone"),
                ("mobile_phone", "receiver_mobile"),
                ("district", "district"),
                ("name", "receiver_name"),
                ("state", "province"),
            )
        ),
        _field("warehouse_address_info", "option warehouse", "", "not sent"),
        *(_field(f"warehouse_address_info.{key}", f"option warehouse.{key}") for key in WAREHOUSE_KEYS),
        _field("channel_order_type", "option channel_order_type", "", "PANAMA"),
        _field("support_partial_success", "option support_partial_success", "", "false"),
        _field("order_remark", "sheet order_remark", "order_remark", "not sent"),
        _field("need_supply_chain_service", "false", "", "false"),
        _field("need_sys_retry", "false", "", "false"),
        _field("render: receiver_address", "the sheet's receiver (object)", "", "", RENDER_DOC),
        _field("render: warehouse_address", "option warehouse", "", "not sent", RENDER_DOC),
        _field("render: render_item_List", "JSON string of {itemId, quantity, skuId}", "", "", RENDER_DOC),
    )
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
            True,
            "inferred",
            "shanjing-taobao-global-purchase-order-create.txt: a purchaseId per orderList[] entry; per seller inferred",
        ),
        preview=PREVIEW,
        create_needs_preview=Fact(True, "documented", f"{DOC}: create sends purchase_amount, the previewed total"),
    )

    def make_auth(self, account: Account) -> requests.auth.AuthBase:
        """Bearer auth; both tokens are required (the documented refresh call carries the Bearer header)."""
        return BearerWithRefresh(
            self._refresh_token,
            account.credential("refresh_token"),
            account.credential("access_token"),
            is_expired=token_expired,
            margin=float(account.options.get("token_refresh_margin", 300)),
        )

    def _refresh_token(self, stale_token: str, refresh_token: str) -> tuple[str, float | None, str | None]:
        """Trade the refresh token for a new access token (documented answer fields)."""
        headers = {"Authorization": f"Bearer {stale_token}"}
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
        market = self.option_text("item_source_market", DEFAULT_MARKET)
        return ApiRequest("GET", self.MAPPING_PATH, params={"item_source_market": market, "item_id": raw_id})

    def check_request(self) -> ApiRequest:
        return self.mapping_request(CHECK_ITEM)

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
