"""The xportcn-ka-1688 adapter and its sandbox: documented shapes, signature, stock, all-or-nothing create, pipeline.

The basic paths (split order mapped to rows, common trade type, create without
preview, unbuyable lines, find_order, wrong secret) are in test_xportcn_ka.py;
this file covers the rest of the provider's behaviour.
"""

import dataclasses
import hashlib
import json
import secrets
import time
from decimal import Decimal

import pandas as pd
import pytest
import requests

import importer
from importer.config import Secret
from importer.errors import OutcomeUnknown, Rejected
from importer.models import OrderDraft, OrderLine, OrderPreview, Receiver, Status
from importer.providers import provider_class
from importer.providers.auth import XportcnSignedHeaders
from importer.providers.base import Absent, Found
from importer.providers.xportcn_ka_1688 import XportcnKa1688
from tests.documents import PREVIEW_1688

KEY = "xportcn-ka-1688"
TOYS, TOYS_SPEC = "889512351602", "530ad0e3e64c05d35bc0b1a2ec2a0652"  # Letong, 2900 fen, stock 5000
TOYS_BLUE = "7f2b61c4d9a84e0fb6a3c2d1e0f9a811"  # Letong, sold out
SPATULA, SPATULA_SPEC = "743109225518", "2c9d4e6f8a0b1c3d5e7f9a1b3c5d7e9f"  # Jinhua, 650 fen
SPATULA_SET = "4e6f8a0b1c3d5e7f9a1b3c5d7e9f1a2b"  # Jinhua, 1800 fen, stock 4

DOC_PREVIEW = PREVIEW_1688  # PROVIDERS.md §2: the documented KA preview request
DOC_RECEIVER = Receiver(
    name="test",
    mobile="13567102355",
    zip="532600",
    province="凭祥市区",
    city="崇左市",
    district="凭祥市区",
    address="测试",
)
RECEIVER = Receiver(
    name="张三", mobile="13800138000", province="浙江省", city="杭州市", district="余杭区", address="文一西路969号"
)
PREVIEW_GROUP_KEYS = {"sumCarriage", "sumPayment", "sumTotalPayment", "sumPaymentNoCarriage", "orderItemTOList"}
PREVIEW_ITEM_KEYS = {"amount", "message", "finalUnitPrice", "specId", "skuId", "offerId", "openOfferId"}


def json_types(value):
    """The JSON type of every leaf (numbers all count as 'number', as JSON has one number type)."""
    if isinstance(value, dict):
        return {k: json_types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_types(v) for v in value[:1]]
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def adapter(sandbox, **changes):
    account = sandbox.account(KEY)
    return XportcnKa1688(dataclasses.replace(account, **changes) if changes else account)


def draft(lines, receiver=RECEIVER, remark="", extra=None):
    items = tuple(
        OrderLine(row_id=n, line_no=str(n), item_id=item, sku_id=sku, quantity=quantity)
        for n, (item, sku, quantity) in enumerate(lines, start=1)
    )
    return OrderDraft(KEY, "A-1", receiver, items, remark=remark, extra={"town": "五常街道", **(extra or {})})


def signed_post(sandbox, path, body, *, secret=None, signature=None):
    """POST with headers built by hand from the documented formula, not through the adapter's auth."""
    module = sandbox.module(KEY)
    access_key = module.CREDENTIALS["access_key"]
    timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
    text = access_key + timestamp + nonce + (secret or module.CREDENTIALS["secret"])
    headers = {
        "access-key": access_key,
        "timestamp": timestamp,
        "nonce-str": nonce,
        "user-id": "sandbox-user",
        "signature": signature or hashlib.md5(text.encode()).hexdigest().upper(),
    }
    answer = requests.post(sandbox.account(KEY).base_url + path, json=body, headers=headers, timeout=10)
    assert answer.status_code == 200  # Xportcn answers 200 even to refusals
    return answer.json()


# ----- request shape --------------------------------------------------------------------------


def test_preview_body_has_the_documented_keys_and_json_types(sandbox):
    provider = adapter(sandbox, options={"user_id": "sandbox-user", "flow": "fenxiaonew"})
    extra = {"district_code": "451481", "town": "广西壮族自治区省"}
    order = draft([(TOYS, TOYS_SPEC, 2)], receiver=DOC_RECEIVER, extra=extra)
    body = provider.build_preview_request(order).json
    assert json_types(body) == json_types(DOC_PREVIEW)
    assert body == {
        **DOC_PREVIEW,
        "addressParam": {**DOC_PREVIEW["addressParam"], "phone": "13567102355"},  # both required: the one number
    }
    assert type(body["cargoParamList"][0]["offerId"]) is int


def test_flow_defaults_to_the_ka_example_and_create_carries_remark_trade_type_and_external_id(sandbox):
    provider = adapter(sandbox, options={"user_id": "sandbox-user"})
    order = draft([(TOYS, TOYS_SPEC, 1)], remark="易碎品请小心")
    preview = OrderPreview(ok=True, context={"trade_type": "fxassure", "groups": [["1"]]})
    body = provider.build_create_request(order, preview, "OI-77").json
    assert body["flow"] == "fenxiaonew"
    assert body["message"] == "易碎品请小心" and body["tradeType"] == "fxassure" and body["outOrderId"] == "OI-77"
    assert body["cargoParamList"] == [{"offerId": 889512351602, "specId": TOYS_SPEC, "quantity": 1}]


def test_the_documented_preview_example_is_answered_with_one_group_per_supplier(sandbox):
    answer = signed_post(sandbox, "/alibaba/ka/order/create/preview", DOC_PREVIEW)
    assert answer["code"] == 200
    (group,) = answer["data"]
    assert set(group) == PREVIEW_GROUP_KEYS
    (item,) = group["orderItemTOList"]
    assert set(item) == PREVIEW_ITEM_KEYS
    assert item["finalUnitPrice"] == 2900 and item["amount"] == 5800 and item["message"] is None


# ----- signature and envelope -----------------------------------------------------------------


def test_adapter_signature_is_the_documented_md5_of_key_time_nonce_secret():
    auth = XportcnSignedHeaders("ak", "sk", "u1", clock=lambda: 1775221032.9)
    sent = auth(requests.Request("POST", "http://localhost/x", json={}).prepare()).headers
    assert sent["timestamp"] == "1775221032" and len(sent["nonce-str"]) == 32
    expected = hashlib.md5(f"ak1775221032{sent['nonce-str']}sk".encode()).hexdigest().upper()
    assert sent["signature"] == expected and sent["user-id"] == "u1"


def test_sandbox_accepts_a_hand_signed_call_and_refuses_a_one_character_change(sandbox):
    assert signed_post(sandbox, "/alibaba/ka/order/list", {"pageNum": 1, "pageSize": 1})["code"] == 200
    secret = sandbox.module(KEY).CREDENTIALS["secret"]
    refused = signed_post(sandbox, "/alibaba/ka/order/list", {}, secret=secret[:-1] + "X")
    assert refused["code"] == 401 and refused["data"] is None


def test_an_unknown_access_key_is_rejected(sandbox):
    account = sandbox.account(KEY)
    credentials = {**account.credentials, "access_key": Secret("sandbox-ka1688-aK")}
    with pytest.raises(Rejected, match="access-key"):
        adapter(sandbox, credentials=credentials).preview(draft([(TOYS, TOYS_SPEC, 1)]))


def test_the_documents_placeholder_code_zero_is_not_success(sandbox):
    provider = adapter(sandbox)
    provider.check_envelope({"code": 200, "msg": "成功", "data": None}, "POST /alibaba/ka/order/create")
    with pytest.raises(Rejected):
        provider.check_envelope({"code": 0, "msg": "", "data": {"orderIds": [""]}}, "POST /alibaba/ka/order/create")
    with pytest.raises(OutcomeUnknown):  # a create answered without an envelope may have bought
        provider.check_envelope({"data": {"orderIds": ["1"]}}, "POST /alibaba/ka/order/create")


# ----- sandbox validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda b: {**b, "cargoParamList": json.dumps(b["cargoParamList"])}, "cargoParamList must be an array"),
        (lambda b: {**b, "addressParam": json.dumps(b["addressParam"])}, "addressParam must be an object"),
        (lambda b: {**b, "cargoParamList": [{**b["cargoParamList"][0], "offerId": TOYS}]}, "offerId must be an int"),
        (lambda b: {**b, "cargoParamList": [{**b["cargoParamList"][0], "quantity": 0}]}, "quantity must be a whole"),
        (lambda b: {k: v for k, v in b.items() if k != "flow"}, "flow is required"),
        (lambda b: {**b, "addressParam": {**b["addressParam"], "fullName": ""}}, "addressParam.fullName is required"),
    ],
)
def test_sandbox_answers_3005_to_a_body_the_document_does_not_allow(sandbox, change, complaint):
    provider = adapter(sandbox)
    request = provider.build_preview_request(draft([(TOYS, TOYS_SPEC, 1)]))
    broken = dataclasses.replace(request, json=change(request.json))
    with pytest.raises(Rejected, match=complaint) as refused:
        provider.send(broken, may_have_side_effects=False)
    assert refused.value.code == "3005"


def test_order_list_refuses_a_page_size_that_is_not_a_number(sandbox):
    answer = signed_post(sandbox, "/alibaba/ka/order/list", {"pageSize": "ten"})
    assert answer["code"] == 3005 and "pageSize" in answer["msg"]


# ----- preview --------------------------------------------------------------------------------


def test_preview_prices_freight_and_total_in_yuan(fresh_sandbox):
    preview = adapter(fresh_sandbox).preview(draft([(TOYS, TOYS_SPEC, 2), (SPATULA, SPATULA_SPEC, 3)]))
    assert preview.ok and preview.currency == "CNY"
    assert (preview.lines["1"].unit_price, preview.lines["1"].amount) == (Decimal("29.00"), Decimal("58.00"))
    assert (preview.lines["2"].unit_price, preview.lines["2"].amount) == (Decimal("6.50"), Decimal("19.50"))
    assert preview.freight == Decimal("12.00")
    # sumTotalPayment per supplier: (5800 + 600) * 1.025 = 6560 and (1950 + 600) * 1.025 = 2613 fen
    assert preview.total == Decimal("91.73")
    assert json.loads(json.dumps(preview.context)) == preview.context  # stored as JSON between stages


def test_small_stock_fails_only_the_line_that_asks_for_more(fresh_sandbox):
    provider = adapter(fresh_sandbox)
    preview = provider.preview(draft([(SPATULA, SPATULA_SET, 5), (TOYS, TOYS_SPEC, 1)]))
    assert not preview.ok
    assert "仅剩4件" in preview.lines["1"].error and preview.lines["2"].error is None
    assert provider.preview(draft([(SPATULA, SPATULA_SET, 4)])).ok


def test_two_lines_of_one_spec_cannot_together_buy_more_than_the_stock(fresh_sandbox):
    fresh_sandbox.state.set_stock(TOYS, TOYS_SPEC, 2)
    provider = adapter(fresh_sandbox)
    order = draft([(TOYS, TOYS_SPEC, 2), (TOYS, TOYS_SPEC, 1)])
    preview = provider.preview(order)
    assert preview.lines["1"].error is None and preview.lines["2"].error
    with pytest.raises(Rejected, match=TOYS_SPEC):
        provider.create(order, dataclasses.replace(preview, ok=True), "OI-oversell")
    assert fresh_sandbox.state.stock(TOYS, TOYS_SPEC) == 2


def test_without_trade_modes_in_the_preview_create_omits_trade_type(fresh_sandbox):
    provider = adapter(fresh_sandbox)
    order = draft([(TOYS, TOYS_SPEC, 1)])
    answer = provider.send(provider.build_preview_request(order), may_have_side_effects=False)
    assert all("tradeModeNameList" not in group for group in answer["data"])  # as the documented answer
    preview = provider.parse_preview(order, answer)
    assert "tradeType" not in provider.build_create_request(order, preview, "OI-no-mode").json
    assert provider.create(order, preview, "OI-no-mode").ok


def test_trade_modes_in_a_preview_answer_are_used_when_it_lists_them(fresh_sandbox):
    """[inferred] the 1688 rule: tradeType from tradeModeNameList, the first mode every supplier offers."""
    provider = adapter(fresh_sandbox)
    order = draft([(TOYS, TOYS_SPEC, 1)])
    answer = provider.send(provider.build_preview_request(order), may_have_side_effects=False)
    answer["data"][0]["tradeModeNameList"] = ["fxassure", "assureTrade"]
    preview = provider.parse_preview(order, answer)
    assert provider.build_create_request(order, preview, "OI-mode").json["tradeType"] == "fxassure"


# ----- create ---------------------------------------------------------------------------------


def test_create_buys_nothing_when_one_line_sold_out_after_the_preview(fresh_sandbox):
    provider = adapter(fresh_sandbox)
    order = draft([(TOYS, TOYS_SPEC, 2), (SPATULA, SPATULA_SPEC, 3)])
    preview = provider.preview(order)
    assert preview.ok
    fresh_sandbox.state.set_stock(SPATULA, SPATULA_SPEC, 1)
    with pytest.raises(Rejected, match=f"offerId {SPATULA}"):
        provider.create(order, preview, "OI-gone")
    assert fresh_sandbox.state.stock(TOYS, TOYS_SPEC) == 5000  # the other supplier's line was not bought either
    assert fresh_sandbox.state.orders(KEY) == []
    assert provider.find_order("OI-gone") == Absent()


def test_create_of_other_cargo_than_was_previewed_is_refused(fresh_sandbox):
    provider = adapter(fresh_sandbox)
    preview = provider.preview(draft([(TOYS, TOYS_SPEC, 1)]))
    with pytest.raises(Rejected, match="preview"):
        provider.create(draft([(TOYS, TOYS_SPEC, 2)]), preview, "OI-changed")
    assert fresh_sandbox.state.orders(KEY) == []


def test_a_created_split_order_is_found_with_both_ids_and_takes_its_stock(fresh_sandbox):
    provider = adapter(fresh_sandbox)
    order = draft([(TOYS, TOYS_SPEC, 2), (SPATULA, SPATULA_SPEC, 3)])
    created = provider.create(order, provider.preview(order), "OI-both")
    assert created.total == Decimal("91.73") and created.currency == "CNY"
    found = provider.find_order("OI-both")
    assert isinstance(found, Found)
    assert sorted(found.creation.provider_order_ids) == sorted(created.provider_order_ids)
    assert fresh_sandbox.state.stock(TOYS, TOYS_SPEC) == 4998
    assert fresh_sandbox.state.stock(SPATULA, SPATULA_SPEC) == 19997


# ----- whole pipeline -------------------------------------------------------------------------


def test_pipeline_creates_a_two_supplier_order_and_holds_the_sold_out_one(fresh_sandbox, tmp_path):
    receiver = {
        "receiver_name": "张三",
        "receiver_mobile": "13800138000",
        "province": "浙江省",
        "city": "杭州市",
        "district": "余杭区",
        "address": "文一西路969号",
        "zip": "311121",
        "town": "五常街道",
    }
    rows = [
        {"order_ref": "AL-1", "item_id": TOYS, "sku_id": TOYS_SPEC, "quantity": "2", "district_code": "330110"},
        {"order_ref": "AL-1", "item_id": SPATULA, "sku_id": SPATULA_SPEC, "quantity": "3", "district_code": ""},
        {"order_ref": "AL-1", "item_id": TOYS, "sku_id": TOYS_SPEC, "quantity": "1", "district_code": ""},
        {"order_ref": "AL-2", "item_id": TOYS, "sku_id": TOYS_BLUE, "quantity": "1", "district_code": ""},
    ]
    frame = pd.DataFrame([{"provider": KEY, **row, **receiver} for row in rows], dtype=str)
    result = importer.run(
        frame, settings=fresh_sandbox.settings(), output=tmp_path / "o.xlsx", ledger=tmp_path / "ledger.sqlite"
    )
    out = result.outcomes
    assert list(out["status"]) == [Status.CREATED] * 3 + [Status.PREVIEW_FAILED], out["error"].tolist()
    toys_id, spatula_id = out.loc[0, "provider_order_id"], out.loc[1, "provider_order_id"]
    assert toys_id and spatula_id and toys_id != spatula_id
    assert out.loc[2, "provider_order_id"] == toys_id  # same supplier as row 1
    assert {o["orderId"] for o in fresh_sandbox.state.orders(KEY)} == {toys_id, spatula_id}
    assert out.loc[1, "estimated_unit_price_fen"] == 650  # 6.50, exactly
    assert "售罄" in out.loc[3, "error"]
    (created,) = [o for o in result.grouping.orders if o.order_ref == "AL-1"]
    sent = provider_class(KEY)(fresh_sandbox.account(KEY)).build_preview_request(created).json
    assert sent["addressParam"]["districtCode"] == "330110"  # the sheet's extra column reaches the request
