"""Header matching: the headers people type, mapped to the canonical columns, and what is said when one is missing."""

import pytest

from importer.models import CANONICAL_COLUMNS, ERROR_COLUMN_COL, RESULT_COLUMNS
from importer.providers import REGISTRY
from importer.read.headers import (
    ALIASES,
    IGNORED_HEADERS,
    REQUIRED_COLUMNS,
    SKU_CODE,
    match_headers,
    missing_columns_message,
    normalize_header,
)


def canonical(headers: list[object], **options: object) -> list[str | None]:
    return [column for _, _, column in match_headers(headers, **options).columns]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "header",
    [
        "item_id",
        "Item ID",
        "item-id",
        "ITEM_ID",
        "itemId",
        " item  id ",
        "Item.ID",
        "item/id",
        "(item id)",
        "ＩＴＥＭ＿ＩＤ",
    ],
)
def test_case_space_width_and_punctuation_do_not_matter(header):
    assert normalize_header(header) == "itemid"
    assert canonical([header]) == ["item_id"]


def test_normalising_nothing_or_a_number_gives_text():
    assert normalize_header(None) == ""
    assert normalize_header(2024) == "2024"
    assert normalize_header("收货人：") == "收货人"  # a full-width colon is punctuation too


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("订单号", "order_ref"),
        ("采购单号", "order_ref"),
        ("平台", "provider"),
        ("行号", "line_no"),
        ("宝贝链接", "item_id"),
        ("商品 ID", "item_id"),
        ("SKU编号", "sku_id"),
        ("购买数量", "quantity"),
        ("采购单价", "unit_price"),
        ("货币", "currency"),
        ("商品标题", "title"),
        ("商品备注", "line_remark"),
        ("收件人姓名", "receiver_name"),
        ("固定电话", "receiver_phone"),
        ("手机号码", "receiver_mobile"),
        ("国家", "country"),
        ("省份", "province"),
        ("城市", "city"),
        ("区县", "district"),
        ("收货地址", "address"),
        ("邮政编码", "zip"),
        ("买家留言", "order_remark"),
    ],
)
def test_chinese_headers_match(header, column):
    assert canonical([header]) == [column]


def test_every_alias_points_at_a_canonical_column_and_every_column_matches_itself():
    provider_columns = {column for cls in REGISTRY.values() for column in cls.columns}
    assert set(ALIASES.values()) <= {*CANONICAL_COLUMNS, SKU_CODE, *provider_columns}
    for column in CANONICAL_COLUMNS:
        assert canonical([column]) == [column]


def test_positions_and_original_text_are_kept_and_blank_headers_skipped():
    match = match_headers(["  Order No ", None, "", "Colour", "数量", "item id"])
    assert match.columns == [
        (0, "Order No", "order_ref"),
        (3, "Colour", None),
        (4, "数量", "quantity"),
        (5, "item id", "item_id"),
    ]
    assert match.known == 3
    assert match.missing == []
    assert match.canonical_to_original() == {"order_ref": "Order No", "quantity": "数量", "item_id": "item id"}


@pytest.mark.parametrize("header", [*RESULT_COLUMNS, ERROR_COLUMN_COL, "Status", "Provider Order ID", "ERROR"])
def test_result_columns_on_input_are_ignored(header):
    match = match_headers(["order_ref", "item_id", "quantity", header])
    assert match.ignored == [header.strip()]
    assert [original for _, original, _ in match.columns] == ["order_ref", "item_id", "quantity"]
    assert normalize_header(header) in IGNORED_HEADERS


def test_a_user_mapping_wins_over_aliases_and_over_ignored_result_columns():
    mapping = {"Remark": "line_remark", "STATUS": "title"}
    match = match_headers(["order_ref", "item_id", "quantity", "remark", "status"], extra=mapping)
    assert [c for _, _, c in match.columns][3:] == ["line_remark", "title"]
    assert match.ignored == []
    assert canonical(["remark"]) == ["order_remark"]  # without the mapping, the built-in alias


def test_duplicate_headers_keep_the_first_and_list_the_rest():
    match = match_headers(["item_id", "Item ID", "商品ID", "quantity", "qty", "order_ref"])
    assert [c for _, _, c in match.columns] == ["item_id", None, None, "quantity", None, "order_ref"]
    assert match.duplicates == ["Item ID", "商品ID", "qty"]
    assert match.known == 3 and match.missing == []


def test_required_columns_can_be_chosen():
    assert match_headers(["order_ref"], required=()).missing == []
    assert match_headers(["order_ref"]).missing == ["item_id", "quantity"]
    assert REQUIRED_COLUMNS == ("order_ref", "item_id", "quantity")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (["order_ref", "quantity", "Item Idd"], "no column for item_id; did you mean 'Item Idd'?"),
        (["order_ref", "item_id", "quantiy"], "no column for quantity; did you mean 'quantiy'?"),
        (["item_id", "quantity", "Order Referenc"], "no column for order_ref; did you mean 'Order Referenc'?"),
        (["order_ref", "item_id", "采购数"], "no column for quantity; did you mean '采购数'?"),
    ],
)
def test_a_missing_column_suggests_the_closest_unknown_header(headers, expected):
    match = match_headers(headers)
    message = missing_columns_message(match)
    assert message.startswith(expected)
    assert "(headers found: " + ", ".join(f"'{h}'" for h in headers) + ")" in message
    guessed = expected.split("'")[1]
    assert message.endswith(f'[headers]\n"{guessed}" = "{expected.split()[3].rstrip(";")}"')
    assert "--mapping FILE" in message and "--provider KEY" in message


def test_no_suggestion_when_nothing_is_close_and_every_missing_column_is_listed():
    match = match_headers(["Colour", "Size"])
    assert missing_columns_message(match).startswith(
        "no column for order_ref; no column for item_id; no column for quantity (headers found: 'Colour', 'Size')"
    )


def test_known_headers_are_never_suggested_for_a_missing_one():
    match = match_headers(["order_ref", "item_id", "quality"])
    message = missing_columns_message(match)
    assert "did you mean 'quality'?" in message
    assert "did you mean 'order_ref'" not in message and "did you mean 'item_id'" not in message


def test_an_empty_header_row_says_none_were_found():
    assert "(headers found: none)" in missing_columns_message(match_headers([None, "", "  "]))


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("收货人姓名", "receiver_name"),
        ("联系手机", "receiver_mobile"),
        ("宝贝总数量", "quantity"),
        ("数量（件）", "quantity"),
        ("*购买数量(件)", "quantity"),
        ("单价（元）", "unit_price"),
        ("商品编码", "item_id"),
        ("线上订单号", "order_ref"),
        ("Lineitem quantity", "quantity"),
        ("Lineitem sku", "sku_code"),
        ("商家编码", "sku_code"),
        ("Shipping Name", "receiver_name"),
        ("Shipping Address1", "address"),
        ("Shipping Phone", "receiver_phone"),
        ("Supplier Product Link", "item_id"),
        ("PO #", "order_ref"),
        ("Product URL", "item_id"),
        ("Contact No.", "receiver_phone"),
        ("Ship To", "receiver_name"),
        ("Qty (pcs)", "quantity"),
    ],
)
def test_headers_of_real_exports_match(header, column):
    assert canonical([header]) == [column]


def test_a_mapping_can_switch_off_a_column_an_alias_would_take():
    mapping = {"订单编号": "", "客户单号": "order_ref"}
    match = match_headers(["订单编号", "客户单号", "item_id", "quantity"], extra=mapping)
    assert [c for _, _, c in match.columns] == [None, "order_ref", "item_id", "quantity"]
    assert match.switched_off == ["订单编号"] and match.missing == []


def test_guesses_weigh_the_cells_under_each_header():
    match = match_headers(["order_ref", "Product Cost", "Goods", "Tel 1", "quantity"])
    samples = {
        "Product Cost": ["12.50", "3.20"],
        "Goods": ["https://item.taobao.com/item.htm?id=652711530188", "652734409921"],
        "Tel 1": ["13800138000", "139 0013 9000"],
    }
    message = missing_columns_message(match, samples)
    assert message.startswith("no column for item_id; did you mean 'Goods'?")
    assert '"Goods" = "item_id"' in message and "Product Cost" not in message.split("(headers")[0]
    assert "did you mean 'Product Cost'" in missing_columns_message(match)  # by the name alone


def test_a_mapping_key_the_row_lacks_is_named_with_the_closest_header():
    match = match_headers(["单号", "item_id"], extra={"单号码": "order_ref"})
    assert match.unmatched == ["单号码"]
    assert "the mapping's header '单号码' is not in the sheet; the closest header is '单号'" in (
        missing_columns_message(match)
    )
