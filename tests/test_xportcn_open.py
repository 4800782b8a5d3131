"""The xportcn-open adapter: request shapes against the documentation, and every path against the sandbox."""

import dataclasses
import json
import time
import uuid
from decimal import Decimal

import pytest

from importer.config import Secret
from importer.errors import OutcomeUnknown, Rejected, Transient
from importer.models import LinePreview, OrderDraft, OrderLine, OrderPreview, Receiver
from importer.providers import provider_class
from importer.providers.base import Absent, ApiRequest, Found, Unsure
from importer.providers.xportcn_open import XportcnOpen
from importer.sandbox import Faults, Sandbox
from importer.sandbox.xportcn_open import XportcnOpenSandbox

# The documented create request and answer (xportcn-openapi-purchase-order-create.txt), verbatim.
DOC_CREATE_BODY = {
    "purchaseAmount": 400,
    "receiver": '{"zip":"11111","country":"中国","address":"测试地址","city":"杭州市","phone":"",'
    '"mobile_phone":"15068763421","district":"余杭区","name":"a测试aa","state":"浙江省"}',
    "orderLineList": '[{"itemId":"600126245031041190","orderLineNo":"1","quantity":"200","price":"1",'
    '"currency":"CNY","skuId":"5016042822039"},{"itemId":"600129202197070073","orderLineNo":"1",'
    '"quantity":"200","price":"1","currency":"CNY","skuId":"4860968496626"}]',
    "orderSource": "lazada",
    "sellerOrderNumber": "1",
}
DOC_CREATE_ANSWER = {
    "requestId": "1b69692da4b34920bcd594048c8bdcfc",
    "code": 200,
    "developId": "1028257583384757029",
    "msg": "成功",
    "data": {
        "id": "1031992847890383164",
        "orderNo": "1031992847781331418",
        "subOrderVOS": [
            {
                "subOrderId": "1031992851828834889",
                "orderNo": "1031992847781331418",
                "quantity": 1,
                "title": None,
                "purchaseCurrency": None,
                "purchaseAmount": None,
                "itemId": "600086815456800431",
                "domesticPostFee": None,
                "closeReason": None,
                "skuId": "4766078803304",
                "status": None,
                "taobaoPurchaseId": "200027842447",
                "taobaoSubPurchaseId": "200027842448",
                "errorCode": None,
                "errorMessage": None,
            }
        ],
        "createTime": "2023-10-18 18:11:08",
    },
}

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
RECEIVER = Receiver(
    name="张三", mobile="13800138000", province="浙江省", city="杭州市", district="余杭区", address="文一西路969号"
)

CUP, CUP_SKU = "600126245031041190", "5016042822039"  # 1250 fen, plenty of stock
CUP_WHITE = "5016042822040"  # stock 5
CUP_PINK = "5016042822041"  # stock 0
BAG, BAG_SKU = "600129202197070073", "4860968496626"  # 3990 fen, stock 9999
MUG, MUG_SKU = "600131587420016652", "5120033418870"  # single SKU, 1890 fen
STAND, STAND_SKU = "600140872255310248", "5203301889021"  # 990 fen, discounted to 790


def line(n, item_id, sku_id, quantity, price=None):
    return OrderLine(row_id=n, line_no=str(n + 1), item_id=item_id, sku_id=sku_id, quantity=quantity, unit_price=price)


def draft(*lines, ref="PO-1", receiver=RECEIVER, extra=None):
    return OrderDraft(provider="xportcn-open", order_ref=ref, receiver=receiver, lines=lines, extra=extra or {})


def new_id():
    return f"ext-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def adapter(sandbox):
    provider = XportcnOpen(sandbox.settings().account("xportcn-open"))
    yield provider
    provider.session.close()


@pytest.fixture
def fresh_adapter(fresh_sandbox):
    provider = XportcnOpen(fresh_sandbox.settings().account("xportcn-open"))
    yield provider
    provider.session.close()


def adapter_for(sandbox, **changes):
    account = sandbox.settings().account("xportcn-open")
    return XportcnOpen(dataclasses.replace(account, **changes))


# ----- registration and request shapes ----------------------------------------------------------------


def test_adapter_is_registered_with_its_documented_base():
    assert provider_class("xportcn-open") is XportcnOpen
    assert XportcnOpen.default_base_url == "https://www.xportcn.com/api"
    assert XportcnOpen.sandbox_prefix == "/xportcn/api"


def test_create_request_matches_the_documented_example(sandbox):
    provider = adapter_for(sandbox)
    order = draft(
        line(0, CUP, CUP_SKU, 200, Decimal("1")),
        line(1, BAG, BAG_SKU, 200, Decimal("1")),
        receiver=DOC_RECEIVER,
        extra={"order_source": "lazada"},
    )
    preview = OrderPreview(
        ok=True,
        lines={
            "1": LinePreview(unit_price=Decimal("1.00"), amount=Decimal("200.00"), currency="CNY"),
            "2": LinePreview(unit_price=Decimal("1.00"), amount=Decimal("200.00"), currency="CNY"),
        },
        freight=Decimal("0"),
    )
    request = provider.build_create_request(order, preview, "1")
    provider.session.close()
    assert (request.method, request.path) == ("POST", "/open/order")
    body = request.json
    assert list(body) == list(DOC_CREATE_BODY)
    assert {k: type(v) for k, v in body.items()} == {k: type(v) for k, v in DOC_CREATE_BODY.items()}
    # receiver: the same JSON string, character for character
    assert body["receiver"] == DOC_CREATE_BODY["receiver"]
    ours, theirs = json.loads(body["orderLineList"]), json.loads(DOC_CREATE_BODY["orderLineList"])
    assert [list(x) for x in ours] == [list(x) for x in theirs]
    assert all(isinstance(v, str) for x in ours for v in x.values())
    for mine, doc in zip(ours, theirs, strict=True):
        assert {k: mine[k] for k in ("itemId", "quantity", "currency", "skuId")} == {
            k: doc[k] for k in ("itemId", "quantity", "currency", "skuId")
        }
    # values that must differ: 1 yuan is 100 fen, and each line has its own number
    assert [x["price"] for x in ours] == ["100", "100"]
    assert [x["orderLineNo"] for x in ours] == ["1", "2"]
    assert body["purchaseAmount"] == 2 * 200 * 100
    assert (body["orderSource"], body["sellerOrderNumber"]) == ("lazada", "1")


def test_preview_request_sends_json_strings_and_default_country(adapter):
    request = adapter.build_preview_request(draft(line(0, CUP, CUP_SKU, 2), line(1, MUG, "", 1)))
    assert (request.method, request.path) == ("POST", "/open/order/render")
    assert set(request.json) == {"orderLineList", "receiver"}
    assert json.loads(request.json["orderLineList"]) == [
        {"itemId": CUP, "quantity": "2", "skuId": CUP_SKU},
        {"itemId": MUG, "quantity": "1", "skuId": ""},
    ]
    receiver = json.loads(request.json["receiver"])
    assert receiver["country"] == "中国"
    assert receiver["state"] == "浙江省" and receiver["mobile_phone"] == "13800138000"
    assert " " not in request.json["orderLineList"]


def test_order_source_comes_from_the_order_then_the_account_and_is_omitted_otherwise(sandbox):
    preview = OrderPreview(ok=True, lines={"1": LinePreview(unit_price=Decimal("12.50"), amount=Decimal("25.00"))})
    order = draft(line(0, CUP, CUP_SKU, 2))
    plain = adapter_for(sandbox)
    assert "orderSource" not in plain.build_create_request(order, preview, "x").json
    with_option = adapter_for(sandbox, options={"user_id": "u", "order_source": "shopee"})
    assert with_option.build_create_request(order, preview, "x").json["orderSource"] == "shopee"
    overridden = draft(line(0, CUP, CUP_SKU, 2), extra={"order_source": "lazada"})
    assert with_option.build_create_request(overridden, preview, "x").json["orderSource"] == "lazada"
    for provider in (plain, with_option):
        provider.session.close()


def test_create_without_a_previewed_or_sheet_price_is_refused_before_sending(adapter):
    with pytest.raises(Rejected, match="no previewed price"):
        adapter.build_create_request(draft(line(0, CUP, CUP_SKU, 2)), OrderPreview(ok=True), "x")


def test_documented_create_answer_parses_to_string_ids(adapter):
    order = draft(line(0, "600086815456800431", "4766078803304", 1))
    creation = adapter.parse_create(order, DOC_CREATE_ANSWER)
    assert creation.ok
    assert creation.provider_order_ids == ("1031992847781331418",)
    created = creation.lines["1"]
    assert created.provider_line_id == "1031992851828834889"
    assert created.provider_order_id == "1031992847781331418"
    assert created.amount is None and creation.total is None  # purchaseAmount is null in the example


def test_integer_ids_in_an_answer_keep_every_digit(adapter):
    answer = json.loads(json.dumps(DOC_CREATE_ANSWER))
    sub = answer["data"]["subOrderVOS"][0]
    sub["subOrderId"] = 1031992851828834889
    sub["itemId"] = 600086815456800431
    sub["skuId"] = 4766078803304
    creation = adapter.parse_create(draft(line(0, "600086815456800431", "4766078803304", 1)), answer)
    assert creation.lines["1"].provider_line_id == "1031992851828834889"


# ----- envelope ------------------------------------------------------------------------------------


def test_envelope_codes_map_to_error_kinds(adapter):
    adapter.check_envelope({"code": 200, "msg": "成功"}, "POST /open/order")
    with pytest.raises(Rejected, match="could not read the request parameters") as refused:
        adapter.check_envelope({"code": 3005, "msg": "获取参数失败"}, "POST /open/order")
    assert refused.value.code == "3005"
    with pytest.raises(Transient):
        adapter.check_envelope({"code": 429, "msg": "请求过于频繁"}, "POST /open/order/render")
    with pytest.raises(Rejected, match="refused the request"):
        adapter.check_envelope({"code": 0, "msg": "失败"}, "POST /open/order")
    with pytest.raises(OutcomeUnknown):
        adapter.check_envelope({"unexpected": True}, "POST /open/order")
    with pytest.raises(Transient):
        adapter.check_envelope({"unexpected": True}, "POST /open/order/render")


def test_unreadable_request_comes_back_as_rejected_3005(adapter):
    bad = ApiRequest("POST", "/open/order", json={"orderLineList": [{"itemId": CUP}], "receiver": "{}"})
    with pytest.raises(Rejected) as refused:
        adapter.send(bad, may_have_side_effects=True)
    assert refused.value.code == "3005"


# ----- preview against the sandbox ----------------------------------------------------------------


def test_clean_preview_prices_every_line_in_yuan(adapter):
    order = draft(line(0, CUP, CUP_SKU, 2), line(1, BAG, BAG_SKU, 1), line(2, STAND, STAND_SKU, 3))
    preview = adapter.preview(order)
    assert preview.ok and preview.error is None
    assert preview.lines["1"] == LinePreview(unit_price=Decimal("12.50"), amount=Decimal("25.00"), currency="CNY")
    assert preview.lines["2"].unit_price == Decimal("39.90")
    assert preview.lines["3"].unit_price == Decimal("7.90")  # the discount price, not the 9.90 list price
    assert preview.freight == Decimal("18.00")  # three sellers, 6 yuan each
    assert preview.total == Decimal("25.00") + Decimal("39.90") + Decimal("23.70") + Decimal("18.00")


def test_unknown_item_fails_its_line_only(adapter):
    preview = adapter.preview(draft(line(0, "999999999999999999", "1", 1), line(1, CUP, CUP_SKU, 1)))
    assert not preview.ok
    assert preview.lines["1"].error == "商品不存在或已下架"
    assert preview.lines["1"].error_code == "ITEM_NOT_FOUND"
    assert preview.lines["2"].error is None and preview.lines["2"].unit_price == Decimal("12.50")


def test_out_of_stock_lines_fail(adapter):
    preview = adapter.preview(draft(line(0, BAG, BAG_SKU, 100000), line(1, CUP, CUP_PINK, 1)))
    assert "库存不足" in preview.lines["1"].error
    assert preview.lines["1"].error_code == "INSUFFICIENT_STOCK"
    assert preview.lines["2"].error_code == "SOLD_OUT"


def test_empty_sku_is_fine_on_a_single_sku_item_only(adapter):
    preview = adapter.preview(draft(line(0, MUG, "", 1), line(1, CUP, "", 1)))
    assert preview.lines["1"].unit_price == Decimal("18.90")
    assert preview.lines["2"].error_code == "SKU_REQUIRED"


def test_same_item_and_sku_twice_are_matched_in_order(fresh_adapter):
    preview = fresh_adapter.preview(draft(line(0, CUP, CUP_WHITE, 3), line(1, CUP, CUP_WHITE, 4)))  # stock 5
    assert preview.lines["1"].amount == Decimal("37.50") and preview.lines["1"].error is None
    assert preview.lines["2"].error_code == "INSUFFICIENT_STOCK"


# ----- create against the sandbox -------------------------------------------------------------------


def test_clean_order_gets_ids_on_every_line_and_is_remembered_once(sandbox, adapter):
    order = draft(line(0, CUP, CUP_SKU, 2), line(1, MUG, "", 1), line(2, BAG, BAG_SKU, 1))
    preview = adapter.preview(order)
    external_id = new_id()
    creation = adapter.create(order, preview, external_id)
    assert creation.ok and creation.error is None
    (order_no,) = creation.provider_order_ids
    assert order_no.isdigit() and len(order_no) == 19
    assert {c.provider_order_id for c in creation.lines.values()} == {order_no}
    line_ids = [c.provider_line_id for c in creation.lines.values()]
    assert all(i.isdigit() for i in line_ids) and len(set(line_ids)) == 3
    assert creation.lines["2"].amount == Decimal("18.90")  # the empty SKU was matched to the mug
    assert creation.total == preview.total
    assert sandbox.state.create_calls(external_id) == 1
    (stored,) = [o for o in sandbox.state.orders("xportcn-open") if o["sellerOrderNumber"] == external_id]
    assert stored["orderNo"] == order_no
    assert stored["purchaseAmount"] == int(preview.total * 100)


def test_find_order_finds_a_created_order_and_nothing_else(adapter):
    order = draft(line(0, CUP, CUP_SKU, 1), line(1, BAG, BAG_SKU, 2))
    external_id = new_id()
    creation = adapter.create(order, adapter.preview(order), external_id)
    found = adapter.find_order(external_id)
    assert isinstance(found, Found)
    assert found.creation.provider_order_ids == creation.provider_order_ids
    assert found.creation.lines == creation.lines
    assert adapter.find_order(new_id()) == Absent()


def test_partial_success_when_stock_goes_between_preview_and_create(fresh_sandbox, fresh_adapter):
    order = draft(line(0, CUP, CUP_SKU, 2), line(1, CUP, CUP_WHITE, 4))  # white: stock 5
    preview = fresh_adapter.preview(order)
    assert preview.ok
    rival = draft(line(0, CUP, CUP_WHITE, 3), ref="PO-rival")
    assert fresh_adapter.create(rival, fresh_adapter.preview(rival), new_id()).ok
    creation = fresh_adapter.create(order, preview, "ext-partial")
    assert not creation.ok
    assert creation.error == "1 of 2 lines were refused"
    assert creation.lines["1"].provider_line_id and creation.lines["1"].error is None
    assert "库存不足" in creation.lines["2"].error and creation.lines["2"].error_code == "INSUFFICIENT_STOCK"
    assert creation.lines["2"].provider_line_id == ""
    assert creation.provider_order_ids  # the bought line made an order
    assert fresh_sandbox.state.create_calls("ext-partial") == 1


def test_every_line_refused_at_create_is_an_answer_not_an_error(fresh_sandbox, fresh_adapter):
    order = draft(line(0, CUP, CUP_WHITE, 2))
    preview = fresh_adapter.preview(order)
    fresh_sandbox.state.set_stock(CUP, CUP_WHITE, 0)
    creation = fresh_adapter.create(order, preview, "ext-none")
    assert not creation.ok
    assert creation.error == "every line was refused"
    assert creation.provider_order_ids == ()
    assert fresh_adapter.find_order("ext-none") == Absent()


def test_price_rise_after_preview_refuses_the_line(fresh_sandbox, fresh_adapter):
    order = draft(line(0, CUP, CUP_SKU, 1))
    preview = fresh_adapter.preview(order)
    fresh_sandbox.state.set_price(CUP, CUP_SKU, 1300)
    creation = fresh_adapter.create(order, preview, "ext-price")
    assert creation.lines["1"].error_code == "PRICE_CHANGED"


# ----- credentials and signature options ---------------------------------------------------------------


def test_bad_credentials_are_rejected_without_leaking_them(sandbox):
    account = sandbox.settings().account("xportcn-open")
    wrong = {"access_key": account.credentials["access_key"], "secret": Secret("sandbox-xportcn-secreT")}
    provider = adapter_for(sandbox, credentials=wrong)
    with pytest.raises(Rejected, match="check the access key and secret") as refused:
        provider.preview(draft(line(0, CUP, CUP_SKU, 1)))
    provider.session.close()
    assert refused.value.code == "401"
    assert "sandbox-xportcn-secreT" not in str(refused.value)


def test_signature_options_reach_the_signer(sandbox):
    order = draft(line(0, CUP, CUP_SKU, 1))
    millis = adapter_for(sandbox, options={"user_id": "u", "timestamp_ms": True})
    assert millis.preview(order).ok
    other_order = adapter_for(sandbox, options={"user_id": "u", "signature_variant": "secret-ak-ts-nonce"})
    with pytest.raises(Rejected):
        other_order.preview(order)
    for provider in (millis, other_order):
        provider.session.close()


# ----- faults ---------------------------------------------------------------------------------------


def test_latency_fault_slows_each_call():
    with Sandbox.start(faults=Faults(latency=0.25)) as slow:
        provider = XportcnOpen(slow.settings().account("xportcn-open"))
        started = time.monotonic()
        provider.preview(draft(line(0, CUP, CUP_SKU, 1)))
        provider.session.close()
        assert time.monotonic() - started >= 0.25


def test_http_500_is_transient_on_preview_and_unknown_on_create():
    with Sandbox.start(faults=Faults(error_rate=1.0)) as failing:
        provider = XportcnOpen(failing.settings().account("xportcn-open"))
        order = draft(line(0, CUP, CUP_SKU, 1))
        with pytest.raises(Transient) as preview_error:
            provider.preview(order)
        assert preview_error.value.code == "500"
        preview = OrderPreview(ok=True, lines={"1": LinePreview(unit_price=Decimal("12.50"), amount=Decimal("12.50"))})
        with pytest.raises(OutcomeUnknown):
            provider.create(order, preview, "ext-500")
        provider.session.close()
        assert failing.state.create_calls() == 0


class ListWithoutTheFilter(XportcnOpenSandbox):
    """An order list that ignores sellerOrderNumber and pages through everything."""

    RECORDS = ({"orderNo": "1031992847781331418", "sellerOrderNumber": "someone-else", "subOrderVOS": []},)
    TOTAL = 40

    def routes(self):
        def page(request):
            return self.gate.ok({"records": list(self.RECORDS), "total": self.TOTAL, "size": 1, "current": 1})

        return [("POST", "/open/purchase/page", self.gate.signed(page))]


class ListWithoutTheReference(ListWithoutTheFilter):
    RECORDS = ({"orderNo": "1031992847781331418", "subOrderVOS": []},)
    TOTAL = 1


@pytest.mark.parametrize("module", [ListWithoutTheFilter, ListWithoutTheReference])
def test_find_order_never_confirms_absence_it_cannot_see(module):
    with Sandbox.start(modules=[module]) as odd:
        provider = XportcnOpen(odd.settings().account("xportcn-open"))
        answer = provider.find_order("ext-1")
        assert isinstance(answer, Unsure) and "sellerOrderNumber" in answer.reason
        provider.session.close()
