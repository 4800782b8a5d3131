"""Sandbox of Dajisaas's Taobao/Tmall purchase orders (provider key ``dajisaas``).

Served at ``/dajisaas`` in place of ``https://openapi.dajisaas.com``. Auth: the
``appKey`` with either ``appSecret`` (debug) or ``sign`` in the JSON body
(POST) or the query (GET). A wrong key, secret or sign is answered with HTTP
400 and a ``detail`` field, as third-party clients report. Answers use the
documented envelope ``{code, message, data, timestamp, traceId}``; the render
result sits in ``data.result`` (**[inferred]** from a third-party summary).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

from .schema import BOOLEAN, ID, INTEGER, NUMBER, STRING, WHOLE, Field, optional, required
from .server import Reply, Request
from .taobao_global import TaobaoGlobalSandbox, address_fields

MSG_OK = "操作成功"
CODE_BUSINESS = 1009  # [inferred] "business-logic error" in a third-party list of codes


def sign(params: Mapping[str, Any], secret: str) -> str:
    """The sign the sandbox expects, written out here so a client bug cannot hide in shared code.

    Sorted ``k=v`` pairs without ``sign`` and without nulls, ``&``-joined, then
    ``&secret=<secret>``; MD5, upper-case hex. Nested values as compact JSON
    and booleans as ``true``/``false`` are [inferred].
    """
    parts = []
    for key in sorted(params):
        value = params[key]
        if key == "sign" or value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, dict | list):
            value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        parts.append(f"{key}={value}")
    text = "&".join(parts) + "&secret=" + secret
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest().upper()


class DajisaasSandbox(TaobaoGlobalSandbox):
    """The ``dajisaas`` provider: collision, render, create and query."""

    PROVIDER_KEY = "dajisaas"
    PREFIX = "/dajisaas"
    CREDENTIALS: ClassVar[Mapping[str, str]] = {"app_key": "sandbox-daji-key", "app_secret": "sandbox-daji-secret"}
    OPTIONS: ClassVar[Mapping[str, Any]] = {
        "auth_mode": "sign",
        "order_source": "lazada",
        "warehouse": {
            "name": "大吉集运仓",
            "phone": "",
            "mobile_phone": "13800000000",
            "country": "中国",
            "state": "浙江省",
            "city": "金华市",
            "district": "义乌市",
            "address": "稠城街道集运路1号",
            "zip": "322000",
        },
    }
    MAPPING_PATH = "/taobao/product/get"
    RENDER_PATH = "/taobao/purchase/order/render"
    CREATE_PATH = "/taobao/purchase/order/create"
    QUERY = ("POST", "/taobao/purchase/order/query")
    REFERENCE_FIELD = "thirdOrderId"
    CREATE_FIELDS: ClassVar[tuple[Field, ...]] = (
        required("thirdOrderId", STRING),
        required("purchase_amount", INTEGER),
        required("seller_order_number", STRING, may_be_empty=True),
        required("order_source", STRING),
        required("order_line_list", STRING),
        required("receiver", "object"),
        optional("warehouse_address_info", "object"),
        optional("channel_order_type", STRING),
        optional("support_partial_success", BOOLEAN),
        optional("order_remark", STRING),
        optional("need_supply_chain_service", BOOLEAN),
        optional("need_sys_retry", BOOLEAN),
    )
    """The create table of the English document (``order_source`` required there; "可空" fields may be empty)."""
    LINE_FIELDS: ClassVar[tuple[Field, ...]] = (
        required("itemId", ID),
        required("orderLineNo", STRING),
        required("quantity", WHOLE),
        required("price", NUMBER),
        required("currency", STRING),
        optional("title", STRING),
        required("skuId", ID),
    )
    RENDER_FIELDS: ClassVar[tuple[Field, ...]] = (
        optional("need_supplychain_service", BOOLEAN),
        required("receiver_address", "object"),
        optional("warehouse_address", "object"),
        required("render_item_List", STRING),
    )
    RECEIVER_FIELDS = address_fields(all_required=True)
    """``receiver`` / ``receiver_address``: every key required (the China warehouse, as the document says)."""
    WAREHOUSE_FIELDS = address_fields(all_required=True)
    WAREHOUSE_REQUIRED_IN_MAINLAND = True

    def authorize(self, request: Request) -> Reply | None:
        params: Mapping[str, Any] = request.query if request.method == "GET" else (request.json or {})
        if not isinstance(params, dict) or params.get("appKey") != self.CREDENTIALS["app_key"]:
            return 400, {"detail": "appKey无效或未激活"}
        secret = self.CREDENTIALS["app_secret"]
        given_sign = params.get("sign")
        if isinstance(given_sign, str) and given_sign:
            if hmac.compare_digest(given_sign, sign(params, secret)):
                return None
            return 400, {"detail": "签名错误"}
        if hmac.compare_digest(str(params.get("appSecret") or ""), secret):
            return None
        return 400, {"detail": "appSecret错误"}

    def ok(self, data: Any) -> Reply:
        return 200, self._envelope(200, MSG_OK, data)

    def failure(self, code: str, message: str) -> Reply:
        if code == "PARAM_ERROR":
            return 400, {"detail": message}
        return 200, self._envelope(CODE_BUSINESS, f"{code}: {message}", None)

    def render_answer(self, result: dict[str, Any]) -> Reply:
        return self.ok({"result": result})

    @staticmethod
    def _envelope(code: int, message: str, data: Any) -> dict[str, Any]:
        return {
            "code": code,
            "message": message,
            "data": data,
            "timestamp": int(time.time() * 1000),
            "traceId": uuid.uuid4().hex[:12],
        }
