"""What each adapter sends, against its document: a captured mobile-only order, the field table, the docs.

The request of a 2-line order whose sheet gives only a mobile number is
captured at the sandbox, for every provider, and compared with the document's
example: the same keys and JSON types (JSON-encoded strings compared inside).
The adapters' field tables name sheet columns that exist and sources that are
documented or inferred, reword provider refusals in the sheet's words, and
generate docs/providers.md.
"""

import dataclasses
import json
from pathlib import Path

import pandas as pd
import pytest
from documents import FILLED_1688_CREATE, example, shape

import importer
from importer.config import Secret
from importer.errors import ConfigError, Rejected
from importer.models import CANONICAL_COLUMNS, Status
from importer.providers import REGISTRY, provider_class
from importer.providers.fields import DOCUMENTED, INFERRED, sheet_words
from importer.providers.reference import providers_markdown
from importer.sandbox import SANDBOX_MODULES
from importer.submit.orders import RetryPolicy

DOCS = Path(__file__).resolve().parents[1] / "docs" / "providers.md"
NO_WAIT = RetryPolicy(attempts=1, sleep=lambda seconds: None)
MOBILE_ONLY = {
    "receiver_name": "张三",
    "receiver_mobile": "13800138000",
    "country": "中国",
    "province": "浙江省",
    "city": "杭州市",
    "district": "余杭区",
    "town": "五常街道",
    "address": "文一西路969号",
    "zip": "311121",
    "order_remark": "请尽快发货",
    "order_source": "lazada",
}
# Keys a document shows that the adapter leaves out unless there is a value for them.
NOT_SENT = {
    "xportcn-ka-1688": {
        "shopPromotionId",
        "userId",
        "staffName",
        "developerId",
        "platformOrder",
        "dropshipping",
        "tradeType",
        "cargoParamList[].sellerOpenId",
        "cargoParamList[].productNo",
        "cargoParamList[].container",
    },
    "dajisaas": {"receiver.tax_id"},
}
CREDENTIALS = {"appKey", "appSecret", "sign"}
"""Dajisaas' credentials in the body, added by its auth scheme (the sandbox account signs)."""


def flat(value, prefix=""):
    """Dotted key paths and JSON types of a body, JSON-encoded strings opened; lists by their first entry."""
    if isinstance(value, str) and value[:1] in ("[", "{"):
        value = json.loads(value)
    if isinstance(value, dict):
        return {path: kind for k, v in value.items() for path, kind in flat(v, f"{prefix}{k}.").items()}
    if isinstance(value, list):
        return flat(value[0], prefix[:-1] + "[].") if value else {prefix[:-1]: "array"}
    return {prefix[:-1]: shape(value)}


def run_mobile_only(provider, sandbox, tmp_path):
    module = sandbox.module(provider)
    lines = module.EXAMPLE_LINES["clean"]
    rows = [{"provider": provider, "order_ref": "MO-1", **line, **MOBILE_ONLY} for line in lines]
    for row in rows:
        row["line_remark"] = "子单维度备注"
    result = importer.run(
        pd.DataFrame(rows, dtype=str),
        settings=sandbox.settings(),
        output=tmp_path / "out.xlsx",
        ledger=tmp_path / "ledger.sqlite",
        policy=NO_WAIT,
    )
    assert set(result.outcomes["status"]) == {Status.CREATED}, result.outcomes["error"].tolist()
    (body,) = module.log.bodies(REGISTRY[provider].CREATE_PATH)
    return body


@pytest.mark.parametrize("provider", sorted(REGISTRY))
def test_the_request_of_a_mobile_only_two_line_order_has_the_shape_of_the_documents_example(
    provider, fresh_sandbox, tmp_path
):
    body = run_mobile_only(provider, fresh_sandbox, tmp_path)
    documented = FILLED_1688_CREATE if provider == "xportcn-ka-1688" else example(provider).body
    skipped = NOT_SENT.get(provider, set()) | CREDENTIALS
    sent = {k: v for k, v in flat(body).items() if k not in CREDENTIALS}
    shown = {k: v for k, v in flat(documented).items() if k not in skipped}
    assert set(sent) == set(shown), (sorted(set(sent) - set(shown)), sorted(set(shown) - set(sent)))
    assert sent == shown


@pytest.mark.parametrize(
    ("provider", "where", "phone", "mobile"),
    [
        ("xportcn-open", "receiver", "", "13800138000"),  # the example: "phone":"", "mobile_phone":"1506…"
        ("shanjing", "receiver", "", "13800138000"),  # the same Taobao Global receiver
        ("xportcn-ka-taobao", "receiver", "13800138000", None),  # KA has phone only: the mobile goes there
        ("xportcn-ka-1688", "addressParam", "13800138000", "13800138000"),  # both required on the twin
    ],
)
def test_a_mobile_only_sheet_fills_the_documented_phone_keys(provider, where, phone, mobile, fresh_sandbox, tmp_path):
    body = run_mobile_only(provider, fresh_sandbox, tmp_path)
    address = body[where] if isinstance(body[where], dict) else json.loads(body[where])
    assert address["phone"] == phone
    if mobile is None:
        assert set(address) == {"name", "phone", "address", "country", "state", "city"}
    else:
        assert address.get("mobile_phone", address.get("mobile")) == mobile


def test_dajisaas_sends_its_china_warehouse_as_receiver_and_warehouse(fresh_sandbox, tmp_path):
    body = run_mobile_only("dajisaas", fresh_sandbox, tmp_path)
    warehouse = dict(fresh_sandbox.account("dajisaas").options["warehouse"])
    assert warehouse["phone"] == ""  # the sandbox's warehouse gives a mobile only: it fills both required keys
    assert body["receiver"] == body["warehouse_address_info"] == {**warehouse, "phone": warehouse["mobile_phone"]}
    assert body["order_source"] == "lazada"


def test_xportcn_open_purchase_amount_is_the_sum_of_its_lines_as_in_the_example(fresh_sandbox, tmp_path):
    body = run_mobile_only("xportcn-open", fresh_sandbox, tmp_path)
    lines = json.loads(body["orderLineList"])
    assert body["purchaseAmount"] == sum(int(line["price"]) * int(line["quantity"]) for line in lines)


def test_ka_taobao_sends_the_examples_order_source_by_default(fresh_sandbox, tmp_path):
    account = fresh_sandbox.account("xportcn-ka-taobao")
    provider = provider_class("xportcn-ka-taobao")(account)
    order = importer.group(
        importer.validate(
            pd.DataFrame(
                [
                    {"provider": "xportcn-ka-taobao", "order_ref": "S-1", **line, **MOBILE_ONLY, "order_source": ""}
                    for line in SANDBOXED["xportcn-ka-taobao"].EXAMPLE_LINES["clean"]
                ],
                dtype=str,
            )
        )
    ).orders[0]
    assert provider.build_create_request(order, provider.preview(order), "OI-1").json["orderSource"] == "TAOBAO"


SANDBOXED = {module.PROVIDER_KEY: module for module in SANDBOX_MODULES}


# ----- required values with no value: clear errors before anything is sent ------------------------------


@pytest.mark.parametrize(
    ("provider", "change", "says"),
    [
        ("shanjing", lambda a: {"credentials": {"refresh_token": a.credentials["refresh_token"]}}, "access_token"),
        ("dajisaas", lambda a: {"options": {**a.options, "warehouse": {"name": "仓"}}}, "needs a warehouse table"),
        ("xportcn-ka-1688", lambda a: {"options": {**a.options, "flow": "cheap"}}, "flow must be one of"),
        ("dajisaas", lambda a: {"options": {**a.options, "support_partial_success": "sometimes"}}, "true or false"),
    ],
)
def test_a_missing_or_unreadable_setting_is_a_config_error_before_any_call(provider, change, says, fresh_sandbox):
    account = fresh_sandbox.account(provider)
    with pytest.raises(ConfigError, match=says):
        provider_class(provider)(dataclasses.replace(account, **change(account)))
    assert fresh_sandbox.state.calls() == 0


def test_an_order_without_the_required_order_source_fails_on_its_rows_in_the_sheets_words(fresh_sandbox, tmp_path):
    account = fresh_sandbox.account("dajisaas")
    options = {k: v for k, v in account.options.items() if k != "order_source"}
    settings = fresh_sandbox.settings().with_accounts({"dajisaas": dataclasses.replace(account, options=options)})
    rows = [
        {"provider": "dajisaas", "order_ref": "NS-1", **line, **MOBILE_ONLY, "order_source": ""}
        for line in SANDBOXED["dajisaas"].EXAMPLE_LINES["clean"]
    ]
    result = importer.run(
        pd.DataFrame(rows, dtype=str), settings=settings, output=tmp_path / "o.xlsx", ledger=tmp_path / "l.sqlite"
    )
    assert set(result.outcomes["status"]) == {Status.PREVIEW_FAILED}
    assert result.outcomes["error"].str.contains("order_source (订单来源) is needed by dajisaas", regex=False).all()
    assert fresh_sandbox.state.calls() == 0


def test_without_a_documented_preview_bad_credentials_fail_the_create_and_buy_nothing(fresh_sandbox, tmp_path):
    provider = "xportcn-ka-taobao"
    account = fresh_sandbox.account(provider)
    wrong = {**account.credentials, "secret": Secret("wrong")}
    settings = fresh_sandbox.settings().with_accounts({provider: dataclasses.replace(account, credentials=wrong)})
    rows = [
        {"provider": provider, "order_ref": "BC-1", **line, **MOBILE_ONLY}
        for line in SANDBOXED[provider].EXAMPLE_LINES["clean"]
    ]
    result = importer.run(
        pd.DataFrame(rows, dtype=str), settings=settings, output=tmp_path / "o.xlsx", ledger=tmp_path / "l.sqlite"
    )
    assert set(result.outcomes["status"]) == {Status.CREATE_FAILED}
    assert result.outcomes["error"].str.contains("check the access key and secret").all()
    assert fresh_sandbox.state.create_calls() == 0


# ----- provider field names reach users in the sheet's words ------------------------------------------


def test_a_refusal_naming_a_request_field_is_reported_in_the_sheets_words(sandbox):
    provider = provider_class("xportcn-ka-1688")(sandbox.account("xportcn-ka-1688"))
    body = json.loads(json.dumps(FILLED_1688_CREATE))
    del body["addressParam"]["provinceText"]
    with pytest.raises(Rejected) as refused:
        provider.send(dataclasses.replace(provider.check_request(), json=body), may_have_side_effects=False)
    message = refused.value.message
    assert message.startswith("province (省) is needed by xportcn-ka-1688 (the provider said: ")
    assert "addressParam.provinceText is required" in message  # the provider's own text, kept


@pytest.mark.parametrize(
    ("provider", "said", "words"),
    [
        ("xportcn-ka-1688", "addressParam needs provinceText", "province (省) is needed by xportcn-ka-1688"),
        ("dajisaas", "receiver.mobile_phone is required", "receiver_mobile (手机) is needed by dajisaas"),
        ("xportcn-open", "orderLineList[1].skuId must be digits", "sku_id (SKU ID) was refused by xportcn-open"),
        ("shanjing", 'bad value "name"', None),  # a field name inside an echoed value is not a complaint about it
        ("xportcn-ka-taobao", "获取参数失败", None),
    ],
)
def test_sheet_words(provider, said, words):
    reworded = sheet_words(REGISTRY[provider].FIELDS, provider, said)
    if words is None:
        assert reworded is None
    else:
        assert reworded == f"{words} (the provider said: {said})"


# ----- the tables, and the docs generated from them ----------------------------------------------------


@pytest.mark.parametrize("provider", sorted(REGISTRY))
def test_every_field_and_endpoint_names_its_source_and_real_sheet_columns(provider):
    cls = REGISTRY[provider]
    columns = set(CANONICAL_COLUMNS) | set(cls.columns)
    assert {e.role for e in cls.ENDPOINTS} >= {"create", "check-config"}
    for entry in (*cls.ENDPOINTS, *cls.FIELDS):
        assert entry.basis in (DOCUMENTED, INFERRED) and entry.source, entry
    for field in cls.FIELDS:
        assert not field.column or field.column in columns, field
    documented_create = next(e for e in cls.ENDPOINTS if e.role == "create")
    assert documented_create.basis == DOCUMENTED and documented_create.path == cls.CREATE_PATH
    assert [key for key, _, _ in cls.CONFIG], "every adapter lists the options it reads"


def test_every_field_of_the_documents_example_is_in_the_adapters_table():
    for provider in sorted(REGISTRY):
        documented = FILLED_1688_CREATE if provider == "xportcn-ka-1688" else example(provider).body
        names = {f.name.replace("[]", "") for f in REGISTRY[provider].FIELDS}
        missing = (
            {path.replace("[]", "") for path in flat(documented)}
            - names
            - {p.replace("[]", "") for p in NOT_SENT.get(provider, set())}
        )
        assert not missing, (provider, sorted(missing))


def test_docs_providers_md_is_generated_from_the_tables():
    assert DOCS.read_text(encoding="utf-8") == providers_markdown(), (
        "regenerate with: python -m importer.providers.reference docs/providers.md"
    )


def test_the_generator_writes_the_page(tmp_path, capsys):
    from importer.providers.reference import main

    assert main([str(tmp_path / "providers.md")]) == 0
    assert (tmp_path / "providers.md").read_text(encoding="utf-8") == providers_markdown()
    assert main([]) == 0
    assert "| provider | create | preview | check-config | you must set |" in capsys.readouterr().out
