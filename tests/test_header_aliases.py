"""Forgiving header matching: the headers bulk-buying teams actually type."""

import pandas as pd
import pytest

import importer
from importer.models import Status
from importer.providers.xportcn_ka_1688 import XportcnKa1688
from importer.read.headers import match_headers, missing_columns_message, normalize_header

EXPECTED = {
    "Item ID": "item_id",
    "item-id": "item_id",
    "itemId": "item_id",
    "ITEM_ID": "item_id",
    " Item  Id ": "item_id",
    "ＩＴＥＭ ＩＤ": "item_id",
    "offerId": "item_id",
    "商品ID": "item_id",
    "商品链接": "item_id",
    "SKU ID": "sku_id",
    "规格ID": "sku_id",
    "数量": "quantity",
    "单价": "unit_price",
    "币种": "currency",
    "收件人": "receiver_name",
    "收货人": "receiver_name",
    "手机": "receiver_mobile",
    "电话": "receiver_phone",
    "省": "province",
    "市": "city",
    "区": "district",
    "详细地址": "address",
    "邮编": "zip",
    "备注": "order_remark",
    "订单号": "order_ref",
    "外部订单号": "order_ref",
    "镇": "town",
    "乡镇": "town",
    "街道": "town",
    "镇/街道": "town",
    "乡镇/街道": "town",
    "街道办事处": "town",
    "Town": "town",
    "Township": "town",
    "Street office": "town",
    "Subdistrict": "town",
    "townText": "town",
}


@pytest.mark.parametrize(("header", "column"), EXPECTED.items())
def test_header_variants_match(header, column):
    assert match_headers([header]).columns[0][2] == column


def test_result_columns_on_input_are_ignored_so_results_can_be_reimported():
    match = match_headers(["order_ref", "item_id", "quantity", "status", "provider_order_id", "error"])
    assert match.known == 3 and {"status", "provider_order_id", "error"} <= set(match.ignored)


def test_user_mapping_wins_and_unknown_headers_pass_through():
    match = match_headers(["单号", "货号", "数量", "颜色"], extra={"单号": "order_ref", "货号": "item_id"})
    assert [c for _, _, c in match.columns] == ["order_ref", "item_id", "quantity", None]
    assert not match.missing


def test_missing_required_column_names_the_closest_header():
    match = match_headers(["order_ref", "itemid", "qty "])
    assert not match.missing
    match = match_headers(["order_ref", "item", "quantty"])
    message = missing_columns_message(match)
    assert "no column for item_id; did you mean 'item'?" in message
    assert "no column for quantity; did you mean 'quantty'?" in message


def test_normalisation_folds_width_case_and_punctuation():
    assert normalize_header("Ｒｅｃｅｉｖｅｒ-Name") == normalize_header("receiver_name") == "receivername"


def test_the_street_address_is_not_taken_for_the_town():
    assert [c for _, _, c in match_headers(["Street", "街道"]).columns] == ["address", "town"]
    assert [c for _, _, c in match_headers(["街道地址", "乡镇/街道"]).columns] == ["address", "town"]


def test_a_1688_order_from_a_sheet_headed_zhen_jiedao_sends_its_town(fresh_sandbox, tmp_path):
    """The 镇/街道 column reaches 1688 as addressParam.townText, and the order is bought."""
    headers = ["平台", "订单号", "商品ID", "规格ID", "数量", "收货人", "手机", "省", "市", "区", "镇/街道", "详细地址"]
    receiver = ["张三", "13800138000", "浙江省", "杭州市", "余杭区", "五常街道", "文一西路969号"]
    toys = ["xportcn-ka-1688", "T-1", "889512351602", "530ad0e3e64c05d35bc0b1a2ec2a0652", "2", *receiver]
    sheet = tmp_path / "orders.xlsx"
    pd.DataFrame([toys], columns=headers).to_excel(sheet, index=False)
    result = importer.run(sheet, settings=fresh_sandbox.settings(), output=tmp_path / "out.xlsx", ledger=tmp_path / "l")
    assert list(result.outcomes["status"]) == [Status.CREATED], result.outcomes["error"].tolist()
    module = fresh_sandbox.module("xportcn-ka-1688")
    (created,) = module.log.bodies(XportcnKa1688.CREATE_PATH)
    assert created["addressParam"]["townText"] == "五常街道"
    assert len(fresh_sandbox.state.orders("xportcn-ka-1688")) == 1


def test_the_web_mapping_page_offers_the_column_a_town_header_is_guessed_as():
    """Else the page shows the 镇/街道 header unmapped, and checking the sheet drops its town column."""
    from importer.web.checks import COLUMNS, guess_column

    assert guess_column("镇/街道") == "town" and "town" in COLUMNS
