"""The Xportcn KA surfaces (TaoOrder and 1688): request shapes against the documents, and their sandbox paths."""

import dataclasses
import json
from decimal import Decimal

import pytest

from importer.config import Secret
from importer.errors import OutcomeUnknown, Rejected
from importer.models import LinePreview, OrderDraft, OrderLine, OrderPreview, Receiver
from importer.providers import provider_class
from importer.providers.base import Absent, Found
from importer.providers.xportcn_ka_1688 import XportcnKa1688
from tests.documents import PREVIEW_1688

RECEIVER = Receiver(
    name="张三", phone="", mobile="13800138000", country="中国", province="浙江省", city="杭州市", address="西湖区xxx"
)
# xportcn-ka-taobao-order-create.txt, the documented create body
DOC_KA_TAOBAO_CREATE = {
    "sellerOrderNumber": "SELLER20240520001",
    "orderSource": "TAOBAO",
    "productOrderLineList": [
        {"itemId": "908842788582", "skuId": "5770276409292", "quantity": 1, "orderLineNo": "LINE001"},
        {"itemId": "953853002606", "skuId": "SKU987654322", "quantity": 1, "orderLineNo": "LINE002"},
    ],
    "receiver": '{"name":"张三","phone":"13800138000","address":"浙江省杭州市西湖区xxx","country":"中国",'
    '"state":"浙江省","city":"杭州市"}',
    "remark": "请尽快发货,易碎品请小心轻放",
}
DOC_1688_PREVIEW = PREVIEW_1688  # PROVIDERS.md §2: the documented KA preview request
TOYS, TOYS_SPEC = "889512351602", "530ad0e3e64c05d35bc0b1a2ec2a0652"  # supplier Letong, 2900 fen
SPATULA, SPATULA_SPEC = "743109225518", "2c9d4e6f8a0b1c3d5e7f9a1b3c5d7e9f"  # supplier Jinhua, 650 fen
CABLE, CABLE_SPEC = "652876415053", "9a1b3c5d7e9f1a2b4c6d8e0f2a4b6c8d"  # supplier Dongguan (assureTrade only)


def shape(value):
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value[:1]]
    return type(value).__name__


def adapter(sandbox, key, **changes):
    account = sandbox.account(key)
    return provider_class(key)(dataclasses.replace(account, **changes) if changes else account)


def draft(provider, lines, ref="A-1", remark="", extra=None):
    items = tuple(
        OrderLine(row_id=n, line_no=str(n), item_id=item, sku_id=sku, quantity=q)
        for n, (item, sku, q) in enumerate(lines, start=1)
    )
    extra = {"town": "五常街道", **(extra or {})} if provider == "xportcn-ka-1688" else extra or {}
    return OrderDraft(provider, ref, RECEIVER, items, remark=remark, extra=extra)


# ----- KA TaoOrder ----------------------------------------------------------------------------


def test_ka_taobao_create_body_matches_the_documented_example(sandbox):
    provider = adapter(sandbox, "xportcn-ka-taobao")
    order = draft("xportcn-ka-taobao", [("908842788582", "5770276409292", 1), ("953853002606", "5770276409293", 1)])
    order = dataclasses.replace(order, remark="请尽快发货", extra={"order_source": "TAOBAO"})
    body = provider.build_create_request(order, OrderPreview(ok=True), "OI123").json
    assert list(body) == list(DOC_KA_TAOBAO_CREATE)
    assert shape(body) == shape(DOC_KA_TAOBAO_CREATE)  # a real array with integer quantities; receiver a string
    receiver = json.loads(body["receiver"])
    assert receiver["name"] == "张三" and receiver["state"] == "浙江省"
    assert body["sellerOrderNumber"] == "OI123"


def test_ka_taobao_sandbox_refuses_a_json_string_line_list(sandbox):
    provider = adapter(sandbox, "xportcn-ka-taobao")
    request = provider.build_preview_request(draft("xportcn-ka-taobao", [("600126245031041190", "5016042822039", 1)]))
    broken = dataclasses.replace(request, json={**request.json, "productOrderLineList": json.dumps([])})
    with pytest.raises(Rejected, match="productOrderLineList must be a non-empty JSON array"):
        provider.send(broken, may_have_side_effects=False)


# ----- KA 1688 ---------------------------------------------------------------------------------


def test_1688_preview_body_has_the_documented_keys_and_types(sandbox):
    provider = adapter(sandbox, "xportcn-ka-1688")
    order = draft("xportcn-ka-1688", [(TOYS, TOYS_SPEC, 2)], extra={"district_code": "451481"})
    body = provider.build_preview_request(order).json
    assert list(body) == list(DOC_1688_PREVIEW)
    assert list(body["addressParam"]) == list(DOC_1688_PREVIEW["addressParam"])
    assert body["addressParam"]["districtCode"] == "451481"
    cargo = body["cargoParamList"][0]
    assert cargo["offerId"] == 889512351602 and isinstance(cargo["offerId"], int)  # exact, never a float
    assert isinstance(cargo["specId"], str) and cargo["quantity"] == 2
    assert body["flow"] == "fenxiaonew"  # as the KA preview example
    assert body["addressParam"]["townText"] == "五常街道"
    assert body["addressParam"]["phone"] == body["addressParam"]["mobile"] == "13800138000"  # both required


def test_1688_split_order_maps_each_order_id_to_its_suppliers_lines(fresh_sandbox):
    provider = adapter(fresh_sandbox, "xportcn-ka-1688")
    order = draft("xportcn-ka-1688", [(TOYS, TOYS_SPEC, 2), (SPATULA, SPATULA_SPEC, 3), (TOYS, TOYS_SPEC, 1)])
    preview = provider.preview(order)
    assert preview.ok
    assert preview.lines["1"].unit_price == Decimal("29.00") and preview.lines["2"].amount == Decimal("19.50")
    assert preview.freight == Decimal("12.00")  # 6 yuan carriage per supplier
    assert preview.context["trade_type"] == ""  # the documented KA preview answer lists no trade modes
    created = provider.create(order, preview, "OI-split")
    assert len(created.provider_order_ids) == 2
    first, second = created.provider_order_ids
    assert created.lines["1"].provider_order_id == first == created.lines["3"].provider_order_id
    assert created.lines["2"].provider_order_id == second
    assert fresh_sandbox.state.orders_per_external_id("xportcn-ka-1688") == {"OI-split": 1}


def test_1688_trade_type_is_sent_only_when_configured_and_checked_by_the_sandbox(fresh_sandbox):
    order = draft("xportcn-ka-1688", [(TOYS, TOYS_SPEC, 1), (CABLE, CABLE_SPEC, 1)])
    plain = adapter(fresh_sandbox, "xportcn-ka-1688")
    assert "tradeType" not in plain.build_create_request(order, plain.preview(order), "OI-t").json
    options = {**fresh_sandbox.account("xportcn-ka-1688").options, "trade_type": "assureTrade"}
    provider = adapter(fresh_sandbox, "xportcn-ka-1688", options=options)
    preview = provider.preview(order)
    assert provider.build_create_request(order, preview, "OI-t").json["tradeType"] == "assureTrade"
    assert provider.create(order, preview, "OI-t").ok
    wrong = adapter(fresh_sandbox, "xportcn-ka-1688", options={**options, "trade_type": "fxassure"})
    with pytest.raises(Rejected, match="交易方式fxassure不可用"):  # the cable's supplier offers assureTrade only
        wrong.create(order, wrong.preview(order), "OI-t2")


def test_1688_an_order_without_a_town_is_refused_on_its_rows_before_anything_is_sent(fresh_sandbox):
    provider = adapter(fresh_sandbox, "xportcn-ka-1688")
    order = draft("xportcn-ka-1688", [(TOYS, TOYS_SPEC, 1)], extra={"town": ""})
    preview = provider.preview(order)
    assert not preview.ok
    assert preview.lines["1"].error.startswith("town (镇/街道) is needed by xportcn-ka-1688")
    assert fresh_sandbox.state.calls() == 0


def test_1688_create_without_preview_is_refused(fresh_sandbox):
    provider = adapter(fresh_sandbox, "xportcn-ka-1688")
    order = draft("xportcn-ka-1688", [(SPATULA, SPATULA_SPEC, 1)])
    planned = OrderPreview(ok=True, lines={"1": LinePreview(unit_price=Decimal("6.50"), amount=Decimal("6.50"))})
    with pytest.raises(Rejected, match="preview"):
        provider.create(order, planned, "OI-no-preview")
    assert fresh_sandbox.state.orders_per_external_id() == {}


def test_1688_unbuyable_lines_fail_on_their_own_line(fresh_sandbox):
    provider = adapter(fresh_sandbox, "xportcn-ka-1688")
    order = draft(
        "xportcn-ka-1688",
        [(TOYS, TOYS_SPEC, 1), (TOYS, "7f2b61c4d9a84e0fb6a3c2d1e0f9a811", 1), ("999999999999", "0" * 32, 1)],
    )
    preview = provider.preview(order)
    assert not preview.ok
    assert preview.lines["1"].error is None
    assert "售罄" in preview.lines["2"].error
    assert "不存在" in preview.lines["3"].error


def test_1688_find_order_lists_every_part_of_a_split_order(fresh_sandbox):
    provider = adapter(fresh_sandbox, "xportcn-ka-1688")
    order = draft("xportcn-ka-1688", [(TOYS, TOYS_SPEC, 1), (SPATULA, SPATULA_SPEC, 1)])
    created = provider.create(order, provider.preview(order), "OI-find")
    found = provider.find_order("OI-find")
    assert isinstance(found, Found) and set(found.creation.provider_order_ids) == set(created.provider_order_ids)
    assert provider.find_order("OI-absent") == Absent()


def test_1688_signature_from_a_wrong_secret_is_refused(sandbox):
    account = sandbox.account("xportcn-ka-1688")
    wrong = {**account.credentials, "secret": Secret(account.credential("secret")[:-1] + "!")}
    provider = XportcnKa1688(dataclasses.replace(account, credentials=wrong))
    with pytest.raises(Rejected, match="signature"):
        provider.preview(draft("xportcn-ka-1688", [(TOYS, TOYS_SPEC, 1)]))


# ----- an undocumented success answer is never taken for a refusal ----------------------------------


@pytest.mark.parametrize("data", [None, {}, {"id": "1", "subOrderVOS": []}, {"subOrderVOS": [{"subOrderId": None}]}])
def test_ka_taobao_success_without_an_order_number_is_unknown_not_refused(sandbox, data):
    provider = adapter(sandbox, "xportcn-ka-taobao")
    order = draft("xportcn-ka-taobao", [("908842788582", "5770276409292", 1)])
    with pytest.raises(OutcomeUnknown, match="without an order number"):
        provider.parse_create(order, {"code": 200, "msg": "成功", "data": data})


def test_ka_taobao_success_with_an_order_number_but_no_lines_is_created(sandbox):
    provider = adapter(sandbox, "xportcn-ka-taobao")
    order = draft("xportcn-ka-taobao", [("908842788582", "5770276409292", 1), ("953853002606", "SKU987654322", 2)])
    created = provider.parse_create(order, {"code": 200, "msg": "成功", "data": {"orderNo": "1031992847781331418"}})
    assert created.ok and created.provider_order_ids == ("1031992847781331418",)
    assert {line.provider_order_id for line in created.lines.values()} == {"1031992847781331418"}


def test_ka_taobao_every_line_refused_is_a_refusal(sandbox):
    provider = adapter(sandbox, "xportcn-ka-taobao")
    order = draft("xportcn-ka-taobao", [("908842788582", "5770276409292", 1)])
    sub = {"itemId": "908842788582", "skuId": "5770276409292", "errorCode": "SOLD_OUT", "errorMessage": "商品已售罄"}
    created = provider.parse_create(order, {"code": 200, "data": {"orderNo": None, "subOrderVOS": [sub]}})
    assert not created.ok and created.lines["1"].error == "商品已售罄"


@pytest.mark.parametrize(
    ("town", "address", "sent"),
    [
        ("五常街道", "文一西路969号", "五常街道"),  # the town column
        ("", "福田街道商城大道1号", "福田街道"),  # 1688's own 批量下单 template: the address begins with it
        ("", "横店镇万盛街8号", "横店镇"),
        ("", "镇海路1号", None),  # a street named 镇…: no town, refused
        ("", "文一西路969号", None),
    ],
)
def test_1688_town_is_the_town_column_or_the_town_the_address_begins_with(sandbox, town, address, sent):
    provider = adapter(sandbox, "xportcn-ka-1688")
    order = dataclasses.replace(
        draft("xportcn-ka-1688", [(TOYS, TOYS_SPEC, 1)], extra={"town": town}),
        receiver=dataclasses.replace(RECEIVER, address=address),
    )
    prepared, refused = provider.prepare(order)
    if sent is None:
        assert set(refused) == {"1"} and "fill the town column" in refused["1"]
    else:
        assert refused == {}
        assert provider.build_preview_request(prepared).json["addressParam"]["townText"] == sent
