"""Cross-border receivers: the tax_id column, the Brazil rule pack, and a new destination as a file."""

import os
import subprocess
import sys

import openpyxl
import pandas as pd
import pytest

import importer
from importer.models import Receiver
from importer.providers.taobao_global import receiver_object
from importer.read.headers import match_headers
from importer.validate import warnings as advice

BRAZIL = {
    "provider": "dajisaas",
    "order_ref": "BR-1",
    "item_id": "652711530188",
    "sku_id": "4412088130021",
    "quantity": "1",
    "receiver_name": "Ana Souza",
    "receiver_mobile": "+55 11 91234-5678",
    "country": "Brasil",
    "province": "SP",
    "city": "São Paulo",
    "address": "Av. Paulista, 1000",
    "zip": "01310-100",
    "tax_id": "123.456.789-09",
}


def check(**changes: str) -> list[tuple[str, str, str]]:
    report = importer.validate(pd.DataFrame([{**BRAZIL, **changes}]))
    found = pd.concat([report.errors.assign(kind="error"), report.warnings.assign(kind="warning")])
    return sorted(zip(found["column"], found["kind"], found["message"], strict=True))


def test_a_complete_brazilian_receiver_passes_and_mainland_rules_do_not_apply():
    assert check() == []  # no district, a non-mainland mobile and zip: fine for Brazil
    assert check(tax_id="12.345.678/0001-95") == []  # a CNPJ


@pytest.mark.parametrize(
    ("changes", "column", "kind", "says"),
    [
        ({"tax_id": ""}, "tax_id", "error", "Brazilian addresses need the receiver's tax_id (CPF or CNPJ)"),
        ({"tax_id": "1234"}, "tax_id", "error", "CPF (11 digits, like 123.456.789-09) or CNPJ"),
        ({"zip": "0131010"}, "zip", "error", "a Brazilian zip code (CEP) has 8 digits"),
        ({"receiver_mobile": "+55 11 1234"}, "receiver_mobile", "warning", "a Brazilian phone number"),
    ],
)
def test_what_brazil_needs(changes, column, kind, says):
    [(found_column, found_kind, message)] = check(**changes)
    assert (found_column, found_kind) == (column, kind)
    assert says in message


def test_tax_id_headers():
    for header in ("税号", "身份证号", "Tax ID", "CPF", "CPF/CNPJ"):
        match = match_headers(["订单号", "商品ID", "数量", header])
        assert {o: c for _, o, c in match.columns}[header] == "tax_id"


def test_the_receiver_object_carries_tax_id_only_when_given():
    assert "tax_id" not in receiver_object(Receiver(name="张三"))
    assert receiver_object(Receiver(name="Ana", tax_id="12345678909"))["tax_id"] == "12345678909"


def test_a_new_destination_is_a_file(tmp_path, monkeypatch):
    rules = tmp_path / "rules"
    rules.mkdir()
    for pack in ("cn.toml", "br.toml"):
        (rules / pack).write_bytes((advice.RULES / pack).read_bytes())
    (rules / "my.toml").write_text(
        'country_names = ["Malaysia", "MY"]\n'
        '[fields.zip]\npattern = "[0-9]{5}"\nmessage = "a Malaysian postcode has 5 digits"\n'
        '[required]\ncolumns = ["province"]\nmessage = "Malaysian addresses need the state"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(advice, "RULES", rules)
    found = check(country="MY", zip="123", province="", tax_id="")
    assert [(c, m.split(";")[0]) for c, _, m in found] == [
        ("province", "Malaysian addresses need the state"),
        ("zip", "a Malaysian postcode has 5 digits"),
    ]


def test_a_brazilian_order_reaches_the_sandbox_with_its_tax_id_via_the_cli(tmp_path, fresh_sandbox):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Orders"
    sheet.append(
        ["平台", "订单号", "商品ID", "SKU", "数量", "收货人", "手机", "国家", "省", "市", "地址", "邮编", "CPF"]
    )
    sheet.append([BRAZIL[c] for c in ("provider", "order_ref", "item_id", "sku_id", "quantity", "receiver_name",
                  "receiver_mobile", "country", "province", "city", "address", "zip", "tax_id")])  # fmt: skip
    path = tmp_path / "brazil.xlsx"
    workbook.save(path)
    config = tmp_path / "importer.toml"
    env = {**os.environ, **fresh_sandbox.write_config(config)}
    command = [sys.executable, "-m", "importer", "import", str(path), "--config", str(config)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    [order] = fresh_sandbox.state.orders("dajisaas")
    assert order["receiver"]["tax_id"] == "123.456.789-09"
    assert order["receiver"]["country"] == "Brasil"


def test_the_sandbox_refuses_a_tax_id_that_is_not_text(fresh_sandbox):
    import requests

    account = fresh_sandbox.account("dajisaas")
    body = {
        "appKey": account.credential("app_key"),
        "appSecret": account.credential("app_secret"),
        "need_supplychain_service": False,
        "render_item_List": '[{"itemId":"1","quantity":"1","skuId":"1"}]',
        "receiver_address": {**fresh_sandbox.account("dajisaas").options["warehouse"], "phone": "1", "tax_id": 123},
    }
    answer = requests.post(f"{account.base_url}/taobao/purchase/order/render", json=body, timeout=10).json()
    assert "receiver_address.tax_id must be a string or null" in str(answer)
