"""The sandbox itself: server, Xportcn signature gate, request checks, state and faults, over real HTTP."""

import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests

from importer.config import Secret, load_settings
from importer.providers.auth import XportcnSignedHeaders
from importer.sandbox import SANDBOX_MODULES, Faults, Sandbox
from importer.sandbox.catalogue import CATALOGUE, find_sku
from importer.sandbox.faults import FaultAction
from importer.sandbox.xportcn_open import XportcnOpenSandbox

AK = XportcnOpenSandbox.CREDENTIALS["access_key"]
SECRET = XportcnOpenSandbox.CREDENTIALS["secret"]
RECEIVER = {
    "zip": "311121",
    "country": "中国",
    "address": "文一西路969号",
    "city": "杭州市",
    "phone": "",
    "mobile_phone": "13800138000",
    "district": "余杭区",
    "name": "张三",
    "state": "浙江省",
}
LINE = {"itemId": "600126245031041190", "quantity": "1", "skuId": "5016042822039"}


def base(sandbox):
    """The Xportcn base URL of a running sandbox, or of a sandbox URL given as text."""
    url = sandbox if isinstance(sandbox, str) else sandbox.url
    return url + XportcnOpenSandbox.PREFIX


def render_body(lines=(LINE,), receiver=RECEIVER):
    return {
        "orderLineList": json.dumps(list(lines), ensure_ascii=False),
        "receiver": json.dumps(receiver, ensure_ascii=False),
    }


def create_body(external_id, lines, price="1250"):
    order_lines = [
        {**line, "orderLineNo": str(n), "price": price, "currency": "CNY"} for n, line in enumerate(lines, 1)
    ]
    return {
        "purchaseAmount": sum(int(price) * int(line["quantity"]) for line in lines),
        "receiver": json.dumps(RECEIVER, ensure_ascii=False),
        "orderLineList": json.dumps(order_lines),
        "sellerOrderNumber": external_id,
    }


def post(sandbox, path, body, auth=None, **kwargs):
    auth = auth or XportcnSignedHeaders(AK, SECRET, "sandbox-user")
    with requests.Session() as session:
        response = session.post(base(sandbox) + path, json=body, auth=auth, timeout=10, **kwargs)
    return response


# ----- server -------------------------------------------------------------------------------


def test_start_serves_on_a_free_loopback_port_and_stop_releases_it():
    sandbox = Sandbox.start()
    match = re.fullmatch(r"http://127\.0\.0\.1:(\d+)", sandbox.url)
    assert match and int(match.group(1)) > 0
    port = int(match.group(1))
    assert post(sandbox, "/open/order/render", render_body()).json()["code"] == 200
    sandbox.stop()
    sandbox.stop()  # twice is fine
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_unknown_path_is_404_and_wrong_method_is_405(sandbox):
    with requests.Session() as session:
        missing = session.post(base(sandbox) + "/open/nothing", json={}, timeout=5)
        wrong = session.get(base(sandbox) + "/open/order", timeout=5)
    assert missing.status_code == 404
    assert "no sandbox endpoint" in missing.json()["error"]
    assert wrong.status_code == 405


def test_routes_are_served_under_the_documented_paths(sandbox):
    assert "POST /xportcn/api/open/order" in sandbox.routes()
    assert "POST /xportcn/api/open/order/render" in sandbox.routes()
    assert "POST /xportcn/api/open/purchase/page" in sandbox.routes()


def test_settings_point_each_provider_at_the_sandbox(sandbox):
    settings = sandbox.settings()
    assert set(settings.accounts) == {module.PROVIDER_KEY for module in SANDBOX_MODULES}
    account = settings.account("xportcn-open")
    assert account.base_url == sandbox.url + "/xportcn/api"
    assert account.credentials["secret"] == Secret(SECRET)
    assert "sandbox-xportcn-secret" not in repr(account)
    assert account.options["user_id"] == "sandbox-user"
    assert account.connect_timeout <= 2 and account.read_timeout <= 10


def test_printed_config_loads_into_the_same_accounts(sandbox, tmp_path):
    text = sandbox.config_text()
    toml, env_part = text.split("# environment")
    config = tmp_path / "importer.toml"
    config.write_text(toml, encoding="utf-8")
    environ = dict(re.findall(r"export (\w+)=(\S+)", env_part))
    loaded = load_settings(config, environ=environ).account("xportcn-open")
    expected = sandbox.settings().account("xportcn-open")
    assert loaded.base_url == expected.base_url
    assert loaded.credentials == expected.credentials
    assert dict(loaded.options) == dict(expected.options)


# ----- signature gate --------------------------------------------------------------------------


def test_signer_and_verifier_agree(sandbox):
    body = post(sandbox, "/open/order/render", render_body()).json()
    assert body["code"] == 200
    assert body["msg"] == "成功"
    assert set(body) == {"requestId", "code", "developId", "msg", "data"}
    assert re.fullmatch(r"[0-9a-f]{32}", body["requestId"])


def test_timestamps_are_seconds_unless_the_sandbox_is_set_to_milliseconds(fresh_sandbox):
    auth = XportcnSignedHeaders(AK, SECRET, "sandbox-user", milliseconds=True)
    refused = post(fresh_sandbox, "/open/order/render", render_body(), auth=auth).json()
    assert (refused["code"], refused["msg"]) == (401, "timestamp已过期")
    fresh_sandbox.module("xportcn-open").gate.milliseconds = True
    assert post(fresh_sandbox, "/open/order/render", render_body(), auth=auth).json()["code"] == 200


def test_one_character_off_in_the_secret_is_refused_in_the_provider_shape(sandbox):
    wrong = SECRET[:-1] + ("x" if SECRET[-1] != "x" else "y")
    response = post(sandbox, "/open/order/render", render_body(), auth=XportcnSignedHeaders(AK, wrong, "sandbox-user"))
    assert response.status_code == 200  # Xportcn answers business errors with HTTP 200
    body = response.json()
    assert set(body) == {"requestId", "code", "developId", "msg", "data"}
    assert body["code"] == 401
    assert body["msg"] == "签名错误"
    assert body["data"] is None


def test_unknown_access_key_is_refused(sandbox):
    body = post(sandbox, "/open/order/render", render_body(), auth=XportcnSignedHeaders("nobody", SECRET)).json()
    assert body["code"] == 401


def test_stale_timestamp_is_refused(sandbox):
    stale = XportcnSignedHeaders(AK, SECRET, "sandbox-user", clock=lambda: time.time() - 601)
    body = post(sandbox, "/open/order/render", render_body(), auth=stale).json()
    assert body["code"] == 401
    assert "timestamp" in body["msg"]
    fresh_enough = XportcnSignedHeaders(AK, SECRET, "sandbox-user", clock=lambda: time.time() - 590)
    assert post(sandbox, "/open/order/render", render_body(), auth=fresh_enough).json()["code"] == 200


def test_unsigned_call_is_refused(sandbox):
    with requests.Session() as session:
        body = session.post(base(sandbox) + "/open/order/render", json=render_body(), timeout=5).json()
    assert body["code"] == 401


# ----- request checks: 3005 ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({**render_body(), "orderLineList": [LINE]}, "orderLineList must be a JSON string"),
        ({**render_body(), "receiver": RECEIVER}, "receiver must be a JSON string"),
        ({**render_body(), "orderLineList": "[{"}, "not valid JSON"),
        (render_body(receiver={**RECEIVER, "province": "浙江省"}), "unknown keys"),
        (render_body(receiver={**RECEIVER, "name": ""}), "receiver.name is required"),
        (render_body(receiver={**RECEIVER, "mobile_phone": ""}), "phone or mobile_phone"),
        (render_body(lines=[{**LINE, "quantity": "0"}]), "above 0"),
        (render_body(lines=[{**LINE, "itemId": 6.001262450310412e17}]), "must be an integer or digits"),
        (render_body(lines=[]), "empty"),
    ],
)
def test_unreadable_bodies_get_3005(sandbox, body, detail):
    answer = post(sandbox, "/open/order/render", body).json()
    assert answer["code"] == 3005
    assert answer["msg"].startswith("获取参数失败")
    assert detail in answer["msg"]


def test_body_that_is_not_json_gets_3005(sandbox):
    auth = XportcnSignedHeaders(AK, SECRET, "sandbox-user")
    with requests.Session() as session:
        response = session.post(
            base(sandbox) + "/open/order", data=b"not json", auth=auth, timeout=5, headers={"Content-Type": "x"}
        )
    assert response.json()["code"] == 3005


def test_integer_ids_are_read_as_their_exact_digits(sandbox):
    line = {"itemId": 600126245031041190, "quantity": 1, "skuId": 5016042822039}
    data = post(sandbox, "/open/order/render", render_body(lines=[line])).json()["data"]
    info = data["renderItemList"][0]["itemPriceInfos"][0]
    assert (info["itemId"], info["skuId"]) == ("600126245031041190", "5016042822039")


# ----- render and create -------------------------------------------------------------------------------


def test_render_answer_has_the_inferred_upstream_shape(sandbox):
    lines = [LINE, {"itemId": "600140872255310248", "quantity": "2", "skuId": "5203301889021"}, {**LINE, "itemId": "1"}]
    data = post(sandbox, "/open/order/render", render_body(lines=lines)).json()["data"]
    assert set(data) == {"renderItemList", "unavailableSkuList", "totalRealPayPrice"}
    groups = {g["sellerId"]: g for g in data["renderItemList"]}
    assert set(groups) == {"2206512345678", "3937219703"}
    cup = groups["2206512345678"]
    assert cup["nick"] == "杭州优品家居旗舰店"
    assert cup["itemPriceInfos"][0]["originPrice"] == {"amount": 1250, "currency": "CNY"}
    assert "discountPrice" not in cup["itemPriceInfos"][0]
    assert cup["mainlandShippingFee"] == {"amount": 600, "currency": "CNY"}
    assert cup["orderFee"] == {"amount": 1250 + 600, "currency": "CNY"}
    stand = groups["3937219703"]["itemPriceInfos"][0]
    assert stand["discountPrice"] == {"amount": 790, "currency": "CNY"}
    assert data["totalRealPayPrice"]["amount"] == 1250 + 600 + 2 * 790 + 600
    assert data["unavailableSkuList"] == [
        {"itemId": "1", "skuId": "5016042822039", "reason": "商品不存在或已下架", "errorCode": "ITEM_NOT_FOUND",
         "errorMsg": "商品不存在或已下架"}
    ]  # fmt: skip


def test_create_answer_has_every_documented_key(fresh_sandbox):
    data = post(fresh_sandbox, "/open/order", create_body("ext-keys", [LINE])).json()["data"]
    assert set(data) == {"id", "orderNo", "subOrderVOS", "createTime"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", data["createTime"])
    documented = {
        "subOrderId", "orderNo", "quantity", "title", "purchaseCurrency", "purchaseAmount", "itemId",
        "domesticPostFee", "closeReason", "skuId", "status", "taobaoPurchaseId", "taobaoSubPurchaseId",
        "errorCode", "errorMessage",
    }  # fmt: skip
    (sub,) = data["subOrderVOS"]
    assert set(sub) == documented
    assert all(isinstance(sub[k], str) for k in ("subOrderId", "orderNo", "taobaoPurchaseId", "itemId", "skuId"))
    assert sub["errorCode"] is None and sub["purchaseAmount"] == 1250


def test_create_takes_stock_counts_calls_and_remembers_the_order(fresh_sandbox):
    state = fresh_sandbox.state
    low = {"itemId": "600126245031041190", "quantity": "2", "skuId": "5016042822040"}  # stock 5
    assert post(fresh_sandbox, "/open/order", create_body("ext-a", [low])).json()["data"]["orderNo"]
    assert state.stock("600126245031041190", "5016042822040") == 3
    assert state.create_calls("ext-a") == 1
    assert state.calls("POST /xportcn/api/open/order") == 1
    (order,) = state.orders("xportcn-open")
    assert order["sellerOrderNumber"] == "ext-a"
    assert order["subOrderVOS"][0]["orderLineNo"] == "1"


def test_create_with_every_line_refused_is_code_200_and_remembers_nothing(fresh_sandbox):
    sold_out = {"itemId": "600126245031041190", "quantity": "1", "skuId": "5016042822041"}
    body = post(fresh_sandbox, "/open/order", create_body("ext-none", [sold_out])).json()
    assert body["code"] == 200
    assert body["data"]["orderNo"] is None
    assert body["data"]["subOrderVOS"][0]["errorCode"] == "SOLD_OUT"
    assert fresh_sandbox.state.orders("xportcn-open") == []
    assert fresh_sandbox.state.create_calls("ext-none") == 1


def test_the_sandbox_charges_its_own_price_whatever_the_line_declares(fresh_sandbox):
    body = post(fresh_sandbox, "/open/order", create_body("ext-cheap", [LINE], price="1")).json()
    (sub,) = body["data"]["subOrderVOS"]
    assert sub["errorCode"] is None and sub["purchaseAmount"] == 1250  # a sandbox rule (sandbox/rules.py)


def test_page_filters_by_seller_order_number(fresh_sandbox):
    for ext in ("ext-1", "ext-2", "ext-1"):
        post(fresh_sandbox, "/open/order", create_body(ext, [LINE]))
    data = post(fresh_sandbox, "/open/purchase/page", {"sellerOrderNumber": "ext-1"}).json()["data"]
    assert data["total"] == 2
    assert {r["sellerOrderNumber"] for r in data["records"]} == {"ext-1"}
    everything = post(fresh_sandbox, "/open/purchase/page", {"pageNum": 2, "pageSize": 2}).json()["data"]
    assert (everything["total"], everything["pages"], len(everything["records"])) == (3, 2, 1)


def test_concurrent_creates_never_sell_more_than_the_stock(fresh_sandbox):
    low = {"itemId": "600126245031041190", "quantity": "1", "skuId": "5016042822040"}  # stock 5
    results = []

    def buy(n):
        results.append(post(fresh_sandbox, "/open/order", create_body(f"ext-{n}", [low])).json())

    threads = [threading.Thread(target=buy, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    bought = [r for r in results if r["data"]["subOrderVOS"][0]["errorCode"] is None]
    assert len(results) == 12
    assert len(bought) == 5
    assert fresh_sandbox.state.stock("600126245031041190", "5016042822040") == 0
    assert len({r["data"]["orderNo"] for r in bought}) == 5


def test_reset_restores_stock_and_forgets_orders(fresh_sandbox):
    post(fresh_sandbox, "/open/order", create_body("ext-r", [{**LINE, "quantity": "3"}]))
    fresh_sandbox.faults = Faults(latency=0.01)
    fresh_sandbox.reset()
    state = fresh_sandbox.state
    assert state.stock("600126245031041190", "5016042822039") == 50000
    assert (state.create_calls(), state.calls(), state.orders("xportcn-open")) == (0, 0, [])
    assert not fresh_sandbox.faults.active


# ----- faults ------------------------------------------------------------------------------


def test_latency_is_added_to_every_call():
    with Sandbox.start(faults=Faults(latency=0.3)) as slow:
        started = time.monotonic()
        assert post(slow, "/open/order/render", render_body()).json()["code"] == 200
        assert time.monotonic() - started >= 0.3


def test_error_rate_one_answers_500_before_the_provider_logic():
    with Sandbox.start(faults=Faults(error_rate=1.0)) as failing:
        response = post(failing, "/open/order", create_body("ext-500", [LINE]))
        assert response.status_code == 500
        assert failing.state.create_calls() == 0
        assert failing.state.calls("POST /xportcn/api/open/order") == 1


def test_seeded_faults_repeat():
    first = Faults(error_rate=0.5, seed=7)
    second = Faults(error_rate=0.5, seed=7)
    picks = [first.choose() for _ in range(40)]
    assert picks == [second.choose() for _ in range(40)]
    assert {FaultAction.PASS, FaultAction.HTTP_500} == set(picks)


@pytest.mark.parametrize("bad", [{"latency": -1}, {"error_rate": 1.5}])
def test_fault_knobs_are_checked(bad):
    with pytest.raises(ValueError, match="fault"):
        Faults(**bad)


# ----- catalogue ------------------------------------------------------------------------------


def test_catalogue_has_what_the_samples_and_tests_need():
    assert len(CATALOGUE) >= 6
    assert len({item.seller.seller_id for item in CATALOGUE}) >= 3
    stocks = {sku.stock for item in CATALOGUE for sku in item.skus}
    assert 0 in stocks and 5 in stocks
    ids = [item.item_id for item in CATALOGUE]
    assert all(isinstance(i, str) and i.isdigit() and len(i) in (12, 16, 18) for i in ids)
    assert len(ids) == len(set(ids))


def test_find_sku_takes_an_empty_sku_only_on_single_sku_items():
    item, sku = find_sku("600131587420016652", "")
    assert item.title == "陶瓷马克杯"
    assert sku.sku_id == "5120033418870"
    assert find_sku("600126245031041190", "") is None
    assert find_sku("600126245031041190", "1") is None
    assert find_sku("1", "5016042822039") is None
    assert find_sku("600126245031041190", "5016042822039")[1].price == 1250


# ----- serve (the console command's body) -------------------------------------------------------


def test_serve_prints_a_working_config_and_stops_on_interrupt():
    code = "from importer.sandbox import serve; serve('127.0.0.1', 0)"
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        while not lines or not lines[-1].startswith("export XPORTCN_OPEN_SECRET"):
            text = process.stdout.readline()
            assert text, f"serve exited early: {process.stderr.read()}"
            lines.append(text)
        url = re.search(r"listening on (http://\S+)", lines[0]).group(1)
        assert post(url, "/open/order/render", render_body()).json()["code"] == 200
        assert any(line.startswith('base_url = "' + url + '/xportcn/api"') for line in lines)
    finally:
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=10)
    assert "sandbox stopped" in out
    assert process.returncode == 0


# ----- a slow provider: create delay, kept state, order counts -----------------------------------


def order_counts(url):
    return requests.get(url + "/_sandbox/orders", timeout=5).json()


def test_a_slow_create_answers_and_makes_the_order_only_after_its_delay():
    with Sandbox.start(create_delay=0.6) as slow:
        done = {}
        thread = threading.Thread(target=lambda: done.update(r=post(slow, "/open/order", create_body("ext-s", [LINE]))))
        started = time.monotonic()
        thread.start()
        time.sleep(0.3)
        assert post(slow, "/open/purchase/page", {"sellerOrderNumber": "ext-s"}).json()["data"]["records"] == []
        assert order_counts(slow.url) == []  # still being made
        thread.join()
        assert time.monotonic() - started >= 0.6 and done["r"].json()["code"] == 200
        assert order_counts(slow.url) == [{"provider": "xportcn-open", "external_id": "ext-s", "orders": 1}]
        assert post(slow, "/open/order/render", render_body()).elapsed.total_seconds() < 0.6  # only creates wait


def test_orders_survive_a_restart_with_a_state_folder(tmp_path):
    with Sandbox.start(state_dir=tmp_path) as first:
        order_no = post(first, "/open/order", create_body("ext-keep", [LINE])).json()["data"]["orderNo"]
    with Sandbox.start(state_dir=tmp_path) as second:
        listed = post(second, "/open/purchase/page", {"sellerOrderNumber": "ext-keep"}).json()["data"]["records"]
        assert [r["orderNo"] for r in listed] == [order_no]
        assert second.state.stock("600126245031041190", "5016042822039") == 50000 - 1
        assert order_counts(second.url) == [{"provider": "xportcn-open", "external_id": "ext-keep", "orders": 1}]
        again = post(second, "/open/order", create_body("ext-keep", [LINE])).json()["data"]["orderNo"]
        assert again != order_no  # ids stay unique across the restart
        assert order_counts(second.url)[0]["orders"] == 2


def test_the_order_count_endpoint_is_neither_counted_nor_faulted():
    with Sandbox.start(faults=Faults(error_rate=1.0)) as failing:
        assert order_counts(failing.url) == []
        assert failing.state.calls() == 0


def test_the_sandbox_command_takes_a_create_delay_and_a_state_folder(tmp_path):
    command = [sys.executable, "-m", "importer", "sandbox", "--port", "0", "--create-delay", "0.2"]
    command += ["--state", str(tmp_path), "--lookup-answer", "null-data"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [process.stdout.readline()]
        while "settle_seconds" not in lines[-1]:
            lines.append(process.stdout.readline())
            assert lines[-1], process.stderr.read()
        url = re.search(r"listening on (http://\S+)", lines[0]).group(1)
        assert any("creates take 0.2 s" in line for line in lines)
        assert "settle_seconds = 2.2" in lines[-1]
        assert post(url, "/open/order", create_body("ext-cli", [LINE])).elapsed.total_seconds() >= 0.2
        assert post(url, "/open/purchase/page", {"sellerOrderNumber": "ext-cli"}).json()["data"] is None
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=10)
    assert (tmp_path / "sandbox-state.json").is_file()
