"""The provider documents are the contract: the sandbox accepts every documented example, refuses what they refuse.

Every example request of the five documents is replayed as written against the
sandbox at the provider's base URL plus the documented path, with only the
credentials and signatures made valid; each is accepted and answered in the
shape of the documented example answer. Then one rule at a time, both sides:
the example (or a documented variant) is accepted, and the example broken in
one way is refused in the provider's documented error shape.
"""

import copy
import json

import pytest
import requests
from documents import (
    FILLED_1688_CREATE,
    PREVIEW_1688,
    PREVIEW_1688_PATH,
    XPORTCN,
    example,
    same_shape,
    shape,
    valid_call,
    xportcn_headers,
)

from importer.providers import REGISTRY

XPORTCN_ENVELOPE = {"requestId", "code", "developId", "msg", "data"}


def post(sandbox, provider, path, body, headers=None):
    account = sandbox.account(provider)
    sent_headers, sent_body = valid_call(provider, account, body)
    response = requests.post(
        account.base_url + path, json=sent_body, headers={**sent_headers, **(headers or {})}, timeout=10
    )
    return response


def replay(sandbox, provider, body=None, headers=None):
    """Send a provider's documented create example (or ``body``) to the sandbox; the 1688 one after its preview."""
    doc = example(provider)
    path = doc.path(REGISTRY[provider].default_base_url)
    if provider == "xportcn-ka-1688":
        assert post(sandbox, provider, PREVIEW_1688_PATH, PREVIEW_1688).json()["code"] == 200
    return post(sandbox, provider, path, doc.body if body is None else body, headers)


def accepted(provider, response):
    """Whether an answer is the provider's success (its documented success predicate)."""
    body = response.json()
    if provider in XPORTCN:
        return response.status_code == 200 and body["code"] == 200
    if provider == "dajisaas":
        return response.status_code == 200 and body["code"] == 200 and body["data"]["success"] is True
    return response.status_code == 200 and body["success"] is True and body["data"]["success"] is True


def refusal_text(provider, response):
    """The refusal in the provider's error shape; fails when the shape is not the documented one."""
    body = response.json()
    if provider in XPORTCN:  # documented: HTTP 200, the envelope, code != 200, data null
        assert response.status_code == 200 and set(body) == XPORTCN_ENVELOPE
        assert body["code"] != 200 and body["data"] is None
        return body["msg"]
    if provider == "dajisaas":  # HTTP 400 with detail, as third-party clients report for bad parameters
        assert response.status_code == 400 and set(body) == {"detail"}
        return body["detail"]
    assert body["success"] is False and {"errorCode", "errorMsg"} <= set(body)  # Shanjing's documented envelope
    return f"{body['errorCode']}: {body['errorMsg']}"


# ----- every documented example is accepted and answered in the documented shape ----------------------


def test_the_1688_schema_is_filled_with_every_documented_key_and_type():
    assert shape(FILLED_1688_CREATE) == shape(example("xportcn-ka-1688").body)


@pytest.mark.parametrize("provider", sorted(REGISTRY))
def test_the_documented_example_is_accepted_at_the_documented_path(provider, fresh_sandbox):
    doc = example(provider)
    body = FILLED_1688_CREATE if provider == "xportcn-ka-1688" else None
    response = replay(fresh_sandbox, provider, body)
    assert accepted(provider, response), response.text
    answer = response.json()
    if provider == "xportcn-ka-taobao":  # its only documented answer is the 3005 error: the envelope is the shape
        assert set(answer) == set(doc.answer) == XPORTCN_ENVELOPE
    else:
        assert same_shape(answer, doc.answer) == []
    assert fresh_sandbox.state.create_calls(provider=provider) == 1


def test_the_1688_preview_example_is_answered_in_the_documented_shape(sandbox):
    answer = post(sandbox, "xportcn-ka-1688", PREVIEW_1688_PATH, PREVIEW_1688).json()
    documented = {  # PROVIDERS.md §2, the real KA preview answer
        "sumCarriage": 600,
        "sumPayment": 6400,
        "sumTotalPayment": 6561,
        "sumPaymentNoCarriage": 5800,
        "orderItemTOList": [
            {
                "amount": 5800,
                "message": None,
                "finalUnitPrice": 2900,
                "specId": "530ad0e3e64c05d35bc0b1a2ec2a0652",
                "skuId": 5736673805656,
                "offerId": 889512351602,
                "openOfferId": "+vIWvlcT2JMpWVABRdm+WQ==",
            }
        ],
    }
    (group,) = answer["data"]
    assert same_shape(group, documented) == []
    assert (group["sumPayment"], group["orderItemTOList"][0]["amount"]) == (6400, 5800)  # the example's numbers


# ----- one rule at a time, both sides ---------------------------------------------------------------------


def _set(path, value):
    """A change to a body: set the dotted ``path`` (``receiver.phone``; ``receiver`` may be a JSON string)."""

    def change(body):
        body = copy.deepcopy(body)
        *parents, leaf = path.split(".")
        target = body
        for key in parents:
            if isinstance(target[key], str):
                decoded = json.loads(target[key])
                _assign(decoded, [], leaf, value)
                target[key] = json.dumps(decoded, ensure_ascii=False)
                return body
            target = target[key]
        _assign(target, [], leaf, value)
        return body

    return change


DELETE = object()


def _assign(target, _parents, leaf, value):
    if isinstance(target, list):
        target = target[0]
    if value is DELETE:
        target.pop(leaf, None)
    else:
        target[leaf] = value


def _lines(name, leaf, value):
    """A change to the first entry of a line list (a real array or a JSON string)."""

    def change(body):
        body = copy.deepcopy(body)
        raw = body[name]
        lines = json.loads(raw) if isinstance(raw, str) else raw
        _assign(lines, [], leaf, value)
        body[name] = json.dumps(lines, ensure_ascii=False) if isinstance(raw, str) else lines
        return body

    return change


def _as_text(name):
    return lambda body: {**body, name: json.dumps(body[name], ensure_ascii=False)}


def _as_value(name):
    return lambda body: {**body, name: json.loads(body[name])}


SAME = None
RULES = [
    # (provider, rule, right change (None: the example as written), wrong change, words of the refusal)
    ("xportcn-open", "purchaseAmount is required", SAME, _set("purchaseAmount", DELETE), "purchaseAmount is required"),
    ("xportcn-open", "purchaseAmount is an int64", SAME, _set("purchaseAmount", "400"), "must be an integer"),
    ("xportcn-open", "purchaseAmount = Σ price × quantity", SAME, _set("purchaseAmount", 1), "not the sum"),
    ("xportcn-open", "receiver is a JSON string", SAME, _as_value("receiver"), "receiver must be a string"),
    ("xportcn-open", "receiver.name is required", SAME, _set("receiver.name", ""), "receiver.name is required"),
    ("xportcn-open", "receiver keys are the documented", SAME, _set("receiver.province", "x"), "unknown keys"),
    ("xportcn-open", "orderLineList is a JSON string", SAME, _as_value("orderLineList"), "must be a string"),
    ("xportcn-open", "line price is required", SAME, _lines("orderLineList", "price", DELETE), "price is required"),
    ("xportcn-open", "orderSource is a string", SAME, _set("orderSource", 7), "orderSource must be a string"),
    ("xportcn-ka-taobao", "receiver.phone is filled", SAME, _set("receiver.phone", ""), "receiver.phone is required"),
    ("xportcn-ka-taobao", "no mobile_phone key", SAME, _set("receiver.mobile_phone", "1"), "unknown keys"),
    ("xportcn-ka-taobao", "lines are a real array", SAME, _as_text("productOrderLineList"), "must be an array"),
    (
        "xportcn-ka-taobao",
        "quantity is an integer",
        SAME,
        _lines("productOrderLineList", "quantity", "1"),
        "quantity must be an integer",
    ),
    (
        "xportcn-ka-taobao",
        "orderLineNo is required",
        SAME,
        _lines("productOrderLineList", "orderLineNo", DELETE),
        "orderLineNo is required",
    ),
    ("xportcn-ka-1688", "townText is required", SAME, _set("addressParam.townText", DELETE), "townText is required"),
    ("xportcn-ka-1688", "townText is filled", SAME, _set("addressParam.townText", ""), "townText is required"),
    ("xportcn-ka-1688", "mobile is filled", SAME, _set("addressParam.mobile", ""), "mobile is required"),
    (
        "xportcn-ka-1688",
        "phone may be empty (the preview example)",
        _set("addressParam.phone", ""),
        _set("addressParam.phone", DELETE),
        "phone is required",
    ),
    ("xportcn-ka-1688", "flow is a documented value", SAME, _set("flow", "cheap"), "flow must be one of"),
    ("xportcn-ka-1688", "offerId is an integer", SAME, _lines("cargoParamList", "offerId", "889512351602"), "offerId"),
    ("xportcn-ka-1688", "developerId is an integer", SAME, _set("developerId", "1"), "developerId must be an integer"),
    ("dajisaas", "receiver.zip is required", SAME, _set("receiver.zip", DELETE), "receiver.zip is required"),
    ("dajisaas", "receiver.district is filled", SAME, _set("receiver.district", ""), "receiver.district is required"),
    ("dajisaas", "order_source is required", SAME, _set("order_source", DELETE), "order_source is required"),
    ("dajisaas", "purchase_amount is an integer", SAME, _set("purchase_amount", "1"), "must be an integer"),
    ("dajisaas", "thirdOrderId is required", SAME, _set("thirdOrderId", DELETE), "thirdOrderId is required"),
    (
        "dajisaas",
        "warehouse_address_info is required unless cross-border",
        lambda b: _set("receiver.country", "Brasil")(_set("warehouse_address_info", DELETE)(b)),
        _set("warehouse_address_info", DELETE),
        "非跨境必填",
    ),
    ("dajisaas", "order_line_list is a JSON string", SAME, _as_value("order_line_list"), "must be a string"),
    ("dajisaas", "booleans are booleans", SAME, _set("support_partial_success", "false"), "must be a boolean"),
    (
        "dajisaas",
        "seller_order_number may be empty",
        _set("seller_order_number", ""),
        _set("seller_order_number", DELETE),
        "seller_order_number is required",
    ),
    ("shanjing", "purchase_amount is required", SAME, _set("purchase_amount", DELETE), "purchase_amount is required"),
    ("shanjing", "order_line_list is a JSON string", SAME, _as_value("order_line_list"), "must be a string"),
    ("shanjing", "receiver is an object", SAME, _as_text("receiver"), "receiver must be an object"),
    ("shanjing", "channel_order_type is documented", SAME, _set("channel_order_type", "FAST"), "must be one of"),
    (
        "shanjing",
        "line currency is text (USD in the example)",
        SAME,
        _lines("order_line_list", "currency", 840),
        "currency",
    ),
]


@pytest.mark.parametrize(("provider", "rule", "right", "wrong", "says"), RULES, ids=[r[1] for r in RULES])
def test_each_rule_accepts_the_right_body_and_refuses_the_wrong_one_in_the_documented_shape(
    provider, rule, right, wrong, says, fresh_sandbox
):
    doc = FILLED_1688_CREATE if provider == "xportcn-ka-1688" else example(provider).body
    good = replay(fresh_sandbox, provider, right(doc) if right else doc)
    assert accepted(provider, good), good.text
    bad = replay(fresh_sandbox, provider, wrong(doc))
    assert says in refusal_text(provider, bad)


# ----- credentials and headers, both sides ----------------------------------------------------------------


@pytest.mark.parametrize("provider", sorted(XPORTCN))
@pytest.mark.parametrize(
    ("header", "value", "says"),
    [
        ("user-id", "", "user-id无效"),
        ("user-id", "2100008175167", "user-id无效"),
        ("signature", "7D47A933403A8492C4B355DBB00A41EE", "签名错误"),
    ],
)
def test_xportcn_headers_are_all_required_and_user_id_is_checked(provider, header, value, says, fresh_sandbox):
    response = replay(
        fresh_sandbox, provider, FILLED_1688_CREATE if provider == "xportcn-ka-1688" else None, {header: value}
    )
    assert says in refusal_text(provider, response)
    assert fresh_sandbox.state.create_calls(provider=provider) == 0


def test_xportcn_timestamps_are_seconds_unless_the_sandbox_is_set_to_milliseconds(fresh_sandbox):
    account = fresh_sandbox.account("xportcn-open")
    doc = example("xportcn-open")
    import time

    millis = xportcn_headers(
        account.credential("access_key"), account.credential("secret"), "sandbox-user", str(int(time.time() * 1000))
    )
    url = account.base_url + doc.path(REGISTRY["xportcn-open"].default_base_url)
    refused = requests.post(url, json=doc.body, headers=millis, timeout=10)
    assert "timestamp" in refusal_text("xportcn-open", refused)
    fresh_sandbox.module("xportcn-open").gate.milliseconds = True
    assert accepted("xportcn-open", requests.post(url, json=doc.body, headers=millis, timeout=10))


def test_dajisaas_refuses_a_wrong_app_secret(fresh_sandbox):
    doc = example("dajisaas")
    account = fresh_sandbox.account("dajisaas")
    url = account.base_url + doc.path(REGISTRY["dajisaas"].default_base_url)
    body = {**doc.body, "appKey": account.credential("app_key"), "appSecret": "wrong"}
    assert "appSecret错误" in refusal_text("dajisaas", requests.post(url, json=body, timeout=10))


def test_shanjing_needs_the_bearer_token_on_every_call_and_on_the_refresh(fresh_sandbox):
    refused = replay(fresh_sandbox, "shanjing", headers={"Authorization": ""})
    assert refused.status_code == 401 and "MissingAccessToken" in refusal_text("shanjing", refused)
    account = fresh_sandbox.account("shanjing")
    refresh = account.base_url + "/rest/taobao-global/auth/token/refresh"
    params = {"refresh_token": account.credential("refresh_token")}
    assert requests.get(refresh, params=params, timeout=10).status_code == 401
    bearer = {"Authorization": f"Bearer {account.credential('access_token')}"}
    assert requests.get(refresh, params=params, headers=bearer, timeout=10).json()["access_token"]


@pytest.mark.parametrize(("market", "ok"), [("CBU_MARKET", True), ("TB_MARKET", False)])
def test_shanjing_collision_takes_the_documented_source_market(market, ok, sandbox):
    account = sandbox.account("shanjing")
    url = account.base_url + "/rest/taobao-global/product/get"
    params = {"item_source_market": market, "item_id": "652876415053"}  # the collision document's example
    answer = requests.get(url, params=params, headers=valid_call("shanjing", account, None)[0], timeout=10).json()
    assert answer["success"] is ok
    if ok:
        assert answer["data"]["mpId"]
    else:
        assert "item_source_market must be one of CBU_MARKET" in answer["errorMsg"]
