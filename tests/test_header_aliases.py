"""Forgiving header matching: the headers bulk-buying teams actually type."""

import pytest

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
