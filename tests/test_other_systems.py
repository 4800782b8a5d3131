"""Sheets from other systems: each export built from its public column list, imported against the sandbox as received.

Column lists: Taobao/千牛 订单报表 (the 37 columns the seller centre writes, plus 商家编码), the 1688 批量下单
template, the 1688 buyer order export, Shopify's "Exporting orders" CSV and DSers' "Place CSV orders" sheet.
Where an export lacks what a provider needs (a shop's own SKU instead of the supplier's ids), the catalogue
or the one --mapping the error message printed finishes the job.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import re
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

import importer
from importer.cli import app
from importer.errors import ConfigError, InputError
from importer.read.mappings import builtin_profiles, resolve_mapping

TAOBAO_COLUMNS = [
    "订单编号", "买家会员名", "买家支付宝账号", "买家应付货款", "买家应付邮费", "买家支付积分", "总金额", "返点积分",
    "买家实际支付金额", "买家实际支付积分", "订单状态", "买家留言", "收货人姓名", "收货地址", "运送方式", "联系电话",
    "联系手机", "订单创建时间", "订单付款时间", "宝贝标题", "宝贝种类", "物流单号", "物流公司", "订单备注",
    "宝贝总数量", "店铺Id", "店铺名称", "订单关闭原因", "卖家服务费", "买家服务费", "发票抬头", "是否手机订单",
    "分阶段订单信息", "定金排名", "修改后的sku", "修改后的收货地址", "异常信息", "商家编码",
]  # fmt: skip
SHOPIFY_COLUMNS = [
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at", "Accepts Marketing",
    "Currency", "Subtotal", "Shipping", "Taxes", "Total", "Discount Code", "Discount Amount", "Shipping Method",
    "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem compare at price", "Lineitem sku",
    "Lineitem requires shipping", "Lineitem taxable", "Lineitem fulfillment status", "Billing Name", "Billing Street",
    "Billing Address1", "Billing Address2", "Billing Company", "Billing City", "Billing Zip", "Billing Province",
    "Billing Country", "Billing Phone", "Shipping Name", "Shipping Street", "Shipping Address1", "Shipping Address2",
    "Shipping Company", "Shipping City", "Shipping Zip", "Shipping Province", "Shipping Country", "Shipping Phone",
    "Notes", "Note Attributes", "Cancelled at", "Payment Method", "Payment Reference", "Refunded Amount", "Vendor",
    "Outstanding Balance", "Employee", "Location", "Device ID", "Id", "Tags", "Risk Level", "Source",
    "Lineitem discount", "Tax 1 Name", "Tax 1 Value", "Phone", "Receipt Number", "Duties", "Billing Province Name",
    "Shipping Province Name", "Payment ID", "Payment Terms Name", "Next Payment Due At", "Payment References",
]  # fmt: skip
DSERS_COLUMNS = [
    "Order number", "Date", "Country", "Product id", "SKU", "Product count", "Order memo", "Contact person",
    "Mobile no", "Email", "Address", "Address2", "Province", "City", "Zip", "RUT", "Personal Clearance ID", "CPF",
    "Supplier Product Link",
]  # fmt: skip
TEMPLATE_1688 = ["*收货人姓名", "*收货人手机", "*省", "*市", "*区", "*详细地址", "*商品链接", "规格ID（specId）",
                 "规格", "*购买数量（件）", "买家留言"]  # fmt: skip
BUYER_1688 = [
    "订单编号", "卖家公司名", "卖家会员名", "货品总价(元)", "运费(元)", "涨价或折扣(元)", "实付款(元)", "订单状态",
    "订单创建时间", "订单付款时间", "收货人姓名", "收货地址", "邮编", "联系电话", "联系手机", "货品标题", "单价(元)",
    "数量", "单位", "货号", "型号", "Offer ID", "SKU ID", "买家留言", "物流公司", "运单号",
]  # fmt: skip

CUP, CUP_BLACK = "600126245031041190", "5016042822039"  # sandbox catalogue: distributor ids (xportcn-open)
TOTE, TOTE_KHAKI = "600129202197070073", "4860968496626"
OFFER, SPEC, SKU_1688 = "889512351602", "530ad0e3e64c05d35bc0b1a2ec2a0652", "5736673805656"  # 1688 sandbox offer
RAW_CUP, RAW_CUP_BLACK = "652711530188", "4412088130021"  # the raw Taobao ids of the cup


def write_csv(path: Path, columns: list[str], rows: list[dict[str, str]], encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            unknown = set(row) - set(columns)
            assert not unknown, unknown
            writer.writerow([row.get(column, "") for column in columns])
    return path


def write_xlsx(path: Path, columns: list[str], rows: list[dict[str, str]]) -> Path:
    book = openpyxl.Workbook()
    book.active.append(columns)
    for row in rows:
        book.active.append([row.get(column) or None for column in columns])
    book.save(path)
    return path


def catalogue(path: Path, *entries: tuple[str, str, str, str]) -> Path:
    lines = ["商家编码,item_id,sku_id,provider", *(",".join(entry) for entry in entries)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(path: Path, running, tmp_path: Path, stage: str = "import", **options):
    catalogue_file = options.pop("catalogue", None)
    settings = dataclasses.replace(running.settings(), catalogue=catalogue_file)
    return importer.run(path, stage=stage, settings=settings, ledger=tmp_path / "ledger.sqlite", **options)


def by_row(result, column: str) -> list[str]:
    return [str(v) for v in result.outcomes[column].tolist()]


# ----- Taobao / 千牛 seller export --------------------------------------------------------------------


def taobao_export(tmp_path: Path) -> Path:
    return write_csv(
        tmp_path / "ExportOrderList202611.csv",
        TAOBAO_COLUMNS,
        [
            {"订单编号": "3141592653589793238", "买家会员名": "tb_buyer1", "订单状态": "买家已付款，等待卖家发货",
             "收货人姓名": "张三", "收货地址": "浙江省 杭州市 西湖区 文三路100号", "联系手机": "13800138000",
             "宝贝标题": "不锈钢保温杯 黑", "宝贝总数量": "2", "商家编码": "TUMBLER-BLK", "订单备注": "VIP 客户"},
            {"订单编号": "3141592653589793239", "买家会员名": "tb_buyer2", "收货人姓名": "李四",
             "收货地址": "广东省深圳市南山区科技园路1号", "联系手机": "13900139000", "宝贝标题": "帆布托特包",
             "宝贝总数量": "1", "商家编码": "TOTE-KHAKI", "买家留言": "请尽快发货"},
        ],
    )  # fmt: skip


def test_a_taobao_seller_export_imports_as_received_with_the_catalogue(tmp_path, fresh_sandbox):
    sheet = taobao_export(tmp_path)
    entries = catalogue(
        tmp_path / "catalogue.csv",
        ("TUMBLER-BLK", CUP, CUP_BLACK, "xportcn-open"),
        ("TOTE-KHAKI", TOTE, TOTE_KHAKI, "xportcn-open"),
    )
    result = run(sheet, fresh_sandbox, tmp_path, catalogue=entries)
    assert by_row(result, "status") == ["CREATED", "CREATED"], result.outcomes["error"].tolist()
    assert result.sheet.profile == "taobao-seller"
    assert any("taobao-seller" in note for note in result.notes)
    filled = by_row(result, "filled_in")
    assert "address split: 浙江省 / 杭州市 / 西湖区 / 文三路100号" in filled[0]
    assert f"catalogue catalogue.csv row 2: TUMBLER-BLK -> item_id {CUP}, sku_id {CUP_BLACK}" in filled[0]
    assert "address split: 广东省 / 深圳市 / 南山区 / 科技园路1号" in filled[1]
    orders = fresh_sandbox.state.orders("xportcn-open")
    assert len(orders) == 2 and len(result.orders) == 2
    frame = result.sheet.frame
    assert frame.loc[0, "province"] == "浙江省" and frame.loc[0, "address"] == "文三路100号"
    assert frame.loc[0, "订单备注"] == "VIP 客户"  # switched off: not taken as the order remark
    assert frame.loc[1, "order_remark"] == "请尽快发货"


def test_a_taobao_export_without_a_catalogue_says_which_column_to_add(tmp_path, sandbox):
    result = run(taobao_export(tmp_path), sandbox, tmp_path, stage="validate", provider="xportcn-open")
    errors = by_row(result, "error")
    assert all(e.startswith("item_id: the row has 商家编码 'TUMBLER-BLK'") for e in errors[:1])
    assert "Add an item_id column" in errors[0] and "catalogue" in errors[0]
    assert "order-importer catalogue add 'TUMBLER-BLK' --item-id ID" in errors[0]
    assert result.exit_code == 1


def test_a_sku_missing_from_the_catalogue_names_the_file(tmp_path, sandbox):
    entries = catalogue(tmp_path / "catalogue.csv", ("TUMBLER-BLK", CUP, CUP_BLACK, "xportcn-open"))
    result = run(taobao_export(tmp_path), sandbox, tmp_path, stage="validate", catalogue=entries)
    statuses, errors = by_row(result, "status"), by_row(result, "error")
    assert statuses[0] == "VALID"
    assert statuses[1] == "INVALID"
    assert f"item_id: 商家编码 'TOTE-KHAKI' is not in the catalogue {entries}" in errors[1]


def test_catalogue_add_extends_the_catalogue_and_the_next_run_uses_it(tmp_path, fresh_sandbox):
    entries = tmp_path / "catalogue.csv"
    runner = CliRunner()
    for code, item, sku in (("TUMBLER-BLK", CUP, CUP_BLACK), ("TOTE-KHAKI", TOTE, TOTE_KHAKI)):
        options = ["--item-id", item, "--sku-id", sku, "-p", "xportcn-open", "--file", str(entries)]
        added = runner.invoke(app, ["catalogue", "add", code, *options])
        assert added.exit_code == 0, added.output
    again = runner.invoke(app, ["catalogue", "add", "TOTE-KHAKI", "--item-id", "1", "--file", str(entries)])
    assert again.exit_code == 2 and "already has sku_code 'TOTE-KHAKI'" in again.output
    result = run(taobao_export(tmp_path), fresh_sandbox, tmp_path, catalogue=entries)
    assert by_row(result, "status") == ["CREATED", "CREATED"]


# ----- the 1688 批量下单 template: no order number -----------------------------------------------------


def template_1688(tmp_path: Path) -> Path:
    row = {"*收货人姓名": "王五", "*收货人手机": "13700137000", "*省": "浙江省", "*市": "金华市", "*区": "义乌市",
           "*详细地址": "福田街道商城大道1号", "*商品链接": f"https://detail.1688.com/offer/{OFFER}.html",
           "规格ID（specId）": SPEC, "规格": "颜色:彩色", "*购买数量（件）": "3"}  # fmt: skip
    other = {**row, "*收货人姓名": "赵六", "*收货人手机": "13600136000", "*购买数量（件）": "1"}
    return write_xlsx(tmp_path / "1688批量下单.xlsx", TEMPLATE_1688, [row, other, row])


def test_the_1688_template_makes_one_order_per_row_and_a_rerun_buys_nothing_again(tmp_path, fresh_sandbox):
    sheet = template_1688(tmp_path)
    first = run(sheet, fresh_sandbox, tmp_path)
    assert by_row(first, "status") == ["CREATED"] * 3, first.outcomes["error"].tolist()
    refs = first.sheet.frame["order_ref"].tolist()
    assert len(set(refs)) == 3 and all(re.fullmatch(r"ROW-[0-9A-F]{12}", ref) for ref in refs)
    filled = by_row(first, "filled_in")
    assert all(f"order_ref {ref} (one order per row)" in text for ref, text in zip(refs, filled, strict=True))
    assert len(first.orders) == 3 and first.order_counts == {"CREATED": 3}
    again = run(sheet, fresh_sandbox, tmp_path)
    assert again.sheet.frame["order_ref"].tolist() == refs  # the same file and content: the same order numbers
    assert by_row(again, "status") == ["ALREADY_CREATED"] * 3
    assert len(fresh_sandbox.state.orders("xportcn-ka-1688")) == 3


def test_group_by_receiver_makes_one_order_per_receiver(tmp_path, sandbox):
    mapping = tmp_path / "by-receiver.toml"
    mapping.write_text('group_by = "receiver"\nprovider = "xportcn-open"\n', encoding="utf-8")
    rows = [
        {"item_id": CUP, "sku_id": CUP_BLACK, "quantity": "1", "receiver_name": "张三",
         "receiver_mobile": "13800138000", "province": "浙江省", "city": "杭州市", "district": "西湖区",
         "address": "文三路100号"},
        {"item_id": TOTE, "sku_id": TOTE_KHAKI, "quantity": "2", "receiver_name": "李四",
         "receiver_mobile": "13900139000", "province": "浙江省", "city": "杭州市", "district": "西湖区",
         "address": "文二路1号"},
    ]  # fmt: skip
    rows.append({**rows[0], "item_id": TOTE, "sku_id": TOTE_KHAKI})
    sheet = write_csv(tmp_path / "by-receiver.csv", list(rows[0]), rows)
    result = run(sheet, sandbox, tmp_path, stage="validate", mapping=str(mapping))
    refs = result.sheet.frame["order_ref"].tolist()
    assert refs[0] == refs[2] != refs[1] and refs[0].startswith("RCV-")
    assert len(result.orders) == 2 and len(result.grouping.orders) == 2


# ----- the 1688 buyer order export ----------------------------------------------------------------------


def test_a_1688_buyer_export_reorders_with_the_catalogue_giving_the_spec_id(tmp_path, fresh_sandbox):
    sheet = write_xlsx(
        tmp_path / "1688订单导出.xlsx",
        BUYER_1688,
        [{"订单编号": "2716583307216961189", "卖家公司名": "义乌市乐童玩具厂", "货品总价(元)": "87.00",
          "收货人姓名": "王五", "收货地址": "浙江省 金华市 义乌市 福田街道商城大道1号", "邮编": "322000",
          "联系手机": "13700137000", "货品标题": "儿童积木", "单价(元)": "29.00", "数量": "3", "Offer ID": OFFER,
          "SKU ID": SKU_1688, "型号": "彩色"}],
    )  # fmt: skip
    without = run(sheet, fresh_sandbox, tmp_path, stage="validate")
    assert without.sheet.profile == "1688-buyer"
    entries = catalogue(tmp_path / "catalogue.csv", (SKU_1688, OFFER, SPEC, "xportcn-ka-1688"))
    result = run(sheet, fresh_sandbox, tmp_path, catalogue=entries)
    assert by_row(result, "status") == ["CREATED"], result.outcomes["error"].tolist()
    assert f"sku_id {SPEC}" in by_row(result, "filled_in")[0]


# ----- Shopify and DSers ----------------------------------------------------------------------------------


def shopify_export(tmp_path: Path) -> Path:
    first = {"Name": "#1001", "Email": "ann@example.com", "Financial Status": "paid", "Currency": "USD",
             "Lineitem quantity": "2", "Lineitem name": "Tumbler - Black", "Lineitem price": "12.50",
             "Lineitem sku": "TUMBLER-BLK", "Billing Name": "Ann Lee", "Shipping Name": "Ann Lee",
             "Shipping Street": "100 Wensan Road", "Shipping Address1": "100 Wensan Road", "Shipping City": "Hangzhou",
             "Shipping Zip": "310000", "Shipping Province": "ZJ", "Shipping Country": "CN",
             "Shipping Phone": "+86 138 0013 8000", "Id": "5551234567890", "Phone": "+1 555 0100",
             "Receipt Number": "R-77", "Shipping Province Name": "Zhejiang", "Vendor": "My Store"}  # fmt: skip
    second = {"Name": "#1001", "Lineitem quantity": "1", "Lineitem name": "Tote - Khaki", "Lineitem price": "39.90",
              "Lineitem sku": "TOTE-KHAKI"}  # fmt: skip
    return write_csv(tmp_path / "orders_export_1.csv", SHOPIFY_COLUMNS, [first, second])


def test_a_shopify_export_needs_the_supplier_ids_and_says_where_to_put_them(tmp_path, sandbox):
    result = run(shopify_export(tmp_path), sandbox, tmp_path, stage="validate", provider="xportcn-open")
    assert result.sheet.profile == "shopify-orders"
    errors = by_row(result, "error")
    assert errors[0].startswith("item_id: the row has Lineitem sku 'TUMBLER-BLK' but no provider product id.")
    assert "A Shopify export names the store's own products (Lineitem sku)" in errors[0]
    frame = result.sheet.frame
    assert frame.loc[0, "order_ref"] == "#1001" and frame.loc[0, "receiver_name"] == "Ann Lee"
    assert frame.loc[0, "receiver_phone"] == "+86 138 0013 8000"  # Shipping Phone, not the customer's Phone


def test_a_shopify_export_imports_with_the_catalogue(tmp_path, fresh_sandbox):
    entries = catalogue(
        tmp_path / "catalogue.csv",
        ("TUMBLER-BLK", CUP, CUP_BLACK, "xportcn-open"),
        ("TOTE-KHAKI", TOTE, TOTE_KHAKI, "xportcn-open"),
    )
    result = run(shopify_export(tmp_path), fresh_sandbox, tmp_path, catalogue=entries)
    assert by_row(result, "status") == ["CREATED", "CREATED"], result.outcomes["error"].tolist()
    assert len(result.orders) == 1 and len(fresh_sandbox.state.orders("xportcn-open")) == 1


def test_a_dsers_sheet_with_supplier_links_takes_the_sku_from_the_link(tmp_path, fresh_sandbox):
    link = f"https://item.taobao.com/item.htm?spm=a21n57.1.0.0&id={RAW_CUP}&skuId={RAW_CUP_BLACK}"
    sheet = write_csv(
        tmp_path / "dsers-orders.csv",
        DSERS_COLUMNS,
        [{"Order number": "D-2001", "Date": "2026-11-20", "Country": "China", "Product id": "8123456789",
          "SKU": "TUMBLER-BLK", "Product count": "2", "Contact person": "张三", "Mobile no": "13800138000",
          "Address": "文三路100号", "Province": "浙江省", "City": "杭州市", "Zip": "310000",
          "Supplier Product Link": link}],
    )  # fmt: skip
    result = run(sheet, fresh_sandbox, tmp_path, stage="preview", provider="dajisaas")
    assert result.sheet.profile == "dsers-orders"
    assert result.sheet.frame.loc[0, "sku_id"] == RAW_CUP_BLACK
    assert f"sku_id {RAW_CUP_BLACK} from the link's skuId" in by_row(result, "filled_in")[0]
    assert by_row(result, "status") == ["PREVIEWED"], result.outcomes["error"].tolist()


# ----- an English hand-made PO sheet: the mapping the error printed finishes it ----------------------------


def test_the_mapping_the_error_prints_imports_the_sheet(tmp_path, fresh_sandbox):
    link = f"https://detail.tmall.com/item.htm?id={RAW_CUP}&skuId={RAW_CUP_BLACK}"
    rows = [{"PO #": "PO-77", "Supplier URL code": link, "Qty (pcs)": "2", "Ship To": "Ann Lee",
             "Contact No.": "13800138000", "Province": "浙江省", "City": "杭州市", "District": "西湖区",
             "Street": "文三路100号", "Product Cost": "12.50"}]  # fmt: skip
    sheet = write_csv(tmp_path / "po.csv", list(rows[0]), rows)
    with pytest.raises(InputError) as failed:
        importer.load(sheet)
    message = str(failed.value)
    assert "did you mean 'Supplier URL code'?" in message and "Product Cost" not in message.split("(headers")[0]
    assert "--mapping FILE" in message and "--provider KEY" in message
    block = message[message.index("[headers]") :]
    mapping = tmp_path / "po.toml"
    assert block == '[headers]\n"Supplier URL code" = "item_id"'
    mapping.write_text(block, encoding="utf-8")
    result = run(sheet, fresh_sandbox, tmp_path, provider="dajisaas", mapping=str(mapping))
    assert by_row(result, "status") == ["CREATED"], result.outcomes["error"].tolist()


# ----- mapping profiles: checked keys, ignore, values, config and auto-pick ---------------------------------


def test_every_key_of_a_mapping_is_checked(tmp_path):
    cases = {
        'header = {"x" = "item_id"}\n': "unknown key 'header'; did you mean 'headers'?",
        '[headers]\n"x" = "itemid"\n': "map to unknown columns",
        '[values.provder]\n"淘宝" = "xportcn-open"\n': "[values.provder] names no column; did you mean 'provider'?",
        'split = ["city"]\n': "split 'city' cannot be split",
        'group_by = "rows"\n': "group_by must be one of order_ref, row, receiver",
    }
    for text, said in cases.items():
        path = tmp_path / "m.toml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError) as failed:
            resolve_mapping(str(path))
        assert said in str(failed.value), (text, str(failed.value))
        assert str(path) in str(failed.value)
    with pytest.raises(ConfigError, match="did you mean 'shopify-orders'"):
        resolve_mapping("shopify-order")


def test_a_mapped_header_the_sheet_lacks_names_the_closest_real_one(tmp_path):
    rows = [{"单号": "A-1", "商品ID": CUP, "数量": "1"}]
    sheet = write_csv(tmp_path / "s.csv", list(rows[0]), rows)
    with pytest.raises(ConfigError, match="the header '单号码' is not in the sheet; did you mean '单号'"):
        importer.load(sheet, mapping={"单号码": "order_ref", "单号": "order_ref"})


def test_a_config_profile_maps_values_switches_columns_off_and_is_picked_by_its_headers(tmp_path, sandbox):
    config = tmp_path / "importer.toml"
    config.write_text(
        "[mappings.erp]\n"
        'detect = ["平台", "客户单号"]\n'
        'ignore = ["订单编号"]\n'
        'split = ["address"]\n'
        '[mappings.erp.headers]\n"客户单号" = "order_ref"\n"货品ID" = "item_id"\n"规格编码" = "sku_id"\n'
        '[mappings.erp.values.provider]\n"淘宝" = "xportcn-open"\n"天猫" = "xportcn-open"\n',
        encoding="utf-8",
    )
    rows = [{"平台": "天猫", "客户单号": "ERP-1", "订单编号": "1234567890123456789", "货品ID": CUP,
             "规格编码": CUP_BLACK, "数量（件）": "1", "收货人姓名": "张三", "联系手机": "13800138000",
             "收货地址": "北京市朝阳区建国路88号"}]  # fmt: skip
    sheet = write_csv(tmp_path / "erp.csv", list(rows[0]), rows, encoding="gb18030")
    settings = dataclasses.replace(importer.load_settings(config), accounts=sandbox.settings().accounts)
    result = importer.run(sheet, stage="preview", settings=settings, write=False)
    assert result.sheet.profile == "erp"
    frame = result.sheet.frame
    assert frame.loc[0, "provider"] == "xportcn-open" and frame.loc[0, "order_ref"] == "ERP-1"
    assert (frame.loc[0, "province"], frame.loc[0, "city"], frame.loc[0, "district"]) == ("北京市", "北京市", "朝阳区")
    assert by_row(result, "status") == ["PREVIEWED"], result.outcomes["error"].tolist()


def test_a_misspelt_config_table_is_an_error(tmp_path):
    config = tmp_path / "importer.toml"
    config.write_text('[mapings.erp]\ndetect = ["x"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown table \[mapings\]; did you mean \[mappings\]"):
        importer.load_settings(config)


def test_every_built_in_profile_is_picked_by_its_own_headers():
    profiles = builtin_profiles()
    assert {"taobao-seller", "1688-template", "1688-buyer", "shopify-orders", "dsers-orders"} <= set(profiles)
    for name, profile in profiles.items():
        chooser = resolve_mapping(None)
        chooser.for_headers([*profile.detect, "something else"], ("order_ref", "item_id", "quantity"))
        assert chooser.chosen is not None and chooser.chosen.name == name


# ----- only what is used blocks a row; messages name their column; the console and counts ----------------


def test_a_rounded_number_in_an_unused_column_is_a_warning_and_in_item_id_an_error(tmp_path, sandbox):
    book = openpyxl.Workbook()
    book.active.append(["order_ref", "provider", "item_id", "quantity", "receiver_name", "receiver_mobile",
                        "province", "city", "district", "address", "平台单号"])  # fmt: skip
    base = ["PO-1", "xportcn-open", CUP, 1, "张三", "13800138000", "浙江省", "杭州市", "西湖区", "文三路100号"]
    book.active.append([*base, 3141592653589793238])
    book.active.append(["PO-2", *base[1:2], 600126245031041190, *base[3:], ""])
    book.save(tmp_path / "numbers.xlsx")
    result = run(tmp_path / "numbers.xlsx", sandbox, tmp_path, stage="validate")
    statuses, errors, warnings = by_row(result, "status"), by_row(result, "error"), by_row(result, "warning")
    assert statuses[0] == "VALID" and warnings[0].startswith("平台单号: Excel stored this as a number")
    assert "the importer does not use this column" in warnings[0]
    assert statuses[1] == "INVALID" and errors[1].startswith("item_id: Excel stored this as a number")


def test_a_share_text_in_item_id_says_how_to_get_the_link(tmp_path, sandbox):
    rows = [{"order_ref": "PO-1", "provider": "xportcn-open", "quantity": "1", "receiver_name": "张三",
             "receiver_mobile": "13800138000", "address": "浙江省杭州市西湖区文三路100号",
             "item_id": "【淘宝】https://m.tb.cn/h.5abcDEF 「不锈钢保温杯」点击链接直接打开"}]  # fmt: skip
    result = run(write_csv(tmp_path / "share.csv", list(rows[0]), rows), sandbox, tmp_path, stage="validate")
    error = by_row(result, "error")[0]
    assert "item_id: this is a Taobao share text (淘口令)" in error and "复制链接" in error
    assert "address: '浙江省杭州市西湖区文三路100号' holds the province and city" in error


def test_the_console_shows_warnings_and_counts_orders_as_the_summary_does(tmp_path, sandbox):
    sheet = taobao_export(tmp_path)
    text = sheet.read_text(encoding="utf-8").replace("广东省深圳市南山区科技园路1号", "南山区科技园路1号")
    sheet.write_text(text, encoding="utf-8")
    entries = catalogue(tmp_path / "catalogue.csv", ("TUMBLER-BLK", CUP, CUP_BLACK, "xportcn-open"))
    config = tmp_path / "importer.toml"
    config.write_text(f'[run]\ncatalogue = "{entries.name}"\n', encoding="utf-8")
    summary = tmp_path / "summary.json"
    result = CliRunner().invoke(
        app, ["validate", str(sheet), "--config", str(config), "--summary-json", str(summary)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 1, result.output
    assert "mapping profile 'taobao-seller'" in result.output
    assert "2 rows, 2 orders" in result.output
    assert "1 rows have warnings:" in result.output and "address: could not be split" in result.output
    said = json.loads(summary.read_text(encoding="utf-8"))
    assert said["orders"] == 2 and said["order_counts"] == {"VALID": 1, "INVALID": 1}
    assert said["mapping_profile"] == "taobao-seller" and said["warning_rows"] == 1
    book = openpyxl.load_workbook(tmp_path / "ExportOrderList202611.results.xlsx")
    rows = list(book["Summary"].iter_rows(values_only=True))
    totals = [tuple(r[:2]) for r in rows if r[0] == "total"]  # the rows table, then the orders table
    assert totals == [("total", 2), ("total", 2)]
    assert ("mapping profile", "taobao-seller") in [tuple(r[:2]) for r in rows]


def test_validate_refuses_what_the_provider_certainly_would(tmp_path, sandbox):
    base = {"order_ref": "PO-1", "quantity": "1", "receiver_name": "王五", "receiver_mobile": "13700137000",
            "province": "浙江省", "city": "金华市", "district": "义乌市", "address": "福田街道商城大道1号"}  # fmt: skip
    rows = [
        {**base, "provider": "xportcn-ka-1688", "item_id": OFFER, "sku_id": "颜色:彩色"},
        {**base, "order_ref": "PO-2", "provider": "xportcn-ka-1688", "item_id": OFFER, "sku_id": SPEC},
        {**base, "order_ref": "PO-3", "provider": "xportcn-open", "item_id": CUP, "sku_id": SPEC},
        {**base, "order_ref": "PO-4", "provider": "xportcn-open", "item_id": CUP, "sku_id": CUP_BLACK,
         "province": "", "city": "", "district": "", "address": "浙江省杭州市西湖区文三路100号"},
    ]  # fmt: skip
    result = run(write_csv(tmp_path / "ids.csv", list(rows[0]), rows), sandbox, tmp_path, stage="validate")
    statuses, errors = by_row(result, "status"), by_row(result, "error")
    assert statuses == ["INVALID", "VALID", "INVALID", "INVALID"]
    assert errors[0] == (
        "sku_id: xportcn-ka-1688 needs the 1688 specId, 32 hex characters (规格ID; not spec text such as 颜色:彩色, "
        "nor the skuId digits); got '颜色:彩色'"
    )
    assert errors[2].startswith("sku_id: xportcn-open needs a Taobao SKU id, digits only")
    assert errors[3].startswith("address: '浙江省杭州市西湖区文三路100号' holds the province and city")


def test_fix_keeps_a_link_that_names_its_sku(tmp_path, monkeypatch):
    link = f"https://item.taobao.com/item.htm?id={RAW_CUP}&skuId={RAW_CUP_BLACK}"
    plain = f"https://item.taobao.com/item.htm?id={TOTE}"
    base = {"order_ref": "PO-1", "provider": "dajisaas", "quantity": "1", "receiver_name": "张三",
            "receiver_mobile": "13800138000", "province": "浙江省", "city": "杭州市", "district": "西湖区",
            "address": "文三路100号", "sku_id": ""}  # fmt: skip
    rows = [{**base, "item_id": link}, {**base, "order_ref": "PO-2", "item_id": plain}]
    sheet = write_xlsx(tmp_path / "links.xlsx", [*base, "item_id"], rows)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ORDER_IMPORTER_CONFIG", raising=False)
    result = CliRunner().invoke(app, ["validate", str(sheet), "--fix"], env={"COLUMNS": "200"})
    assert "item_id: '" + plain + f"' -> '{TOTE}'" in result.output
    assert f"'{link}' ->" not in result.output  # the link names the SKU too: kept whole
    fixed = openpyxl.load_workbook(tmp_path / "links.fixed.xlsx").active
    cells = list(fixed.iter_rows(values_only=True))
    assert cells[1][-1] == link and cells[2][-1] == TOTE
    loaded = importer.load(tmp_path / "links.fixed.xlsx")
    assert loaded.frame.loc[0, "sku_id"] == RAW_CUP_BLACK


def test_an_inbox_with_a_mapping_file_reads_every_sheet_with_it(tmp_path, monkeypatch, sandbox):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "mapping.toml").write_text(
        'provider = "xportcn-open"\n[headers]\n"客户单号" = "order_ref"\n"货号" = "item_id"\n"规格" = "sku_id"\n',
        encoding="utf-8",
    )
    rows = [{"客户单号": "ERP-9", "货号": CUP, "规格": CUP_BLACK, "件数": "1", "收货人": "张三",
             "手机": "13800138000", "省份": "浙江省", "城市": "杭州市", "区县": "西湖区",
             "详细地址": "文三路100号"}]  # fmt: skip
    write_csv(inbox / "erp.csv", list(rows[0]), rows)
    config = tmp_path / "importer.toml"
    monkeypatch.setenv("ORDER_IMPORTER_CONFIG", str(config))
    for name, value in sandbox.write_config(config).items():  # the sandbox's printed config, as a user runs it
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["import", str(inbox), "--ledger", str(tmp_path / "l.sqlite")])
    assert "erp.csv" in result.output and "(exit 0)" in result.output, result.output


PINDUODUO = [
    "商品", "订单号", "订单状态", "商品总价(元)", "店铺优惠折扣(元)", "平台优惠折扣(元)", "邮费(元)",
    "用户实付金额(元)", "商家实收金额(元)", "商品数量(件)", "身份证姓名", "身份证号码", "收货人", "手机",
    "是否蜂窝订单", "省", "市", "区", "街道", "支付ID", "支付方式", "成团时间", "订单成交时间", "商品id",
    "商品规格", "样式ID", "商家编码-SKU维度", "商家编码-商品维度", "商家备注", "买家留言", "售后状态",
    "快递单号", "快递公司",
]  # fmt: skip


def test_a_pinduoduo_export_imports_with_the_catalogue(tmp_path, fresh_sandbox):
    sheet = write_csv(
        tmp_path / "pdd-orders.csv",
        PINDUODUO,
        [{"商品": "保温杯", "订单号": "261120-123456789012345", "订单状态": "待发货", "商品数量(件)": "2",
          "收货人": "张三", "手机": "13800138000", "省": "浙江省", "市": "杭州市", "区": "西湖区",
          "街道": "文三路100号", "商品id": "987654321", "商品规格": "黑色", "商家编码-SKU维度": "TUMBLER-BLK",
          "商家备注": "老客户"}],
    )  # fmt: skip
    entries = catalogue(tmp_path / "catalogue.csv", ("TUMBLER-BLK", CUP, CUP_BLACK, "xportcn-open"))
    result = run(sheet, fresh_sandbox, tmp_path, catalogue=entries)
    assert result.sheet.profile == "pinduoduo-seller"
    assert by_row(result, "status") == ["CREATED"], result.outcomes["error"].tolist()


def test_the_python_api_lists_and_takes_profiles(tmp_path):
    from importer.api import mapping_profiles

    settings = dataclasses.replace(importer.Settings(), mappings={"mine": {"headers": {"单号": "order_ref"}}})
    profiles = mapping_profiles(settings)
    assert "shopify-orders" in profiles and profiles["mine"].source == "from the config"
    rows = [{"单号": "A-1", "商品ID": CUP, "数量": "1"}]
    sheet = importer.load(write_csv(tmp_path / "s.csv", list(rows[0]), rows), mapping=profiles["mine"])
    assert sheet.profile == "mine" and sheet.frame.loc[0, "order_ref"] == "A-1"


# ----- hand-made sheets: product links typed by hand, a monthly sheet with title rows and merged cells ---------


def test_a_hand_typed_sheet_of_links_imports_with_the_mapping_the_error_printed(tmp_path, fresh_sandbox):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["11月采购单"])  # a title row above the header
    sheet.append([])
    sheet.append(["序号", "商品链接", "数量（件）", "收货人", "联系手机", "省", "市", "区", "详细地址"])
    cup = f"https://item.taobao.com/item.htm?id={RAW_CUP}&skuId={RAW_CUP_BLACK}"
    sheet.append([1, cup, 2, "张三", "13800138000", "浙江省", "杭州市", "西湖区", "文三路100号"])
    sheet.append([2, "https://detail.tmall.com/item.htm?id=652734409921&skuId=4420517730011", 1, None, None, None,
                  None, None, None])  # fmt: skip
    sheet.merge_cells("D4:D5")  # the receiver written once for both of their rows
    for column in "EFGHI":
        sheet.merge_cells(f"{column}4:{column}5")
    sheet.auto_filter.ref = "A3:I5"
    path = tmp_path / "11月.xlsx"
    book.save(path)
    with pytest.raises(InputError) as failed:
        importer.load(path)
    message = str(failed.value)
    block = message[message.index("group_by") :]
    assert block.startswith('group_by = "receiver"') and "[headers]" in block
    mapping = tmp_path / "monthly.toml"
    mapping.write_text(block, encoding="utf-8")
    result = run(path, fresh_sandbox, tmp_path, provider="dajisaas", mapping=str(mapping))
    assert by_row(result, "status") == ["CREATED", "CREATED"], result.outcomes["error"].tolist()
    assert len(result.orders) == 1 and len(fresh_sandbox.state.orders("dajisaas")) == 1


def test_an_error_on_a_merged_cell_is_written_without_a_comment_on_it(tmp_path, sandbox):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["order_ref", "provider", "item_id", "sku_id", "quantity", "receiver_name", "receiver_mobile",
                  "province", "city", "district", "address"])  # fmt: skip
    sheet.append(
        ["PO-1", "xportcn-open", CUP, CUP_BLACK, 1, "张三", "13800138000", "浙江省", "杭州市", "西湖区", "文三路1号"]
    )
    sheet.append(["PO-2", "xportcn-open", TOTE, TOTE_KHAKI, 1])
    sheet.merge_cells("F2:F3")  # PO-2's receiver is the merged cell's second row: it has none of its own
    book.save(tmp_path / "merged.xlsx")
    result = run(tmp_path / "merged.xlsx", sandbox, tmp_path, stage="validate")
    assert by_row(result, "status") == ["VALID", "INVALID"]
    written = openpyxl.load_workbook(result.output).active
    assert written["F3"].comment is None and "receiver_name" in by_row(result, "error")[1]


def test_a_dataframe_from_an_export_is_read_with_its_profile(tmp_path):
    import pandas as pd

    frame = pd.DataFrame(
        {"Name": ["#1001"], "Lineitem quantity": ["2"], "Lineitem name": ["Tumbler"], "Lineitem sku": ["TUMBLER-BLK"],
         "Shipping Name": ["Ann Lee"], "Phone": ["+1 555 0100"]}
    )  # fmt: skip
    entries = catalogue(tmp_path / "catalogue.csv", ("TUMBLER-BLK", CUP, CUP_BLACK, "xportcn-open"))
    sheet = importer.load(frame, settings=dataclasses.replace(importer.Settings(), catalogue=entries))
    assert sheet.profile == "shopify-orders"
    assert sheet.frame.loc[0, "order_ref"] == "#1001" and sheet.frame.loc[0, "item_id"] == CUP
    assert "receiver_phone" not in sheet.frame  # the customer's Phone is switched off
    named = importer.load(frame.rename(columns={"Name": "Order"}), mapping={"Order": "order_ref"})
    assert named.frame.loc[0, "order_ref"] == "#1001"


def test_an_order_number_excel_rounded_in_an_export_says_the_digits_are_lost(tmp_path, sandbox):
    path = tmp_path / "ExportOrderList.xlsx"
    book = openpyxl.Workbook()
    book.active.append(TAOBAO_COLUMNS)
    row = {"订单编号": 3141592653589793238, "买家会员名": "tb_buyer1", "收货人姓名": "张三", "宝贝总数量": 1,
           "收货地址": "浙江省 杭州市 西湖区 文三路100号", "联系手机": "13800138000",
           "商家编码": "TUMBLER-BLK"}  # fmt: skip
    book.active.append([row.get(column) for column in TAOBAO_COLUMNS])
    book.save(path)
    entries = catalogue(tmp_path / "catalogue.csv", ("TUMBLER-BLK", CUP, CUP_BLACK, "xportcn-open"))
    result = run(path, sandbox, tmp_path, stage="validate", catalogue=entries)
    error = by_row(result, "error")[0]
    assert error.startswith("order_ref: Excel stored this as a number")
    assert "the digits are already lost in this export (profile 'taobao-seller')" in error
    assert "type the value again" not in error


def test_a_catalogue_can_be_an_xlsx_and_a_broken_one_says_what_is_wrong(tmp_path):
    from importer.read.catalogue import Entry, add_entry, load_catalogue

    book = openpyxl.Workbook()
    book.active.append(["商家编码", "商品ID", "SKU ID", "平台"])
    book.active.append(["TUMBLER-BLK", int(CUP[:15]), None, "xportcn-open"])  # a number cell comes back as digits
    book.active.append([None, None, None, None])
    book.save(tmp_path / "catalogue.xlsx")
    found = load_catalogue(tmp_path / "catalogue.xlsx").find(" TUMBLER-BLK ")
    assert found == Entry("TUMBLER-BLK", CUP[:15], "", "xportcn-open", 2)
    cases = {
        "sku_code,item_id\nA,1\nA,2\n": "row 3: sku_code 'A' is also on row 2",
        "code,item_id\nA,1\n": "has no sku_code column",
        "": "is empty",
    }
    for text, said in cases.items():
        (tmp_path / "bad.csv").write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError, match=said):
            load_catalogue(tmp_path / "bad.csv")
    with pytest.raises(ConfigError, match="does not exist"):
        load_catalogue(tmp_path / "absent.csv")
    with pytest.raises(ConfigError, match="writes CSV catalogues"):
        add_entry(tmp_path / "catalogue.xlsx", Entry("X", "1"))
    added = add_entry(tmp_path / "new.csv", Entry("=HYPERLINK(1)", "1"))
    assert added.read_text(encoding="utf-8").splitlines()[1].startswith("'=HYPERLINK(1)")  # never a formula
    assert load_catalogue(added).find("=HYPERLINK(1)") is not None
