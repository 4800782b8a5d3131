"""Dajisaas Taobao/Tmall purchase orders (provider key ``dajisaas``).

Source: dajisaas-taobao-purchase-order-create.txt and PROVIDERS.md §4.

- Mapping (撞库): ``GET /taobao/product/get?item_id=…``.
- Preview: ``POST /taobao/purchase/order/render``.
- Create: ``POST /taobao/purchase/order/create`` with ``thirdOrderId`` (our external id).
- Lookup: ``POST /taobao/purchase/order/query``.

Credentials travel in the request (``appKey`` + ``appSecret`` in debug mode,
``appKey`` + ``sign`` in production; account option ``auth_mode``).
The envelope is ``{code, message, data, timestamp, traceId}``; success needs
``code == 200`` and, for orders, ``data.success``.

**[inferred]**: the render answer's nesting (``data.result`` holding the
upstream result, after a third-party summary), the error codes other than 200,
the sign rule for JSON bodies (see :func:`.auth.dajisaas_sign`), and the query
endpoint's body (``{thirdOrderId}``) and answer (``data.orders``: create
``data`` objects).
"""

from __future__ import annotations

import requests

from ..config import Account
from ..errors import NotSent, OutcomeUnknown, ProviderError, Rejected, Transient
from ..http import redact
from .auth import DajisaasAppKey
from .base import ApiRequest, JsonDict
from .capabilities import Capabilities, Fact
from .taobao_global import TaobaoGlobalProvider, query_lookup
from .upstream import as_object, int_or_none

QUERY_PATH = "/taobao/purchase/order/query"

# Envelope codes other than 200; [inferred] from a third-party summary (200, 400, 401, 500, 1009).
ERROR_CODES: dict[int, tuple[type[ProviderError], str]] = {
    400: (Rejected, "the provider could not read the request"),
    401: (Rejected, "the provider refused the appKey or its secret/sign"),
    429: (NotSent, "the provider asks to slow down"),
    500: (Transient, "the provider had an internal error"),
    1009: (Rejected, "the provider refused the request"),
}


class Dajisaas(TaobaoGlobalProvider):
    """Adapter for Dajisaas's Taobao/Tmall purchase orders."""

    key = "dajisaas"
    title = "Dajisaas (Taobao/Tmall)"
    default_base_url = "https://openapi.dajisaas.com"
    sandbox_prefix = "/dajisaas"
    MAPPING_PATH = "/taobao/product/get"
    RENDER_PATH = "/taobao/purchase/order/render"
    CREATE_PATH = "/taobao/purchase/order/create"
    REFERENCE_FIELD = "thirdOrderId"
    capabilities = Capabilities(
        caller_id_field=Fact(
            "thirdOrderId", "documented", "dajisaas-taobao-purchase-order-create.txt, 'Create order' body (required)"
        ),
        repeated_id=Fact("not documented", "inferred", "PROVIDERS.md §4 Create: dedupe on thirdOrderId not documented"),
        lookup=Fact(
            query_lookup("POST", QUERY_PATH, "{thirdOrderId}"),
            "inferred",
            "PROVIDERS.md §4 'Other Taobao endpoints': POST /taobao/purchase/order/query is listed "
            "('View order details'); its body and answer are not documented",
        ),
        money_unit=Fact(
            "fen", "documented", "dajisaas-taobao-purchase-order-create.txt: purchase_amount 计划购买金额 (单位分)"
        ),
        partial_create=Fact(
            False, "documented", "dajisaas-taobao-purchase-order-create.txt: support_partial_success, sent false"
        ),
        splits_by_seller=Fact(
            True, "documented", "dajisaas-taobao-purchase-order-create.txt answer: orderList[].purchaseId"
        ),
        preview=Fact(RENDER_PATH, "inferred", "PROVIDERS.md §4 'Preview': answer nesting from a third-party summary"),
    )

    def make_auth(self, account: Account) -> requests.auth.AuthBase:
        mode = str(account.options.get("auth_mode", "debug"))
        return DajisaasAppKey(account.credential("app_key"), account.credential("app_secret"), mode)

    def mapping_request(self, raw_id: str) -> ApiRequest:
        return ApiRequest("GET", self.MAPPING_PATH, params={"item_id": raw_id})

    def render_result(self, body: JsonDict) -> JsonDict:
        """[inferred] ``{code: 200, data: {result: {success, errorCode, errorMsg, data: <render data>}}}``."""
        return as_object(as_object(body.get("data")).get("result"))

    def check_envelope(self, body: JsonDict, endpoint: str) -> None:
        """``code == 200`` is success; the order-level ``data.success`` is read by the parse functions."""
        code = body.get("code")
        if code in (200, "200"):
            return
        message = redact(str(body.get("message") or body.get("detail") or "no message"), self._secrets())
        number = int_or_none(code)
        if number is None:
            kind: type[ProviderError] = OutcomeUnknown if endpoint == f"POST {self.CREATE_PATH}" else Transient
            raise kind(f"the answer is not a Dajisaas envelope: {message}", provider=self.key, endpoint=endpoint)
        kind, hint = ERROR_CODES.get(number, (Rejected, "the provider refused the request"))
        if kind is Transient and endpoint == f"POST {self.CREATE_PATH}":
            kind = OutcomeUnknown  # an internal error after a create was sent may still have created it
        raise kind(f"{hint}: {message}", provider=self.key, endpoint=endpoint, code=str(code))

    def lookup_request(self, external_id: str) -> ApiRequest:
        """[inferred] ``POST /taobao/purchase/order/query`` with ``{thirdOrderId}`` → ``data.orders``."""
        return ApiRequest("POST", QUERY_PATH, json={"thirdOrderId": external_id})
