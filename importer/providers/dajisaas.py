"""Dajisaas Taobao/Tmall purchase orders (provider key ``dajisaas``).

Source: dajisaas-taobao-purchase-order-create.txt and PROVIDERS.md §4.

- Mapping (撞库): ``GET /taobao/product/get?item_id=…``.
- Preview: ``POST /taobao/purchase/order/render``.
- Create: ``POST /taobao/purchase/order/create`` with ``thirdOrderId`` (our external id).
- Lookup: ``POST /taobao/purchase/order/query``.

The document says to fill ``receiver`` (and the render's ``receiver_address``)
with the China warehouse, and upstream requires ``warehouse_address_info``
when the order is not cross-border: the account's ``warehouse`` table (every
address key filled) is therefore required, and is sent in all three for a
mainland receiver. A receiver abroad (a cross-border order, e.g. Brazil with
its tax id) is sent as the sheet gives it, the warehouse beside it.
``order_source`` is required (English document): the sheet's column or the
account option, else the order is refused on its rows before anything is sent.

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

from typing import Any

import requests

from ..config import Account
from ..errors import ConfigError, NotSent, OutcomeUnknown, ProviderError, Rejected, Transient
from ..http import redact
from ..models import OrderDraft
from .auth import DajisaasAppKey
from .base import ApiRequest, JsonDict
from .capabilities import Capabilities, Fact
from .fields import DOCUMENTED, INFERRED, Endpoint, RequestField
from .taobao_global import TaobaoGlobalProvider, query_lookup, receiver_object
from .upstream import as_object, int_or_none

QUERY_PATH = "/taobao/purchase/order/query"
DOC = "dajisaas-taobao-purchase-order-create.txt"
CREATE_TABLE = "PROVIDERS.md §4, Create table (wiki-en api-194164780)"
RENDER_DOC = "PROVIDERS.md §4, Preview (wiki-en api-194164778)"
PREVIEW = Fact(
    "/taobao/purchase/order/render",
    "documented",
    RENDER_DOC + ": path and body; answer shape inferred from a third-party summary",
)
"""The preview call: the capability, the endpoint table and the render path all read it."""
MAPPING_DOC = "PROVIDERS.md §4, Collision (wiki-en api-202449555)"
CHECK_ITEM = "703446760426"
"""The collision document's example item id."""
ADDRESS_KEYS = ("country", "state", "city", "district", "address", "zip", "name", "phone", "mobile_phone")
MAINLAND = frozenset({"", "中国", "中国大陆", "china", "cn", "chn"})


def _field(name: str, value: str, column: str = "", default: str = "", source: str = f"{DOC}, example") -> RequestField:
    return RequestField(name, value, DOCUMENTED, source, default, column)


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
    RENDER_PATH = PREVIEW.value
    CREATE_PATH = "/taobao/purchase/order/create"
    REFERENCE_FIELD = "thirdOrderId"
    ORDER_SOURCE_REQUIRED = True
    FILL_WAREHOUSE_PHONES = True
    CONFIG = (
        ("app_key_env, app_secret_env", "required", "environment variables holding the appKey and appSecret"),
        ("auth_mode", "debug", "debug (appSecret in the body) or sign (the production sign)"),
        (
            "warehouse",
            "required",
            "your China warehouse: a table with " + ", ".join(ADDRESS_KEYS) + " (one of the two numbers will do)",
        ),
        ("order_source", "required", "the buyer platform (e.g. lazada) when the sheet has no order_source column"),
        ("channel_order_type", "PANAMA", "PANAMA or PANAMA_DG"),
        ("support_partial_success", "false", "let the provider buy the buyable lines of an order"),
        ("line_currency", "the preview's", "the currency written on each line"),
        ("map_items", "auto", "auto, always or never: map raw Taobao ids to mpId / mpSkuId"),
    )
    ENDPOINTS = (
        Endpoint("mapping (撞库)", "GET", MAPPING_PATH, DOCUMENTED, MAPPING_DOC, "once per raw item id"),
        Endpoint("preview", "POST", PREVIEW.value, PREVIEW.basis, PREVIEW.source, "before create"),
        Endpoint("create", "POST", CREATE_PATH, DOCUMENTED, DOC, "once per order"),
        Endpoint("check-config", "GET", MAPPING_PATH, DOCUMENTED, MAPPING_DOC + f", item {CHECK_ITEM}", "on demand"),
    )
    FIELDS = (
        _field("appKey", "credential app_key", source=CREATE_TABLE),
        _field("appSecret", "credential app_secret (auth_mode = debug, the default)", source=CREATE_TABLE),
        RequestField(
            "sign",
            "MD5 of the sorted body and the secret (auth_mode = sign)",
            INFERRED,
            "the rule is quoted by third-party clients; how JSON bodies are signed is not public (PROVIDERS.md §4)",
        ),
        _field("thirdOrderId", "the importer's external id", source=CREATE_TABLE),
        RequestField(
            "purchase_amount",
            "Σ price × quantity + previewed China freight, in fen",
            INFERRED,
            f"fen is documented ({CREATE_TABLE}); what the planned amount adds up is not",
        ),
        _field("seller_order_number", "sheet order_ref", "order_ref", source=CREATE_TABLE),
        _field(
            "order_source", "sheet order_source, else option order_source (required)", "order_source", "none: set it"
        ),
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
        _field("order_line_list[].currency", "the preview's currency", "", "CNY (option line_currency)"),
        _field("order_line_list[].title", "sheet title", "title"),
        _field("order_line_list[].skuId", "mpSkuId (mapped from sheet sku_id), an integer", "sku_id"),
        _field("receiver", "the China warehouse (option warehouse); abroad: the sheet's receiver", source=CREATE_TABLE),
        *(
            _field(f"receiver.{k}", "option warehouse." + k, column, source=CREATE_TABLE)
            for k, column in (
                ("country", "country"),
                ("state", "province"),
                ("city", "city"),
                ("district", "district"),
                ("address", "address"),
                ("zip", "zip"),
                ("name", "receiver_name"),
                ("phone", "receiver_phone"),
                ("mobile_phone", "receiver_mobile"),
            )
        ),
        _field("receiver.tax_id", "sheet tax_id (receivers abroad)", "tax_id", "not sent"),
        _field("warehouse_address_info", "option warehouse (required)", "", "none: set it"),
        *(_field(f"warehouse_address_info.{key}", f"option warehouse.{key}") for key in ADDRESS_KEYS),
        _field("channel_order_type", "option channel_order_type", "", "PANAMA"),
        _field("support_partial_success", "option support_partial_success", "", "false"),
        _field("order_remark", "sheet order_remark", "order_remark", "not sent"),
        _field("need_supply_chain_service", "false", "", "false"),
        _field("need_sys_retry", "false", "", "false"),
        _field("render: receiver_address", "the China warehouse (option warehouse)", "", "", RENDER_DOC),
        _field("render: warehouse_address", "option warehouse", "", "", RENDER_DOC),
        _field("render: render_item_List", "JSON string of {itemId, quantity, skuId}", "", "", RENDER_DOC),
    )
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
            "fen", "documented", "PROVIDERS.md §4 Create: purchase_amount 计划购买金额 (单位分), from the ZH wiki page"
        ),
        partial_create=Fact(
            False, "documented", "dajisaas-taobao-purchase-order-create.txt: support_partial_success, sent false"
        ),
        splits_by_seller=Fact(
            True,
            "inferred",
            "dajisaas-taobao-purchase-order-create.txt: a purchaseId per orderList[] entry; one per seller inferred",
        ),
        preview=PREVIEW,
        create_needs_preview=Fact(True, "documented", f"{DOC}: create sends purchase_amount, the previewed total"),
    )

    def make_auth(self, account: Account) -> requests.auth.AuthBase:
        mode = self.option_choice("auth_mode", "debug", DajisaasAppKey.MODES)
        self.require_warehouse()
        return DajisaasAppKey(account.credential("app_key"), account.credential("app_secret"), mode)

    def require_warehouse(self) -> dict[str, Any]:
        """The China warehouse, every address key filled; a ConfigError before anything is sent otherwise."""
        warehouse = self.warehouse()
        missing = [key for key in ADDRESS_KEYS if not str(warehouse.get(key, "")).strip()]
        if missing:
            raise ConfigError(
                f"[providers.{self.key}] needs a warehouse table with {', '.join(missing)}: the document fills "
                "receiver and warehouse_address_info with your China warehouse (every key required)"
            )
        return warehouse

    def preview_receiver(self, order: OrderDraft) -> dict[str, str]:
        """The render's ``receiver_address`` is the China warehouse ("填写中国仓库信息即可")."""
        return {key: str(value) for key, value in self.require_warehouse().items()}

    def create_receiver(self, order: OrderDraft) -> dict[str, str]:
        """The China warehouse for a mainland receiver; the sheet's receiver (with its tax id) abroad."""
        if order.receiver.country.strip().lower() in MAINLAND:
            return {key: str(value) for key, value in self.require_warehouse().items()}
        return receiver_object(order.receiver, phone_from_mobile=True)

    def check_request(self) -> ApiRequest:
        return ApiRequest("GET", self.MAPPING_PATH, params={"item_id": CHECK_ITEM})

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
