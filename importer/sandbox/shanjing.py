"""Sandbox of Shanjing's Taobao-global purchase orders (provider key ``shanjing``).

Served at ``/shanjing`` in place of ``https://ecommerce-api.shanjing-inc.com``.
Every call needs ``Authorization: Bearer <access_token>``; tokens last
:attr:`ShanjingSandbox.token_lifetime` seconds and are renewed with the
documented ``GET /rest/taobao-global/auth/token/refresh?refresh_token=…``.
Answers use ``{success, errorCode, errorMsg, data}``.

**[inferred]**: a missing token is answered HTTP 401, an unknown or expired one
HTTP 200 with ``errorCode`` ``IllegalAccessToken`` (the upstream's code); the
refresh answer is the documented flat object and keeps the same refresh token;
the render ``data`` is the upstream render data; the query path.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from .schema import BOOLEAN, ID, INTEGER, NUMBER, STRING, WHOLE, Field, optional, required
from .server import Handler, Reply, Request
from .state import SandboxState
from .taobao_global import TaobaoGlobalSandbox, address_fields

TOKEN_LIFETIME = 7200.0


class ShanjingSandbox(TaobaoGlobalSandbox):
    """The ``shanjing`` provider: token refresh, collision, render, create and query."""

    PROVIDER_KEY = "shanjing"
    PREFIX = "/shanjing"
    CREDENTIALS: ClassVar[Mapping[str, str]] = {
        "access_token": "sandbox-shanjing-token",
        "refresh_token": "sandbox-shanjing-refresh",
    }
    OPTIONS: ClassVar[Mapping[str, Any]] = {
        "order_source": "lazada",
        "warehouse": {
            "name": "闪鲸杭州仓",
            "phone": "",
            "mobile_phone": "15068763421",
            "country": "中国",
            "state": "浙江省",
            "city": "杭州市",
            "district": "余杭区",
            "address": "仓前街道仓库路8号",
            "zip": "311100",
        },
    }
    MAPPING_PATH = "/rest/taobao-global/product/get"
    RENDER_PATH = "/rest/taobao-global/purchase/order/render"
    CREATE_PATH = "/rest/taobao-global/purchase/order/create"
    QUERY = ("GET", "/rest/taobao-global/purchase/order/query")
    REFRESH_PATH = "/rest/taobao-global/auth/token/refresh"
    REFERENCE_FIELD = "outer_purchase_id"
    MARKET_KEY = "purchaseMarket"
    MARKETS = ("CBU_MARKET",)
    """``item_source_market`` values the collision document shows."""
    MAPPING_FIELDS: ClassVar[tuple[Field, ...]] = (
        required("item_source_market", STRING, choices=MARKETS),
        required("item_id", WHOLE),
    )
    CREATE_FIELDS: ClassVar[tuple[Field, ...]] = (
        required("outer_purchase_id", STRING),
        required("purchase_amount", INTEGER),
        optional("seller_order_number", STRING),
        optional("order_source", STRING),
        required("order_line_list", STRING),
        required("receiver", "object"),
        optional("warehouse_address_info", "object"),
        optional("channel_order_type", STRING, choices=("PANAMA", "PANAMA_DG")),
        optional("support_partial_success", BOOLEAN),
        optional("order_remark", STRING),
        optional("need_supply_chain_service", BOOLEAN),
        optional("need_sys_retry", BOOLEAN),
    )
    """The create example's fields; required as upstream marks them (outer_purchase_id, purchase_amount,
    order_line_list, receiver)."""
    LINE_FIELDS: ClassVar[tuple[Field, ...]] = (
        required("itemId", ID),
        required("orderLineNo", STRING),
        required("quantity", WHOLE),
        required("price", NUMBER),
        required("currency", STRING),
        optional("title", STRING),
        optional("orderRemark", STRING),
        required("skuId", ID),
        optional("productId", ID),
    )
    RENDER_FIELDS: ClassVar[tuple[Field, ...]] = (
        optional("need_supplychain_service", BOOLEAN),
        required("render_item_List", STRING),
        optional("warehouse_address", "object"),
        required("receiver_address", "object"),
    )
    RECEIVER_FIELDS = address_fields(all_required=False)
    """The example's receiver keys; phone may be empty (the example sends ``"phone": ""``)."""
    WAREHOUSE_FIELDS = address_fields(all_required=False)

    def __init__(self, state: SandboxState) -> None:
        super().__init__(state)
        self.token_lifetime = TOKEN_LIFETIME
        self._tokens: dict[str, float] = {self.CREDENTIALS["access_token"]: time.time() + TOKEN_LIFETIME}
        self._lock = threading.Lock()
        self.refreshes = 0

    def expire_tokens(self) -> None:
        """Make every access token issued so far expired (the next call must renew)."""
        with self._lock:
            self._tokens = dict.fromkeys(self._tokens, 0.0)

    def extra_routes(self) -> list[tuple[str, str, Handler]]:
        return [("GET", self.REFRESH_PATH, self.refresh)]

    def refresh(self, request: Request) -> Reply:
        """Trade the refresh token for a new access token; the documented flat answer.

        The call is documented with the Bearer header too: a token this sandbox
        issued (expired or not) must come with it.
        """
        self.log.remember(request)
        token = (request.header("authorization") or "").removeprefix("Bearer ").strip()
        with self._lock:
            known = token in self._tokens
        if not known:
            return 401, {"success": False, "errorCode": "MissingAccessToken", "errorMsg": "缺少Authorization"}
        if request.query.get("refresh_token") != self.CREDENTIALS["refresh_token"]:
            return 200, {"success": False, "errorCode": "InvalidRefreshToken", "errorMsg": "refresh_token无效或已过期"}
        token = "sj-" + secrets.token_hex(16)
        with self._lock:
            self._tokens[token] = time.time() + self.token_lifetime
            self.refreshes += 1
        return 200, {
            "expires_in": int(self.token_lifetime),
            "account_id": "2206500000001",
            "user_Id": "2206500000001",
            "seller_Id": "2206500000001",
            "short_code": "SJSANDBOX",
            "account_platform": "seller_center",
            "access_token": token,
            "account": "sandbox@shanjing",
            "refresh_token": self.CREDENTIALS["refresh_token"],
            "refresh_expires_in": "2592000",
            "error_code": None,
        }

    def authorize(self, request: Request) -> Reply | None:
        header = request.header("authorization") or ""
        if not header.startswith("Bearer ") or not header[len("Bearer ") :].strip():
            return 401, {"success": False, "errorCode": "MissingAccessToken", "errorMsg": "缺少Authorization"}
        token = header[len("Bearer ") :].strip()
        with self._lock:
            expires_at = self._tokens.get(token)
        if expires_at is None or expires_at <= time.time():
            message = "The specified access token is invalid or expired"
            return 200, {"success": False, "errorCode": "IllegalAccessToken", "errorMsg": message}
        return None

    def purchase_id(self) -> str | int:
        """Shanjing's documented answer shows ``purchaseId`` as a number."""
        return int(super().purchase_id())

    def ok(self, data: Any) -> Reply:
        return 200, {"success": True, "errorCode": None, "errorMsg": None, "data": data}

    def failure(self, code: str, message: str) -> Reply:
        return 200, {"success": False, "failItems": None, "errorCode": code, "errorMsg": message, "data": None}

    def render_answer(self, result: dict[str, Any]) -> Reply:
        return 200, result
