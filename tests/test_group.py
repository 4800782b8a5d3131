from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from importer.group import Grouping, group
from importer.models import OrderSheet, Receiver
from importer.outcomes import ERROR_COLUMNS, OUTCOME_COLUMNS, merge_outcomes
from importer.validate.check import validate

PROVIDERS = ("xportcn-open", "xportcn-ka-taobao", "xportcn-ka-1688", "dajisaas", "shanjing")

GOOD = {
    "provider": "xportcn-open",
    "order_ref": "PO-1",
    "line_no": "",
    "item_id": "600126245031041190",
    "sku_id": "5012345678901",
    "quantity": "2",
    "unit_price": "12.50",
    "currency": "cny",
    "title": "保温杯",
    "line_remark": "",
    "receiver_name": "张三",
    "receiver_phone": "",
    "receiver_mobile": "013800138000",
    "country": "CN",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "address": "文三路 1 号",
    "zip": "310000",
    "order_remark": "",
}
ORDER_BLANK = dict.fromkeys(
    ["receiver_name", "receiver_mobile", "country", "province", "city", "district", "address", "zip"], ""
)


def make_sheet(*rows: dict[str, str], sheet: str = "Orders") -> OrderSheet:
    frame = pd.DataFrame([{**GOOD, **row} for row in rows])
    frame["_sheet"] = sheet
    frame["_row"] = range(2, 2 + len(frame))
    return OrderSheet(frame=frame)


def grouped(*rows: dict[str, str], extra_columns: tuple[str, ...] = ()) -> Grouping:
    return group(validate(make_sheet(*rows), providers=PROVIDERS), extra_columns=extra_columns)


def test_rows_become_orders_in_sheet_order():
    result = grouped(
        {"order_ref": "PO-2", "title": "A", "order_remark": "尽快发货"},
        {"order_ref": "PO-1", "title": "B", "quantity": "1", "unit_price": "", "currency": ""},
        {"order_ref": "PO-2", "title": "C", **ORDER_BLANK, "quantity": "3.0", "line_remark": "红色"},
        {"order_ref": "PO-2", "title": "D", "receiver_name": "张三"},
    )
    assert result.errors.empty
    assert list(result.errors.columns) == list(ERROR_COLUMNS)
    assert result.outcomes.empty
    assert list(result.outcomes.columns) == list(OUTCOME_COLUMNS)
    assert [(o.provider, o.order_ref) for o in result.orders] == [("xportcn-open", "PO-2"), ("xportcn-open", "PO-1")]
    po2, po1 = result.orders
    assert [line.title for line in po2.lines] == ["A", "C", "D"]
    assert [line.row_id for line in po2.lines] == [0, 2, 3]
    assert po2.row_ids == [0, 2, 3]
    assert [line.line_no for line in po2.lines] == ["1", "2", "3"]
    assert po2.receiver == Receiver(
        name="张三",
        phone="",
        mobile="013800138000",
        country="CN",
        province="浙江省",
        city="杭州市",
        district="西湖区",
        address="文三路 1 号",
        zip="310000",
    )
    assert po2.remark == "尽快发货"
    assert po2.sheet == "Orders"
    first, second = po2.lines[0], po2.lines[1]
    assert first.quantity == 2 and isinstance(first.quantity, int)
    assert second.quantity == 3
    assert first.unit_price == Decimal("12.50")
    assert first.currency == "CNY"
    assert second.remark == "红色"
    assert first.sku_id == "5012345678901"
    line = po1.lines[0]
    assert (line.line_no, line.unit_price, line.currency) == ("1", None, "")


def test_sheet_line_numbers_are_kept_and_blank_ones_take_unused_numbers():
    result = grouped({"line_no": "2"}, {"line_no": ""}, {"line_no": "3.0"}, {"line_no": ""})
    assert [line.line_no for line in result.orders[0].lines] == ["2", "1", "3", "4"]


def test_a_duplicate_line_no_is_an_error_on_the_later_row_and_holds_the_order():
    result = grouped({"line_no": "1"}, {"line_no": "2"}, {"line_no": "1.0"}, {"order_ref": "PO-2", "line_no": "1"})
    assert [o.order_ref for o in result.orders] == ["PO-2"]
    assert result.errors.to_dict("records") == [
        {
            "row_id": 2,
            "sheet": "Orders",
            "row": 4,
            "column": "line_no",
            "value": "1.0",
            "message": "line_no 1.0 is used twice in order PO-1 (first on row 2); "
            "give each line of an order its own number",
        }
    ]
    assert result.outcomes["status"].to_dict() == {0: "HELD", 1: "HELD", 2: "INVALID"}
    assert result.outcomes.loc[2, "error_column"] == "line_no"
    assert result.outcomes.loc[0, "error"] == "held: order PO-1 has an error on row 4"


def test_order_level_values_may_repeat_or_stay_blank():
    result = grouped(GOOD, {**ORDER_BLANK}, {"receiver_name": " 张三 "})
    assert result.errors.empty
    assert len(result.orders) == 1
    assert len(result.orders[0].lines) == 3


def test_a_different_order_level_value_on_a_later_row_holds_the_order():
    result = grouped(GOOD, {**ORDER_BLANK, "receiver_name": "李四"}, {**ORDER_BLANK}, {"order_ref": "PO-2"})
    assert result.errors.to_dict("records") == [
        {
            "row_id": 1,
            "sheet": "Orders",
            "row": 3,
            "column": "receiver_name",
            "value": "李四",
            "message": "receiver_name differs from the order's first row (row 2: '张三'); "
            "leave it blank or make it the same",
        }
    ]
    outcomes = result.outcomes
    assert outcomes["status"].to_dict() == {0: "HELD", 1: "INVALID", 2: "HELD"}
    assert outcomes.loc[1, "error"] == result.errors.loc[0, "message"]
    assert outcomes.loc[1, "error_column"] == "receiver_name"
    assert outcomes.loc[0, "error"] == "held: order PO-1 has an error on row 3"
    assert outcomes.loc[0, "error_column"] == ""
    assert [o.order_ref for o in result.orders] == ["PO-2"]


def test_a_value_given_first_on_a_later_row_is_compared_with_that_row():
    result = grouped({"zip": ""}, {"zip": "310000"}, {"zip": "310001"})
    assert result.errors["message"].tolist() == [
        "zip differs from an earlier row of the order (row 3: '310000'); leave it blank or make it the same"
    ]


def test_several_conflicts_in_one_row_are_joined():
    result = grouped(GOOD, {"receiver_name": "李四", "city": "宁波市"})
    assert result.errors["column"].tolist() == ["receiver_name", "city"]
    assert result.outcomes.loc[1, "error"] == "; ".join(result.errors["message"])
    assert result.outcomes.loc[1, "error_column"] == "receiver_name"


def test_an_order_with_an_invalid_row_is_held_and_the_rows_are_named():
    report = validate(
        make_sheet(GOOD, {"quantity": "0"}, GOOD, {"order_ref": "PO-2"}),
        providers=PROVIDERS,
    )
    result = group(report)
    assert result.errors.empty
    assert [o.order_ref for o in result.orders] == ["PO-2"]
    assert result.outcomes["status"].to_dict() == {0: "HELD", 2: "HELD"}
    assert set(result.outcomes["error"]) == {"held: order PO-1 has an error on row 3"}
    every_row = merge_outcomes(report.outcomes, result.outcomes)
    assert every_row["status"].to_dict() == {0: "HELD", 1: "INVALID", 2: "HELD"}


def test_at_most_three_rows_are_named():
    result = grouped(GOOD, *[{"quantity": "x"}] * 4)
    assert result.outcomes.loc[0, "error"] == "held: order PO-1 has errors on rows 3, 4, 5, …"
    result = grouped(GOOD, *[{"quantity": "x"}] * 2)
    assert result.outcomes.loc[0, "error"] == "held: order PO-1 has errors on rows 3, 4"


def test_a_row_with_a_wrong_provider_holds_the_order_with_its_reference():
    result = grouped(GOOD, {"provider": "xportcn"}, {"order_ref": "PO-2"})
    assert [o.order_ref for o in result.orders] == ["PO-2"]
    assert result.outcomes["status"].to_dict() == {0: "HELD"}
    assert result.outcomes.loc[0, "error"] == "held: order PO-1 has an error on row 3"


def test_an_invalid_row_of_another_provider_does_not_hold_an_order():
    result = grouped(GOOD, {"provider": "dajisaas", "quantity": "0"})
    assert [o.provider for o in result.orders] == ["xportcn-open"]
    assert result.outcomes.empty


@pytest.mark.parametrize(
    ("link", "item_id"),
    [
        ("https://item.taobao.com/item.htm?id=600126245031041190", "600126245031041190"),
        ("https://item.taobao.com/item.htm?spm=a1z10.1-c&id=600126245031041190&ns=1", "600126245031041190"),
        ("https://detail.tmall.com/item.htm?id=652876415053&skuId=5012345678901", "652876415053"),
        ("https://detail.1688.com/offer/652876415053.html", "652876415053"),
        (" https://detail.1688.com/offer/0652876415053.html?spm=x ", "0652876415053"),
    ],
)
def test_a_product_link_becomes_the_bare_id(link: str, item_id: str):
    result = grouped({"item_id": link})
    assert result.orders[0].lines[0].item_id == item_id


def test_ids_phones_and_chinese_text_are_unchanged():
    row = {
        "order_ref": "采购-0001",
        "item_id": "600126245031041190",
        "sku_id": "0012345678901234567",
        "receiver_mobile": " 013800138000 ",
        "receiver_phone": "+86 (0571) 8888-1234",
        "receiver_name": "欧阳 娜娜",
        "province": "浙江省",  # the address names it too; a provider still wants it in its own column
        "address": "浙江省杭州市西湖区文三路 1 号（近学院路）",
        "zip": "010000",
        "title": "保温杯 500ml",
    }
    order = grouped(row).orders[0]
    line = order.lines[0]
    assert order.order_ref == "采购-0001"
    assert (line.item_id, line.sku_id, line.title) == ("600126245031041190", "0012345678901234567", "保温杯 500ml")
    assert order.receiver.mobile == "013800138000"
    assert order.receiver.phone == "+86 (0571) 8888-1234"
    assert order.receiver.name == "欧阳 娜娜"
    assert order.receiver.address == "浙江省杭州市西湖区文三路 1 号（近学院路）"
    assert order.receiver.zip == "010000"


def test_extra_columns_go_to_lines_and_orders():
    result = grouped(
        {"warehouse": "", "shop_id": " 77 "},
        {"warehouse": "杭州仓", "shop_id": ""},
        {"warehouse": "义乌仓", "shop_id": "78"},
        extra_columns=("warehouse", "shop_id", "not_in_sheet"),
    )
    order = result.orders[0]
    assert dict(order.extra) == {"shop_id": "77", "warehouse": "杭州仓"}
    assert [dict(line.extra) for line in order.lines] == [
        {"shop_id": "77", "warehouse": ""},
        {"shop_id": "", "warehouse": "杭州仓"},
        {"shop_id": "78", "warehouse": "义乌仓"},
    ]


def test_frame_has_one_row_per_order():
    result = grouped(GOOD, {"quantity": "3"}, {"order_ref": "PO-2", "receiver_name": "李四"})
    assert result.frame.to_dict("records") == [
        {
            "provider": "xportcn-open",
            "order_ref": "PO-1",
            "sheet": "Orders",
            "first_row": 2,
            "lines": 2,
            "receiver_name": "张三",
            "quantity": 5,
        },
        {
            "provider": "xportcn-open",
            "order_ref": "PO-2",
            "sheet": "Orders",
            "first_row": 4,
            "lines": 1,
            "receiver_name": "李四",
            "quantity": 2,
        },
    ]


def test_a_report_from_a_bare_dataframe_groups():
    frame = pd.DataFrame(
        {
            "provider": ["dajisaas", "dajisaas"],
            "order_ref": ["A-1", "A-1"],
            "item_id": ["703446760426", "703446760427"],
            "quantity": ["1", "2"],
            "receiver_name": ["张三", ""],
            "receiver_mobile": ["13800138000", ""],
            "address": ["文三路 1 号", ""],
        }
    )
    result = group(validate(frame, providers=PROVIDERS))
    assert len(result.orders) == 1
    assert [line.item_id for line in result.orders[0].lines] == ["703446760426", "703446760427"]
    assert result.frame["first_row"].tolist() == [2]


def test_a_sheet_missing_a_required_column_gives_no_orders():
    frame = make_sheet(GOOD).frame.drop(columns=["order_ref"])
    result = group(validate(OrderSheet(frame=frame), providers=PROVIDERS))
    assert result.orders == []
    assert result.outcomes.empty
    assert result.frame.empty


def test_a_hundred_thousand_rows_validate_and_group():
    n = 100_000
    refs = np.arange(n) // 2
    frame = pd.DataFrame(
        {
            "provider": "xportcn-open",
            "order_ref": pd.Series(refs).map("PO-{}".format),
            "item_id": "600126245031041190",
            "quantity": "2",
            "unit_price": "12.50",
            "currency": "CNY",
            "receiver_name": "张三",
            "receiver_mobile": "013800138000",
            "province": "浙江省",
            "city": "杭州市",
            "address": "浙江省杭州市西湖区文三路 1 号",
            "_sheet": "Orders",
        }
    )
    frame["_row"] = frame.index + 2
    bad = np.random.default_rng(7).choice(n, n // 50, replace=False)
    frame.loc[bad, "quantity"] = "2.5"
    report = validate(OrderSheet(frame=frame), providers=PROVIDERS)
    assert len(report.errors) == len(bad)
    assert len(report.valid) == n - len(bad)
    result = group(report)
    held_orders = set(refs[bad])
    assert len(result.orders) == n // 2 - len(held_orders)
    bad_rows = set(bad.tolist())
    held_rows = [i for i in range(n) if refs[i] in held_orders and i not in bad_rows]
    assert sorted(result.outcomes.index) == held_rows
    assert set(result.outcomes["status"]) == {"HELD"}
    assert sum(len(o.lines) for o in result.orders) + len(held_rows) + len(bad) == n


def test_grouping_reads_the_checked_cells_and_leaves_the_text_table_unbuilt():
    """The plain-text ``valid`` table is for people; grouping a large sheet should not copy every cell into it."""
    sheet = make_sheet({"order_ref": " PO-1 ", "extra": " x "}, {"quantity": "３", "extra": "y"})
    report = validate(sheet, providers=PROVIDERS)
    result = group(report, extra_columns=("extra",))
    assert "valid" not in vars(report)
    (order,) = result.orders
    assert order.order_ref == "PO-1" and [line.quantity for line in order.lines] == [2, 3]
    assert [line.extra["extra"] for line in order.lines] == ["x", "y"]
    assert report.valid["order_ref"].tolist() == ["PO-1", "PO-1"] and report.valid["extra"].tolist() == [" x ", "y"]


def test_typed_line_values_are_made_once_per_value_and_only_for_valid_rows():
    link = "https://item.taobao.com/item.htm?id=600126245031041190"
    result = grouped(
        {"order_ref": "PO-1", "item_id": link, "quantity": "2.0", "unit_price": "12.50"},
        {"order_ref": "PO-1", "item_id": link, "quantity": "2", "unit_price": "12.50"},
        {"order_ref": "PO-2", "quantity": "2.5"},  # refused by validation: its quantity is not whole
        {"order_ref": "PO-3", "quantity": "3", "unit_price": "", "currency": "usd"},
    )
    lines = [line for order in result.orders for line in order.lines]
    assert [order.order_ref for order in result.orders] == ["PO-1", "PO-3"]
    assert [line.item_id for line in lines] == ["600126245031041190"] * 3
    assert [line.quantity for line in lines] == [2, 2, 3]
    assert [line.unit_price for line in lines] == [Decimal("12.50"), Decimal("12.50"), None]
    assert [line.currency for line in lines] == ["CNY", "CNY", "USD"]
    assert lines[0].unit_price is lines[1].unit_price  # one Decimal for the one value
    assert set(result.row_numbers) == {line.row_id for line in lines}
