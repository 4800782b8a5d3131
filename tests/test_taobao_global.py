"""Dajisaas and Shanjing: request shapes against the documents, their auth schemes, item mapping and lookups."""

import dataclasses
import json
from decimal import Decimal

import pytest

from importer.config import Secret
from importer.errors import Rejected
from importer.models import LinePreview, OrderDraft, OrderLine, OrderPreview, Receiver
from importer.providers import provider_class
from importer.providers.auth import dajisaas_sign
from importer.providers.base import Absent, Found
from importer.sandbox import dajisaas as dajisaas_sandbox

DOC_RECEIVER = Receiver(
    name="a测试aa",
    phone="",
    mobile="15068763421",
    country="中国",
    province="浙江省",
    city="杭州市",
    district="余杭区",
    address="测试地址",
    zip="11111",
)
# The documented create examples (dajisaas-…-create.txt, shanjing-…-create.txt), as JSON.
DOC_DAJISAAS_CREATE = {
    "appKey": "",
    "appSecret": "",
    "thirdOrderId": "123123",
    "purchase_amount": 1,
    "seller_order_number": "DJ123",
    "order_source": "lazada",
    "order_line_list": '[{"itemId":2048153758314474,"orderLineNo":"1","quantity":"3","price":100,"currency":"CNY",'
    '"title":"测试商品1 ","skuId":3357413213162}]',
    "receiver": {},
    "warehouse_address_info": {},
    "channel_order_type": "PANAMA",
    "support_partial_success": False,
    "order_remark": "测试请忽略",
    "need_supply_chain_service": False,
    "need_sys_retry": False,
}
DOC_SHANJING_CREATE = {
    "outer_purchase_id": "CG2553453224",
    "purchase_amount": 443,
    "seller_order_number": "-",
    "order_source": "lazada",
    "order_line_list": '[{"itemId":600068435000185140,"orderLineNo":"1","quantity":"3","price":23,"currency":"USD",'
    '"title":"测试商品1","orderRemark":"子单维度备注","skuId":4683815098027}]',
    "receiver": {},
    "warehouse_address_info": {},
    "channel_order_type": "PANAMA",
    "support_partial_success": False,
    "order_remark": "-",
    "need_supply_chain_service": False,
    "need_sys_retry": False,
}
RAW_CUP, RAW_CUP_SKU, MP_CUP, MP_CUP_SKU = "652711530188", "4412088130021", "600126245031041190", "5016042822039"


def order(provider, lines, ref="A-1", remark=""):
    return OrderDraft(provider=provider, order_ref=ref, receiver=DOC_RECEIVER, lines=tuple(lines), remark=remark)


def line(no, item, sku, quantity, **kw):
    return OrderLine(row_id=int(no), line_no=no, item_id=item, sku_id=sku, quantity=quantity, **kw)


def adapter(sandbox, key, **options):
    account = sandbox.account(key)
    if options:
        account = dataclasses.replace(account, options={**account.options, **options})
    return provider_class(key)(account)


def shape(value):
    """Keys and JSON types, recursively; JSON strings are decoded and compared by shape too."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value[:1]]
    if isinstance(value, str) and value.startswith("["):
        return ("json-string", shape(json.loads(value)))
    return type(value).__name__


@pytest.mark.parametrize(("key", "doc"), [("dajisaas", DOC_DAJISAAS_CREATE), ("shanjing", DOC_SHANJING_CREATE)])
def test_create_body_has_the_documented_keys_and_types(key, doc, sandbox):
    provider = adapter(sandbox, key)
    draft = order(
        key,
        [line("1", "2048153758314474", "3357413213162", 3, title="测试商品1", remark="子单维度备注")],
        remark="测试请忽略",
    )
    preview = OrderPreview(ok=True, lines={"1": LinePreview(unit_price=Decimal("1.00"), amount=Decimal("3.00"))})
    body = provider.build_create_request(draft, preview, "OIabc").json
    expected = {k: v for k, v in doc.items() if k not in ("appKey", "appSecret")}  # added by the auth scheme
    if key == "dajisaas":  # the Dajisaas example has no per-line remark
        body_lines = json.loads(body["order_line_list"])
        assert body_lines[0].pop("orderRemark") == "子单维度备注"
        body = {**body, "order_line_list": json.dumps(body_lines)}
    assert set(body) == set(expected)
    got, want = shape(body), shape(expected)
    assert got["order_line_list"] == want["order_line_list"]  # exact integer ids, quantity as text, price in fen
    assert {k: v for k, v in got.items() if k not in ("receiver", "warehouse_address_info")} == {
        k: v for k, v in want.items() if k not in ("receiver", "warehouse_address_info")
    }
    assert body["receiver"] == {
        "zip": "11111",
        "country": "中国",
        "address": "测试地址",
        "city": "杭州市",
        "phone": "",
        "mobile_phone": "15068763421",
        "district": "余杭区",
        "name": "a测试aa",
        "state": "浙江省",
    }
    assert body["purchase_amount"] == 300 + 0  # 3 x 100 fen, no freight previewed
    assert json.loads(body["order_line_list"])[0]["itemId"] == 2048153758314474


def test_render_body_uses_a_json_string_of_exact_ids(sandbox):
    body = (
        adapter(sandbox, "shanjing").build_preview_request(order("shanjing", [line("1", MP_CUP, MP_CUP_SKU, 2)])).json
    )
    assert json.loads(body["render_item_List"]) == [{"itemId": int(MP_CUP), "quantity": "2", "skuId": int(MP_CUP_SKU)}]
    assert '"itemId":600126245031041190' in body["render_item_List"]
    assert isinstance(body["receiver_address"], dict) and isinstance(body["warehouse_address"], dict)


# ----- Dajisaas auth ---------------------------------------------------------------------------


def test_signer_and_sandbox_verifier_agree():
    params = {"appKey": "k", "b": "x y", "a": 1, "flag": False, "nested": {"z": "中"}, "skip": None, "empty": ""}
    assert dajisaas_sign(params, "s3cret") == dajisaas_sandbox.sign(params, "s3cret")
    assert dajisaas_sign(params, "s3cret") != dajisaas_sign(params, "s3creT")
    assert dajisaas_sign(params, "s3cret") != dajisaas_sign({**params, "b": "x z"}, "s3cret")
    assert dajisaas_sign({"a": "1"}, "s") == dajisaas_sign({"a": "1", "sign": "old", "n": None}, "s")


@pytest.mark.parametrize("mode", ["sign", "debug"])
def test_both_auth_modes_are_accepted(mode, sandbox):
    provider = adapter(sandbox, "dajisaas", auth_mode=mode)
    assert provider.item_mapping(RAW_CUP).mp_id == MP_CUP


@pytest.mark.parametrize("mode", ["sign", "debug"])
def test_a_one_character_change_to_the_secret_is_refused(mode, sandbox):
    account = sandbox.account("dajisaas")
    bad = {**account.credentials, "app_secret": Secret(account.credential("app_secret")[:-1] + "X")}
    provider = provider_class("dajisaas")(
        dataclasses.replace(account, credentials=bad, options={**account.options, "auth_mode": mode})
    )
    with pytest.raises(Rejected, match="HTTP 400"):
        provider.item_mapping(RAW_CUP)


# ----- Shanjing bearer token ----------------------------------------------------------------


def test_expired_token_is_renewed_once_and_the_call_replayed(fresh_sandbox):
    provider = adapter(fresh_sandbox, "shanjing")
    module = fresh_sandbox.module("shanjing")
    assert provider.item_mapping(RAW_CUP).mp_id == MP_CUP  # the configured token works as is
    assert module.refreshes == 0
    module.expire_tokens()
    preview = provider.preview(order("shanjing", [line("1", RAW_CUP, RAW_CUP_SKU, 1)]))
    assert preview.ok
    assert module.refreshes == 1
    assert provider.auth.renewals == 1


def test_token_is_renewed_ahead_of_its_expiry(fresh_sandbox):
    account = fresh_sandbox.account("shanjing")
    no_token = {"refresh_token": account.credentials["refresh_token"]}
    module = fresh_sandbox.module("shanjing")
    module.token_lifetime = 60  # shorter than the 300 s margin: every call renews first
    provider = provider_class("shanjing")(dataclasses.replace(account, credentials=no_token))
    provider.item_mapping(RAW_CUP)
    provider.item_mapping("652734409921")
    assert module.refreshes == 2


def test_refused_refresh_token_says_what_to_do(fresh_sandbox):
    account = fresh_sandbox.account("shanjing")
    bad = {"refresh_token": Secret("wrong-refresh")}
    provider = provider_class("shanjing")(dataclasses.replace(account, credentials=bad))
    with pytest.raises(Rejected, match="refresh token was refused") as caught:
        provider.preview(order("shanjing", [line("1", MP_CUP, MP_CUP_SKU, 1)]))
    assert "wrong-refresh" not in str(caught.value)


# ----- item mapping -------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["dajisaas", "shanjing"])
def test_mapping_is_asked_once_per_item_and_run(key, fresh_sandbox):
    provider = adapter(fresh_sandbox, key)
    draft = order(key, [line("1", RAW_CUP, RAW_CUP_SKU, 1), line("2", RAW_CUP, "4412088130022", 1)])
    preview = provider.preview(draft)
    provider.create(draft, preview, "OI-map-once")
    path = provider.url(provider.MAPPING_PATH).replace(fresh_sandbox.url, "")
    assert fresh_sandbox.state.calls(f"GET {path}") == 1


@pytest.mark.parametrize("key", ["dajisaas", "shanjing"])
def test_distributor_ids_are_sent_without_mapping(key, fresh_sandbox):
    provider = adapter(fresh_sandbox, key)
    assert provider.preview(order(key, [line("1", MP_CUP, MP_CUP_SKU, 1)])).ok
    path = provider.url(provider.MAPPING_PATH).replace(fresh_sandbox.url, "")
    assert fresh_sandbox.state.calls(f"GET {path}") == 0


@pytest.mark.parametrize(
    ("sku", "message"),
    [("", "has several SKUs; put one in sku_id"), ("999", "sku_id 999 is not a SKU of item 652711530188")],
)
def test_unmappable_sku_fails_its_line_and_names_the_choices(sku, message, sandbox):
    provider = adapter(sandbox, "dajisaas")
    preview = provider.preview(order("dajisaas", [line("1", RAW_CUP, sku, 1), line("2", "652745562817", "", 1)]))
    assert not preview.ok
    assert message in (preview.lines["1"].error or "")
    assert RAW_CUP_SKU in (preview.lines["1"].error or "")
    assert preview.lines["2"].error is None  # held back by its sibling, not failed


# ----- partial success and lookups -------------------------------------------------------------


@pytest.mark.parametrize("partial", [True, False])
def test_partial_success_is_reported_row_by_row(partial, fresh_sandbox):
    provider = adapter(fresh_sandbox, "dajisaas", support_partial_success=partial)
    draft = order("dajisaas", [line("1", MP_CUP, MP_CUP_SKU, 1), line("2", "600129202197070073", "4860968496626", 1)])
    preview = provider.preview(draft)
    fresh_sandbox.state.set_stock(MP_CUP, MP_CUP_SKU, 0)
    if not partial:
        with pytest.raises(Rejected, match="orderLineNo 1"):
            provider.create(draft, preview, "OI-partial-no")
        return
    created = provider.create(draft, preview, "OI-partial-yes")
    assert created.lines["1"].error and "orderLineNo 1" in created.lines["1"].error
    assert created.lines["2"].provider_order_id and created.lines["2"].amount == Decimal("39.90")


@pytest.mark.parametrize("key", ["dajisaas", "shanjing"])
def test_find_order_by_external_id(key, fresh_sandbox):
    provider = adapter(fresh_sandbox, key)
    draft = order(key, [line("1", MP_CUP, MP_CUP_SKU, 1)])
    created = provider.create(draft, provider.preview(draft), "OI-find-me")
    found = provider.find_order("OI-find-me")
    assert isinstance(found, Found) and found.creation.provider_order_ids == created.provider_order_ids
    assert found.creation.lines["1"].provider_line_id == created.lines["1"].provider_line_id
    assert provider.find_order("OI-never-sent") == Absent()


def test_purchase_amount_below_the_real_cost_is_refused(fresh_sandbox):
    provider = adapter(fresh_sandbox, "shanjing")
    draft = order("shanjing", [line("1", MP_CUP, MP_CUP_SKU, 1)])
    cheap = OrderPreview(ok=True, lines={"1": LinePreview(unit_price=Decimal("12.50"), amount=Decimal("12.50"))})
    with pytest.raises(Rejected, match=r"PURCHASE_AMOUNT_NOT_ENOUGH|低于"):
        provider.create(draft, cheap, "OI-cheap")  # no freight planned: 1250 fen < 1250 + 600


def test_mappings_are_reused_by_the_next_run_through_the_ledger(fresh_sandbox, tmp_path):
    import pandas as pd

    import importer

    rows = [
        {
            "provider": "dajisaas",
            "order_ref": ref,
            "item_id": RAW_CUP,
            "sku_id": RAW_CUP_SKU,
            "quantity": "1",
            "receiver_name": "张三",
            "receiver_mobile": "13800138000",
            "province": "浙江省",
            "city": "杭州市",
            "address": "文一西路969号",
        }
        for ref in ("MAP-1", "MAP-2")
    ]
    kwargs = {"settings": fresh_sandbox.settings(), "ledger": tmp_path / "l.sqlite"}
    importer.run(pd.DataFrame(rows[:1]), output=tmp_path / "a.xlsx", **kwargs)
    importer.run(pd.DataFrame(rows[1:]), output=tmp_path / "b.xlsx", **kwargs)
    assert fresh_sandbox.state.calls("GET /dajisaas/taobao/product/get") == 1
    assert fresh_sandbox.state.orders_per_external_id("dajisaas") and len(fresh_sandbox.state.orders("dajisaas")) == 2
