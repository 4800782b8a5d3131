"""One order line with a complete mainland receiver, for tests that vary one column around it."""

ORDER_ROW = {
    "provider": "xportcn-open",
    "item_id": "600126245031041190",
    "sku_id": "5016042822039",
    "quantity": "1",
    "receiver_name": "张三",
    "receiver_mobile": "13800138000",
    "province": "浙江省",
    "city": "杭州市",
    "district": "余杭区",
    "address": "文一西路969号",
    "zip": "311121",
}
