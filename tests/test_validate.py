from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
import pytest
from sample_rows import ORDER_ROW

import importer
from importer.models import CANONICAL_COLUMNS, CellError, OrderSheet
from importer.outcomes import ERROR_COLUMNS, OUTCOME_COLUMNS
from importer.validate.check import KNOWN_PROVIDER_KEYS, validate
from importer.validate.schema import KNOWN_CURRENCIES, build_schema, item_id_from_link

PROVIDERS = ("xportcn-open", "xportcn-ka-taobao", "xportcn-ka-1688", "dajisaas", "shanjing")

GOOD = {
    "provider": "xportcn-open",
    "order_ref": "PO-1",
    "line_no": "",
    "item_id": "600126245031041190",
    "sku_id": "5012345678901",
    "quantity": "2",
    "unit_price": "12.50",
    "currency": "CNY",
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


def make_sheet(*rows: dict[str, str], sheet: str = "Orders", issues: list[CellError] | None = None) -> OrderSheet:
    frame = pd.DataFrame([{**GOOD, **row} for row in rows])
    frame["_sheet"] = sheet
    frame["_row"] = range(2, 2 + len(frame))
    return OrderSheet(frame=frame, issues=list(issues or []))


def only_error(sheet: OrderSheet) -> dict[str, object]:
    report = validate(sheet, providers=PROVIDERS)
    assert len(report.errors) == 1, report.errors.to_dict("records")
    return dict(report.errors.iloc[0])


def test_clean_sheet_has_no_errors():
    sheet = make_sheet(GOOD, {"line_no": "2", "receiver_name": "", "address": "", "receiver_mobile": ""})
    report = validate(sheet, providers=PROVIDERS)
    assert report.ok
    assert list(report.errors.columns) == list(ERROR_COLUMNS)
    assert report.invalid_row_ids == []
    assert list(report.valid.index) == [0, 1]
    assert report.outcomes.empty
    assert list(report.outcomes.columns) == list(OUTCOME_COLUMNS)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("quantity", "2.5", "quantity must be a whole number above 0; got '2.5'"),
        ("quantity", "0", "quantity must be a whole number above 0; got '0'"),
        ("quantity", "1e3", "quantity must be a whole number above 0; got '1e3'"),
        ("quantity", "-2", "quantity must be a whole number above 0; got '-2'"),
        (
            "quantity",
            "2.000",
            "quantity '2.000' is read with '.' as the decimal mark (as this column's numbers are), so it is not a "
            "whole number; write 2000 or 2, without a separator",
        ),
        ("quantity", "二", "quantity must be a whole number above 0; got '二'"),
        (
            "unit_price",
            "abc",
            "unit_price must be a number of at least 0 with at most 2 decimals, like 12.50; got 'abc'",
        ),
        (
            "unit_price",
            "1.234",
            "unit_price must be a number of at least 0 with at most 2 decimals, like 12.50; got '1.234'",
        ),
        (
            "unit_price",
            "-3",
            "unit_price must be a number of at least 0 with at most 2 decimals, like 12.50; got '-3'",
        ),
        (
            "currency",
            "RMB",
            "currency must be a code such as CNY, USD, EUR, HKD or JPY (CNY for RMB); got 'RMB' "
            "(fix: 'CNY'; --fix applies it)",
        ),
        (
            "provider",
            "xportcn",
            "provider must be one of xportcn-open, xportcn-ka-taobao, xportcn-ka-1688, dajisaas, shanjing; "
            "got 'xportcn'",
        ),
        (
            "provider",
            "XPORTCN-OPEN",
            "provider must be one of xportcn-open, xportcn-ka-taobao, xportcn-ka-1688, "
            "dajisaas, shanjing; got 'XPORTCN-OPEN'",
        ),
        ("line_no", "0", "line_no must be a whole number above 0; got '0'"),
        ("line_no", "a", "line_no must be a whole number above 0; got 'a'"),
        ("receiver_mobile", "abc", "receiver_mobile does not look like a phone number; got 'abc'"),
        ("receiver_mobile", "1234", "receiver_mobile does not look like a phone number; got '1234'"),
        ("receiver_phone", "1" * 21, f"receiver_phone does not look like a phone number; got '{'1' * 21}'"),
        (
            "receiver_phone",
            "138 0013 8000 ext",
            "receiver_phone does not look like a phone number; got '138 0013 8000 ext'",
        ),
        (
            "item_id",
            "abc",
            "item_id must be the product id (digits only) or its item.taobao.com, detail.tmall.com or "
            "detail.1688.com link; got 'abc'",
        ),
        (
            "item_id",
            "https://item.taobao.com/item.htm?id=abc",
            "item_id must be the product id (digits only) or its item.taobao.com, detail.tmall.com or "
            "detail.1688.com link; got 'https://item.taobao.com/item.htm?id=abc'",
        ),
        (
            "item_id",
            "https://example.com/item.htm?id=123",
            "item_id must be the product id (digits only) or its item.taobao.com, detail.tmall.com or "
            "detail.1688.com link; got 'https://example.com/item.htm?id=123'",
        ),
        ("order_ref", "", "order_ref is empty; every row needs the order reference that groups it into an order"),
        ("item_id", "", "item_id is empty; every row needs the product id or product link"),
        ("quantity", " ", "quantity is empty; every row needs the number of pieces to buy, a whole number above 0"),
        (
            "provider",
            "",
            "provider is empty; every row needs the provider key, one of xportcn-open, xportcn-ka-taobao, "
            "xportcn-ka-1688, dajisaas, shanjing",
        ),
    ],
)
def test_each_check_names_the_column_and_quotes_the_value(column: str, value: str, message: str):
    error = only_error(make_sheet(GOOD, {column: value}, sheet="Orders"))
    assert error == {
        "row_id": 1,
        "sheet": "Orders",
        "row": 3,
        "column": column,
        "value": value.strip(),
        "message": message,
    }


def test_a_long_value_is_cut_in_the_message_but_kept_whole_in_the_value():
    value = "x" * 200
    error = only_error(make_sheet({"item_id": value}))
    assert error["value"] == value
    assert str(error["message"]).endswith("got '" + "x" * 59 + "…'")


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("quantity", " 3 "),
        ("quantity", "2.0"),
        ("quantity", "2.00"),
        ("quantity", "02"),
        ("quantity", "100000"),
        ("unit_price", "0"),
        ("unit_price", "12"),
        ("unit_price", "12.5"),
        ("unit_price", " 12.50 "),
        ("unit_price", ""),
        ("currency", "usd"),
        ("currency", " JPY "),
        ("currency", ""),
        ("line_no", "1.0"),
        ("line_no", "7"),
        ("receiver_mobile", "+86 (571) 8888-1234"),
        ("receiver_mobile", "013800138000"),
        ("receiver_mobile", "12345"),
        ("receiver_phone", "0571-88881234"),
        ("item_id", " 600126245031041190 "),
        ("item_id", "https://item.taobao.com/item.htm?id=600126245031041190"),
        ("item_id", "https://item.taobao.com/item.htm?spm=a1z10.1-c&id=600126245031041190&ns=1#detail"),
        ("item_id", "https://detail.tmall.com/item.htm?id=652876415053&skuId=5012345678901"),
        ("item_id", "https://detail.1688.com/offer/652876415053.html"),
        ("item_id", "https://detail.1688.com/offer/652876415053.html?spm=a261y.7663282"),
        ("item_id", "detail.1688.com/offer/652876415053.html"),
    ],
)
def test_accepted_values(column: str, value: str):
    report = validate(make_sheet({column: value}), providers=PROVIDERS)
    assert report.ok, report.errors.to_dict("records")


@pytest.mark.parametrize("currency", KNOWN_CURRENCIES)
def test_every_known_currency_is_accepted(currency: str):
    assert validate(make_sheet({"currency": currency.lower()}), providers=PROVIDERS).ok


def test_every_failure_is_collected_in_sheet_order():
    sheet = make_sheet(
        GOOD,
        {"quantity": "2.5", "currency": "RMB", "unit_price": "abc", "receiver_mobile": "abc"},
        GOOD,
        {"item_id": "", "line_no": "x"},
    )
    report = validate(sheet, providers=PROVIDERS)
    assert report.errors[["row_id", "row", "column"]].to_records(index=False).tolist() == [
        (1, 3, "quantity"),
        (1, 3, "unit_price"),
        (1, 3, "currency"),
        (1, 3, "receiver_mobile"),
        (3, 5, "line_no"),
        (3, 5, "item_id"),
    ]
    assert report.invalid_row_ids == [1, 3]
    assert list(report.valid.index) == [0, 2]
    outcomes = report.outcomes
    assert list(outcomes.index) == [1, 3]
    assert set(outcomes["status"]) == {"INVALID"}
    assert outcomes.loc[1, "error"] == (
        "quantity must be a whole number above 0; got '2.5'; "
        "unit_price must be a number of at least 0 with at most 2 decimals, like 12.50; got 'abc'; "
        "currency must be a code such as CNY, USD, EUR, HKD or JPY (CNY for RMB); got 'RMB' "
        "(fix: 'CNY'; --fix applies it); "
        "receiver_mobile does not look like a phone number; got 'abc'"
    )
    assert outcomes.loc[1, "error_column"] == "quantity"
    assert outcomes.loc[3, "error_column"] == "line_no"


def test_an_order_needs_a_receiver_name_address_and_phone_on_some_row():
    sheet = make_sheet(
        # PO-1: everything given on the second row only; that is enough.
        {"receiver_name": "", "address": "", "receiver_mobile": ""},
        {"receiver_name": "张三"},
        # PO-17: no receiver name, no address, no phone on any row.
        {"order_ref": "PO-17", "receiver_name": "", "address": "", "receiver_mobile": ""},
        {"order_ref": "PO-17", "receiver_name": "", "address": "", "receiver_mobile": ""},
        # PO-18: a landline is enough.
        {"order_ref": "PO-18", "receiver_mobile": "", "receiver_phone": "0571-88881234"},
    )
    report = validate(sheet, providers=PROVIDERS)
    assert report.errors[["row_id", "row", "column", "value", "message"]].to_dict("records") == [
        {
            "row_id": 2,
            "row": 4,
            "column": "receiver_name",
            "value": "",
            "message": "receiver_name: order PO-17 has no receiver_name; fill it on the order's first row",
        },
        {
            "row_id": 2,
            "row": 4,
            "column": "receiver_phone",
            "value": "",
            "message": (
                "receiver_phone: order PO-17 has no receiver_phone or receiver_mobile; "
                "fill one on the order's first row"
            ),
        },
        {
            "row_id": 2,
            "row": 4,
            "column": "address",
            "value": "",
            "message": "address: order PO-17 has no address; fill it on the order's first row",
        },
    ]


def test_orders_with_the_same_ref_at_different_providers_are_separate():
    sheet = make_sheet(GOOD, {"provider": "dajisaas", "receiver_name": ""})
    errors = validate(sheet, providers=PROVIDERS).errors
    said = "receiver_name: order PO-1 has no receiver_name; fill it on the order's first row"
    assert errors["message"].tolist() == [said]
    assert errors["row_id"].tolist() == [1]


def test_completeness_without_receiver_columns_at_all():
    frame = make_sheet(GOOD, {"order_ref": "PO-2"}).frame.drop(
        columns=["receiver_name", "receiver_phone", "receiver_mobile", "address"]
    )
    report = validate(OrderSheet(frame=frame), providers=PROVIDERS)
    assert report.errors["row_id"].tolist() == [0, 0, 0, 1, 1, 1]
    prefixes = report.errors["column"] + ": order PO-"  # each message names its column first
    assert all(m.startswith(p) for m, p in zip(report.errors["message"], prefixes, strict=True))


def test_a_row_with_an_unknown_provider_does_not_make_an_incomplete_order_of_its_own():
    sheet = make_sheet(GOOD, {"provider": "xportcn", "receiver_name": "", "address": "", "receiver_mobile": ""})
    errors = validate(sheet, providers=PROVIDERS).errors
    assert errors["column"].tolist() == ["provider"]


def test_a_missing_required_column_is_one_sheet_error_and_no_row_is_valid():
    frame = make_sheet(GOOD, GOOD).frame.drop(columns=["quantity"])
    report = validate(OrderSheet(frame=frame), providers=PROVIDERS)
    assert report.errors.to_dict("records") == [
        {
            "row_id": -1,
            "sheet": "Orders",
            "row": 0,
            "column": "quantity",
            "value": "",
            "message": (
                "quantity: the sheet has no quantity column; add a column headed quantity and fill it on every row"
            ),
        }
    ]
    assert not report.ok
    assert report.valid.empty
    assert report.invalid_row_ids == [0, 1]
    assert report.outcomes["error"].tolist() == [report.errors.loc[0, "message"]] * 2
    assert report.outcomes["error_column"].tolist() == ["", ""]


def test_reader_issues_are_reported_and_take_the_place_of_checks_on_the_same_cell():
    issue = CellError(
        1, "Orders", 3, "item_id", "6.00126E+17", "item_id was stored by Excel as a number; type it as text"
    )
    other = CellError(0, "Orders", 2, "title", "=A1", "title starts with '='; it was kept as text")
    sheet = make_sheet(GOOD, {"item_id": "6.00126E+17", "quantity": "x"}, issues=[issue, other])
    report = validate(sheet, providers=PROVIDERS)
    assert report.errors[["row_id", "column", "message"]].to_records(index=False).tolist() == [
        (0, "title", "title starts with '='; it was kept as text"),
        (1, "item_id", "item_id was stored by Excel as a number; type it as text"),
        (1, "quantity", "quantity must be a whole number above 0; got 'x'"),
    ]
    assert report.invalid_row_ids == [0, 1]
    assert report.valid.empty


def test_a_bare_dataframe_is_wrapped_with_sheet_and_row():
    frame = pd.DataFrame(
        {
            "provider": ["xportcn-open", "xportcn-open"],
            "order_ref": ["PO-1", "PO-1"],
            "item_id": ["600126245031041190", "abc"],
            "quantity": ["1", "1"],
            "receiver_name": ["张三", ""],
            "receiver_mobile": ["13800138000", ""],
            "address": ["文三路 1 号", ""],
        }
    )
    report = validate(frame, providers=PROVIDERS)
    assert report.sheet.frame["_sheet"].tolist() == ["Sheet1", "Sheet1"]
    assert report.sheet.frame["_row"].tolist() == [2, 3]
    assert report.errors[["sheet", "row", "column"]].to_records(index=False).tolist() == [("Sheet1", 3, "item_id")]
    assert "_sheet" not in frame.columns


def test_a_bare_dataframe_with_numbers_and_missing_values():
    frame = pd.DataFrame(
        {
            "provider": ["xportcn-open", "xportcn-open"],
            "order_ref": ["PO-1", None],
            "item_id": [600126245031041190, 600126245031041191],
            "quantity": [2, 3],
            "unit_price": [12.5, float("nan")],
            "receiver_name": ["张三", None],
            "receiver_mobile": ["13800138000", None],
            "address": ["文三路 1 号", None],
        },
        index=["a", "b"],
    )
    report = validate(frame, providers=PROVIDERS)
    assert report.errors[["row_id", "row", "column"]].to_records(index=False).tolist() == [(1, 3, "order_ref")]
    assert report.valid.loc[0, "item_id"] == "600126245031041190"
    assert report.valid.loc[0, "unit_price"] == "12.5"


def test_spaces_are_stripped_for_checks_but_the_users_frame_is_unchanged():
    sheet = make_sheet({"quantity": " 3 ", "item_id": " 600126245031041190\t", "receiver_name": "　张三 "})
    report = validate(sheet, providers=PROVIDERS)
    assert report.ok
    assert sheet.frame.loc[0, "quantity"] == " 3 "
    assert report.sheet.frame.loc[0, "receiver_name"] == "　张三 "
    assert report.valid.loc[0, "quantity"] == "3"
    assert report.valid.loc[0, "item_id"] == "600126245031041190"
    assert report.valid.loc[0, "receiver_name"] == "张三"


def test_ids_phones_and_chinese_text_reach_valid_unchanged():
    row = {
        "item_id": "600126245031041190",
        "sku_id": "0012345678901234567",
        "receiver_mobile": "013800138000",
        "receiver_phone": "+86 (0571) 8888-1234",
        "province": "浙江省",  # the address names it too; a provider still wants it in its own column
        "address": "浙江省杭州市西湖区文三路 1 号（近学院路）",
        "zip": "010000",
        "my notes": "  keep me  ",
    }
    report = validate(make_sheet(row), providers=PROVIDERS)
    assert report.ok
    for column, value in row.items():
        assert report.valid.loc[0, column] == value


def test_default_providers_are_the_registry_keys_or_the_known_keys():
    assert validate(make_sheet(GOOD)).ok
    errors = validate(make_sheet({"provider": "no-such-provider"})).errors
    assert errors["column"].tolist() == ["provider"]
    assert errors.loc[0, "message"].startswith("provider must be one of xportcn-open")
    assert set(KNOWN_PROVIDER_KEYS) == set(PROVIDERS)


def test_an_empty_sheet_is_valid():
    frame = pd.DataFrame({c: pd.Series(dtype="str") for c in (*CANONICAL_COLUMNS, "_sheet")})
    frame["_row"] = pd.Series(dtype="int64")
    report = validate(OrderSheet(frame=frame), providers=PROVIDERS)
    assert report.ok
    assert report.valid.empty


def test_schema_checks_required_columns_always_and_optional_ones_when_present():
    schema = build_schema(PROVIDERS, columns_present=["provider", "unit_price"])
    assert isinstance(schema, pa.DataFrameSchema)
    assert set(schema.columns) == {"provider", "order_ref", "item_id", "quantity", "unit_price"}
    assert all(check.name for column in schema.columns.values() for check in column.checks)
    full = build_schema(PROVIDERS, columns_present=CANONICAL_COLUMNS)
    assert {"line_no", "currency", "receiver_phone", "receiver_mobile"} <= set(full.columns)


@pytest.mark.parametrize(
    ("link", "item_id"),
    [
        ("https://item.taobao.com/item.htm?id=600126245031041190", "600126245031041190"),
        ("http://item.taobao.com/item.htm?spm=a&id=123&ns=1", "123"),
        ("https://detail.tmall.com/item.htm?id=652876415053&skuId=1", "652876415053"),
        ("https://detail.1688.com/offer/652876415053.html?spm=x", "652876415053"),
        ("https://item.taobao.com/item.htm?uid=5", None),
        ("600126245031041190", None),
    ],
)
def test_item_id_from_link(link: str, item_id: str | None):
    assert item_id_from_link(link) == item_id


def test_checked_cells_are_the_text_objects_the_reader_made():
    """Python string storage whatever pandas would choose (with pyarrow, a copy of every cell into Arrow)."""
    from importer.columns import TEXT
    from importer.validate.check import checked_cells

    sheet = importer.load(pd.DataFrame({"order_ref": ["PO-1", " PO-2 "], "item_id": ["600126245031041190", "7"]}))
    checked = checked_cells(sheet.frame)
    assert checked["order_ref"].tolist() == ["PO-1", "PO-2"]
    assert checked["item_id"].iloc[0] is sheet.frame["item_id"].iloc[0]  # kept, not copied
    assert getattr(TEXT, "storage", "python") == "python"
    assert all(getattr(dtype.categories.dtype, "storage", "python") == "python" for dtype in checked.dtypes)


def test_valid_rows_are_plain_text_though_the_checks_use_categories():
    """Analysts get text columns they can edit; the categories are how the checks share each column's values."""
    from importer.columns import TEXT

    rows = [{**ORDER_ROW, "order_ref": " PO-1 "}, {**ORDER_ROW, "order_ref": "PO-1", "quantity": "２"}]
    sheet = importer.load(pd.DataFrame(rows))
    report = importer.validate(sheet)
    assert report.ok, report.errors
    assert report.valid["order_ref"].tolist() == ["PO-1", "PO-1"]
    assert report.valid["quantity"].tolist() == ["1", "2"]
    assert all(report.valid[column].dtype == TEXT for column in ("order_ref", "quantity", "receiver_name"))
    report.valid.loc[report.valid.index[0], "order_ref"] = "PO-9"  # a category would refuse a new value


def test_checked_cells_make_one_category_of_values_that_clean_alike():
    """A missing cell reads as empty and " a" as "a": each cleaned value is one category, whatever was typed."""
    from importer.validate.check import checked_cells

    frame = pd.DataFrame({"order_ref": ["", None, " a", "a", "b"], "quantity": ["１", "1", None, "", " 1"]})
    checked = checked_cells(frame)
    assert checked["order_ref"].tolist() == ["", "", "a", "a", "b"]
    assert checked["quantity"].tolist() == ["1", "1", "", "", "1"]
    for column in checked.columns:
        assert checked[column].cat.categories.is_unique


@pytest.mark.parametrize("other", ["", "+86 138-0013-8000"], ids=["digits only", "with a spelled-out number"])
def test_a_phone_of_digits_alone_is_judged_by_its_length_in_either_kind_of_column(other: str):
    """A column of bare digits is checked by length at once; the same cells among other spellings, one by one."""
    lengths = [4, 5, 11, 20, 21]
    rows = [{"order_ref": f"PO-{n}", "receiver_phone": "1" * n} for n in lengths]
    report = validate(make_sheet(*rows, {"order_ref": "PO-X", "receiver_phone": other}), providers=PROVIDERS)
    wrong = report.errors.loc[report.errors["column"] == "receiver_phone", "value"].tolist()
    assert wrong == ["1" * 4, "1" * 21]
