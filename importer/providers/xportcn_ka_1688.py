"""Xportcn KA client, AlibabaOrderController: 1688 orders (provider key ``xportcn-ka-1688``).

Source: xportcn-ka-alibaba-order-create.txt and PROVIDERS.md §2. Signed
headers and envelope as every Xportcn surface (:mod:`.xportcn`).

- Preview (mandatory before create): ``POST /alibaba/ka/order/create/preview``
  with ``flow``, ``addressParam`` (object) and ``cargoParamList`` (array of
  ``{offerId: int, specId: str, quantity}``). ``data`` is an array, one
  element per supplier.
- Create: ``POST /alibaba/ka/order/create`` with the same plus ``outOrderId``
  (our external id), ``message`` (the order remark) and ``tradeType``.
  ``data.orderIds`` may hold several ids: 1688 splits an order by supplier.
- Sheet: ``item_id`` is the offerId, ``sku_id`` the specId (32 hex
  characters); the ``town`` column fills ``townText`` (required on the twin
  document: an order without a town is refused on its rows before anything is
  sent); an optional ``district_code`` column fills ``districtCode``.
- ``phone`` and ``mobile`` are both required on the twin: a sheet with one
  number sends it in both.
- ``flow`` comes from the account option ``flow`` (default ``fenxiaonew``, as
  the KA preview example sends).
- ``tradeType`` comes from the account option ``trade_type``; the documented
  KA preview answer has no trade modes, so without the option it is sent only
  when a preview answer does list ``tradeModeNameList`` ([inferred]: the
  first mode every supplier offers).

**[inferred]**: a non-null line ``message`` in the preview means the line
cannot be bought; the order total is ``sumTotalPayment`` (goods, carriage and a service fee);
``orderIds`` come in the preview's supplier order; a failed create is a
non-200 code and buys nothing; the order list endpoint (see :meth:`find_order`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..errors import OutcomeUnknown
from ..models import LineCreation, LinePreview, OrderCreation, OrderDraft, OrderLine, OrderPreview
from .base import ApiRequest, Found, JsonDict, LookupResult, Unsure, fen_to_yuan
from .capabilities import Capabilities, Fact, Lookup
from .fields import DOCUMENTED, INFERRED, SHEET_LABELS, Endpoint, RequestField
from .upstream import as_list, as_object, match_lines, sum_present, text
from .xportcn import HEADER_FIELDS, XPORTCN_CONFIG, XportcnProvider, order_page_records

DEFAULT_FLOW = "fenxiaonew"
FLOWS = ("fenxiaonew", "general", "fenxiao", "saleproxy", "paired", "boutiquefenxiao", "boutiquepifa")
"""``fenxiaonew`` from the KA preview example; the others are the 1688 upstream's (PROVIDERS.md §0)."""
CURRENCY = "CNY"
DOC = "xportcn-ka-alibaba-order-create.txt"
TWIN = "required on the twin /alibaba/order/create (PROVIDERS.md §2)"
PREVIEW_DOC = "PROVIDERS.md §2, Preview (KA doc api-338074941, example request and answer)"
PREVIEW = Fact("/alibaba/ka/order/create/preview", "documented", PREVIEW_DOC)
"""The preview call: the capability, the endpoint table and the preview path all read it."""
CHECK_CARGO = {"offerId": 889512351602, "specId": "530ad0e3e64c05d35bc0b1a2ec2a0652", "quantity": 1}
"""The preview example's offer: previewing it buys nothing."""


def _address(key: str, column: str, source: str = f"{DOC}, schema; " + TWIN) -> RequestField:
    return RequestField(f"addressParam.{key}", f"sheet {column}", DOCUMENTED, source, "", column)


class XportcnKa1688(XportcnProvider):
    """Adapter for 1688 orders through the Xportcn KA AlibabaOrderController."""

    key = "xportcn-ka-1688"
    title = "Xportcn KA (1688)"
    sandbox_prefix = "/xportcn-ka-1688/api"
    columns = ("town", "district_code")
    PREVIEW_PATH = PREVIEW.value
    CREATE_PATH = "/alibaba/ka/order/create"
    LIST_PATH = "/alibaba/ka/order/list"
    CONFIG = (
        *XPORTCN_CONFIG,
        ("flow", DEFAULT_FLOW, f"the 1688 flow, one of {', '.join(FLOWS)}"),
        ("trade_type", "not sent", "tradeType (else taken from a preview answer that lists trade modes)"),
    )
    ENDPOINTS = (
        Endpoint("preview", "POST", PREVIEW.value, PREVIEW.basis, PREVIEW.source, "before every create (mandatory)"),
        Endpoint("create", "POST", CREATE_PATH, DOCUMENTED, DOC, "once per order"),
        Endpoint(
            "check-config", "POST", PREVIEW_PATH, DOCUMENTED, PREVIEW_DOC + ", with its example offer", "on demand"
        ),
    )
    FIELDS = (
        *HEADER_FIELDS,
        RequestField("flow", "option flow", DOCUMENTED, f"{PREVIEW_DOC}; {TWIN}", DEFAULT_FLOW),
        RequestField("message", "sheet order_remark", DOCUMENTED, f"{DOC}, schema", "not sent", "order_remark"),
        RequestField(
            "tradeType",
            "option trade_type, else the preview's tradeModeNameList when it has one",
            INFERRED,
            "the documented KA preview answer lists no trade modes (PROVIDERS.md §0, §2)",
            "not sent",
        ),
        RequestField("addressParam", "object", DOCUMENTED, f"{DOC}, schema"),
        _address("fullName", "receiver_name"),
        RequestField(
            "addressParam.mobile", "sheet receiver_mobile, else receiver_phone", DOCUMENTED, TWIN, "", "receiver_mobile"
        ),
        RequestField(
            "addressParam.phone", "sheet receiver_phone, else receiver_mobile", DOCUMENTED, TWIN, "", "receiver_phone"
        ),
        _address("postCode", "zip", f"{DOC}, schema"),
        _address("cityText", "city"),
        _address("provinceText", "province"),
        _address("areaText", "district", f"{DOC}, schema"),
        RequestField(
            "addressParam.townText",
            "sheet town, else the 街道 / 镇 the address begins with",
            DOCUMENTED,
            f"{DOC}, schema; {TWIN}",
            "none: the order is refused on its rows",
            "town",
        ),
        _address("address", "address"),
        _address("districtCode", "district_code", f"{DOC}, schema"),
        RequestField("cargoParamList", "array of the lines", DOCUMENTED, f"{DOC}, schema"),
        RequestField(
            "cargoParamList[].offerId", "sheet item_id, as an integer", DOCUMENTED, f"{DOC}, schema", "", "item_id"
        ),
        RequestField("cargoParamList[].specId", "sheet sku_id", DOCUMENTED, f"{DOC}, schema", "", "sku_id"),
        RequestField("cargoParamList[].quantity", "sheet quantity", DOCUMENTED, f"{DOC}, schema", "", "quantity"),
        RequestField("outOrderId", "the importer's external id", DOCUMENTED, f"{DOC}, schema"),
    )
    capabilities = Capabilities(
        caller_id_field=Fact(
            "outOrderId", "documented", "xportcn-ka-alibaba-order-create.txt, 'Create an order' body; PROVIDERS.md §2"
        ),
        repeated_id=Fact("not documented", "inferred", "PROVIDERS.md §2 'Caller reference': dedupe not documented"),
        lookup=Fact(
            Lookup(
                "POST",
                LIST_PATH,
                "{outOrderId, pageNum: 1, pageSize: 50}",
                "OI0123456789ABCDEF0123",
                found={
                    "code": 200,
                    "data": {"records": [{"orderId": "250001", "outOrderId": "OI0123456789ABCDEF0123"}], "total": 1},
                },
                absent={"code": 200, "data": {"records": [], "total": 0}},
            ),
            "inferred",
            "PROVIDERS.md §2 'Payment and details': the order list is a POST whose path was not recovered",
        ),
        money_unit=Fact("fen", "inferred", "PROVIDERS.md §2 preview: 2 x 2900 = 5800"),
        partial_create=Fact(False, "inferred", "PROVIDERS.md §2: failures come back as code != 200 + msg"),
        splits_by_seller=Fact(True, "inferred", "PROVIDERS.md §2: several orderIds mean 1688 split the order"),
        preview=PREVIEW,
        create_needs_preview=Fact(
            True, "documented", "PROVIDERS.md §2 'Preview': to be called before creating an order (mandatory)"
        ),
    )

    # ----- preview ----------------------------------------------------------------------
    def prepare(self, order: OrderDraft) -> tuple[OrderDraft, Mapping[str, str]]:
        """Refuse, on every row, an order whose sheet gives no town: ``townText`` is required.

        The town is the sheet's ``town`` column, else the 街道 / 镇 the street
        address begins with (as 1688's own 批量下单 template writes it); it is
        never made up.
        """
        if town_of(order):
            return order, {}
        reason = (
            f"town ({SHEET_LABELS['town']}) is needed by {self.key}: fill the town column, or begin the address "
            "with its 街道 or 镇 (addressParam.townText is required; nothing was sent)"
        )
        return order, {line.line_no: reason for line in order.lines}

    def build_preview_request(self, order: OrderDraft) -> ApiRequest:
        body = {"flow": self._flow(), "addressParam": address_param(order), "cargoParamList": cargo_list(order)}
        return ApiRequest("POST", self.PREVIEW_PATH, json=body)

    def parse_preview(self, order: OrderDraft, body: JsonDict) -> OrderPreview:
        """Parse the documented preview answer.

        data: [{sumCarriage, sumPayment, sumTotalPayment, sumPaymentNoCarriage, tradeModeNameList?,
                orderItemTOList: [{amount, message, finalUnitPrice, specId, skuId, offerId, openOfferId}]}]
        Money in fen. Lines are matched by offerId + specId; each keeps its supplier group's position.
        """
        groups = [as_object(g) for g in as_list(body.get("data"))]
        entries = [(n, as_object(item)) for n, g in enumerate(groups) for item in as_list(g.get("orderItemTOList"))]
        matches = match_lines(
            order.lines, entries, lambda e: {"itemId": e[1].get("offerId"), "skuId": e[1].get("specId")}
        )
        lines: dict[str, LinePreview] = {}
        group_of: dict[str, int] = {}
        for line, match in zip(order.lines, matches, strict=True):
            if match is None:
                lines[line.line_no] = LinePreview(error="the provider's preview did not mention this line")
                continue
            group_of[line.line_no], entry = match
            lines[line.line_no] = _line_preview(entry)
        ok = all(p.error is None for p in lines.values())
        return OrderPreview(
            ok=ok,
            lines=lines,
            freight=sum_present(fen_to_yuan(g.get("sumCarriage")) for g in groups),
            total=sum_present(fen_to_yuan(g.get("sumTotalPayment") or g.get("sumPayment")) for g in groups),
            currency=CURRENCY,
            error=None if ok else "some lines cannot be bought",
            context={"trade_type": _common_trade_mode(groups), "groups": _line_groups(order.lines, group_of)},
        )

    # ----- create -------------------------------------------------------------------------
    def build_create_request(self, order: OrderDraft, preview: OrderPreview, external_id: str) -> ApiRequest:
        body: dict[str, Any] = {"flow": self._flow()}
        if order.remark:
            body["message"] = order.remark
        trade_type = self.option_text("trade_type") or preview.context.get("trade_type")
        if trade_type:
            body["tradeType"] = str(trade_type)
        body.update(addressParam=address_param(order), cargoParamList=cargo_list(order), outOrderId=external_id)
        return ApiRequest("POST", self.CREATE_PATH, json=body)

    def parse_create(self, order: OrderDraft, body: JsonDict) -> OrderCreation:
        """Parse the documented create answer ``data: {orderIds: [..]}`` (lines are assigned in :meth:`create`)."""
        ids = tuple(text(i) for i in as_list(as_object(body.get("data")).get("orderIds")) if text(i))
        if not ids:
            raise OutcomeUnknown(
                "the provider answered success without order ids",
                provider=self.key,
                endpoint=f"POST {self.CREATE_PATH}",
            )
        return OrderCreation(ok=True, provider_order_ids=ids)

    def create(self, order: OrderDraft, preview: OrderPreview, external_id: str) -> OrderCreation:
        """Create, then give each line the order id of its supplier group ([inferred]: ids in preview order)."""
        created = super().create(order, preview, external_id)
        groups = [list(g) for g in preview.context.get("groups", [])]
        ids = created.provider_order_ids
        if len(groups) != len(ids):
            together = ", ".join(ids)
            return OrderCreation(
                ok=True, provider_order_ids=ids, lines={ln.line_no: LineCreation(together) for ln in order.lines}
            )
        lines = {
            line_no: LineCreation(provider_order_id=order_id)
            for order_id, group in zip(ids, groups, strict=True)
            for line_no in group
        }
        total = preview.total
        return OrderCreation(ok=True, provider_order_ids=ids, lines=lines, total=total, currency=CURRENCY)

    # ----- lookup -------------------------------------------------------------------------
    def lookup_request(self, external_id: str) -> ApiRequest:
        return ApiRequest("POST", self.LIST_PATH, json={"outOrderId": external_id, "pageNum": 1, "pageSize": 50})

    def parse_lookup(self, external_id: str, body: JsonDict) -> LookupResult:
        """[inferred] ``data: {records: [{orderId, outOrderId, status, createTime, sumPayment}], total}``.

        One record per 1688 order, so a split order lists several. Absent only
        for ``records: []`` with ``total: 0``; Found when every record carries
        the id asked for and an ``orderId``; any other shape is Unsure.
        """
        records = order_page_records(body, "outOrderId", external_id)
        if not isinstance(records, list):
            return records
        ids = tuple(text(r.get("orderId")) for r in records)
        if not all(ids):
            return Unsure("the order list shows an order without orderId")
        return Found(OrderCreation(ok=True, provider_order_ids=ids))

    def check_options(self) -> None:
        self._flow()

    def check_request(self) -> ApiRequest:
        """The documented preview of the example's offer: it prices, and buys nothing."""
        address = {"fullName": "check-config", "mobile": "13800000000", "phone": "13800000000"}
        address.update(cityText="-", provinceText="-", townText="-", address="-")
        body = {"flow": self._flow(), "addressParam": address, "cargoParamList": [CHECK_CARGO]}
        return ApiRequest("POST", self.PREVIEW_PATH, json=body)

    def _flow(self) -> str:
        return self.option_choice("flow", DEFAULT_FLOW, FLOWS)


TOWN_AT_START = re.compile(r"^\s*([\u4e00-\u9fff]{1,10}?(?:街道|镇))(?=\S)")
"""A street address that begins with its town: 福田街道商城大道1号, 横店镇万盛街8号."""


def town_of(order: OrderDraft) -> str:
    """The town: the sheet's ``town`` column, else the 街道 / 镇 the street address begins with."""
    given = order.extra.get("town", "").strip()
    if given:
        return given
    match = TOWN_AT_START.match(order.receiver.address)
    return match.group(1) if match else ""


def address_param(order: OrderDraft) -> dict[str, str]:
    """The 1688 ``addressParam`` from the order's receiver, keys in the documented order."""
    r = order.receiver
    return {
        "fullName": r.name,
        "mobile": r.mobile or r.phone,
        "phone": r.phone or r.mobile,
        "postCode": r.zip,
        "cityText": r.city,
        "provinceText": r.province,
        "areaText": r.district,
        "townText": town_of(order),
        "address": r.address,
        "districtCode": order.extra.get("district_code", ""),
    }


def cargo_list(order: OrderDraft) -> list[dict[str, Any]]:
    """``cargoParamList``: offerId as an exact JSON integer, specId as text, quantity as a number."""
    return [{"offerId": int(line.item_id), "specId": line.sku_id, "quantity": line.quantity} for line in order.lines]


def _line_preview(entry: dict[str, Any]) -> LinePreview:
    message = text(entry.get("message"))
    if message:
        return LinePreview(error=message, error_code=text(entry.get("resultCode")) or None)
    return LinePreview(
        unit_price=fen_to_yuan(entry.get("finalUnitPrice")), amount=fen_to_yuan(entry.get("amount")), currency=CURRENCY
    )


def _common_trade_mode(groups: list[dict[str, Any]]) -> str:
    """The first trade mode every supplier offers; '' when a supplier lists none or they share none."""
    modes = [[text(m) for m in as_list(g.get("tradeModeNameList"))] for g in groups]
    if not modes or not all(modes):
        return ""
    return next((mode for mode in modes[0] if all(mode in other for other in modes[1:])), "")


def _line_groups(lines: tuple[OrderLine, ...], group_of: dict[str, int]) -> list[list[str]]:
    """Line numbers per supplier group, in the preview's group order."""
    groups: dict[int, list[str]] = {}
    for line in lines:
        if line.line_no in group_of:
            groups.setdefault(group_of[line.line_no], []).append(line.line_no)
    return [groups[n] for n in sorted(groups)]
