"""Forgiving header matching: the headers people type, mapped to the canonical columns.

Headers are compared after normalising width (full-width ``ＩＤ`` is ``ID``),
case, spaces and punctuation, so ``Item ID``, ``item-id``, ``itemId`` and
``ITEM_ID`` are one header; a unit in brackets (``数量（件）``, ``Price (USD)``)
and a ``*`` marking a required column are left out too. English variants and the Chinese headers of
Chinese buying sheets are listed in :data:`ALIASES`, which is plain data:
extend it, or pass a user mapping (``--mapping``), rather than adding code.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from ..models import CANONICAL_COLUMNS, ERROR_COLUMN_COL, RESULT_COLUMNS

REQUIRED_COLUMNS: tuple[str, ...] = ("order_ref", "item_id", "quantity")

_PUNCTUATION = re.compile(r"[\s_\-./:：*#＃()（）\[\]【】]+")
_UNIT = re.compile(r"[(\[【][^()\[\]【】]*[)\]】]")
"""A bracketed part of a header (after width folding): a unit or a note such as ``（件）`` or ``(USD)``."""


def normalize_header(text: object) -> str:
    """Fold width, case, spaces, punctuation and bracketed units so headers typed differently compare equal."""
    folded = unicodedata.normalize("NFKC", "" if text is None else str(text)).casefold()
    unbracketed = _UNIT.sub("", folded)
    return _PUNCTUATION.sub("", unbracketed if _PUNCTUATION.sub("", unbracketed) else folded)


SKU_CODE = "sku_code"
"""The team's own SKU (商家编码, Lineitem sku): not sent anywhere, looked up in the catalogue for the provider ids."""
TOWN = "town"
"""The township or street office (镇/街道): a column of the xportcn-ka-1688 adapter, sent as ``townText``."""
EXTRA_TARGETS: tuple[str, ...] = (SKU_CODE, TOWN)
"""Columns a mapping may name, and aliases may point at, besides the canonical ones."""


_ALIAS_TABLE: dict[str, tuple[str, ...]] = {
    "provider": ("platform", "supplier", "平台", "渠道", "供应商"),
    "order_ref": (
        "order id",
        "order no",
        "order number",
        "po",
        "po number",
        "external order id",
        "order reference",
        "订单号",
        "外部订单号",
        "采购单号",
        "订单编号",
        "po #",
        "po no",
        "po num",
        "purchase order",
        "purchase order number",
        "线上订单号",
        "平台订单号",
        "网店订单号",
        "客户订单号",
        "order name",
        "order number (your own)",
        "订单id",
    ),
    "line_no": ("line", "line number", "order line no", "行号"),
    "item_id": (
        "item id",
        "itemid",
        "offer id",
        "offerid",
        "product id",
        "product link",
        "item link",
        "url",
        "link",
        "商品id",
        "商品编号",
        "商品链接",
        "链接",
        "宝贝id",
        "宝贝链接",
        "product url",
        "item url",
        "product link url",
        "supplier product link",
        "supplier link",
        "supplier url",
        "offer link",
        "商品编码",
        "商品url",
        "货品链接",
        "货源链接",
        "1688链接",
        "淘宝链接",
        "产品链接",
        "offer id (1688)",
        "商品id号",
    ),
    "sku_code": (
        "商家编码",
        "商家sku编码",
        "外部系统编号",
        "lineitem sku",
        "seller sku",
        "own sku",
        "your sku",
        "store sku",
    ),
    "sku_id": (
        "sku",
        "sku id",
        "skuid",
        "spec id",
        "specid",
        "规格id",
        "sku编号",
        "skuid编号",
        "supplier sku id",
        "spec",
        "规格编码id",
        "specid (1688)",
    ),
    "quantity": (
        "qty",
        "quantity",
        "count",
        "数量",
        "购买数量",
        "采购数量",
        "lineitem quantity",
        "宝贝总数量",
        "商品数量",
        "件数",
        "订购数量",
        "下单数量",
        "qty ordered",
        "order qty",
        "pcs",
        "product count",
    ),
    "unit_price": (
        "price",
        "unit price",
        "expected price",
        "单价",
        "价格",
        "采购单价",
        "lineitem price",
        "商品单价",
        "unit cost",
        "单价元",
    ),
    "currency": ("currency code", "币种", "货币"),
    "title": (
        "item title",
        "product name",
        "item name",
        "商品名称",
        "标题",
        "商品标题",
        "lineitem name",
        "宝贝标题",
        "宝贝名称",
        "货品名称",
        "货品标题",
        "产品名称",
        "product title",
        "description",
        "item description",
    ),
    "line_remark": ("line remark", "line note", "item remark", "商品备注"),
    "receiver_name": (
        "name",
        "receiver",
        "recipient",
        "consignee",
        "full name",
        "收件人",
        "收货人",
        "收件人姓名",
        "收货人姓名",
        "收件人名称",
        "收货人名称",
        "联系人",
        "shipping name",
        "ship to",
        "ship to name",
        "contact person",
        "customer name",
    ),
    "receiver_phone": (
        "phone",
        "tel",
        "telephone",
        "电话",
        "联系电话",
        "固定电话",
        "联系电话",
        "shipping phone",
        "contact no",
        "contact number",
        "phone number",
    ),
    "receiver_mobile": (
        "mobile",
        "cell",
        "mobile phone",
        "cellphone",
        "手机",
        "手机号",
        "手机号码",
        "联系手机",
        "收货人手机",
        "收件人手机",
        "收货人手机号",
        "收件人电话",
        "mobile no",
        "mobile number",
    ),
    "country": ("国家", "shipping country", "ship to country", "country code"),
    "province": (
        "state",
        "province state",
        "省",
        "省份",
        "shipping province",
        "shipping province name",
        "ship to state",
        "收货省份",
        "省份名称",
        "所在省",
    ),
    "city": ("城市", "市", "shipping city", "ship to city", "收货城市", "所在市", "城市名称"),
    "district": ("area", "county", "区", "区县", "县区", "收货区县", "区县名称", "所在区", "区/县"),
    TOWN: (
        "镇",
        "乡镇",
        "街道",
        "镇/街道",
        "乡镇/街道",
        "镇街",
        "镇/乡/街道",
        "街道/镇",
        "街道/乡镇",
        "街道办",
        "街道办事处",
        "所在镇",
        "所在街道",
        "收货乡镇",
        "收货街道",
        "乡镇街道名称",
        "township",
        "town/street",
        "street office",
        "subdistrict",
        "sub-district",
        "town text",
    ),
    "address": (
        "street",
        "street address",
        "detailed address",
        "详细地址",
        "地址",
        "收货地址",
        "shipping address1",
        "shipping address 1",
        "shipping street",
        "ship to address",
        "address 1",
        "address1",
        "街道地址",
        "收货详细地址",
        "收件地址",
        "收件人地址",
    ),
    "zip": (
        "zip code",
        "zipcode",
        "postcode",
        "postal code",
        "post code",
        "邮编",
        "邮政编码",
        "shipping zip",
        "ship to zip",
        "收货邮编",
    ),
    "tax_id": (
        "tax id",
        "tax number",
        "tax no",
        "taxpayer id",
        "tin",
        "cpf",
        "cnpj",
        "cpf/cnpj",
        "税号",
        "纳税人识别号",
        "身份证",
        "身份证号",
        "身份证号码",
        "证件号",
        "证件号码",
    ),
    "order_date": ("date", "order date", "purchase date", "po date", "日期", "下单日期", "订单日期", "采购日期"),
    "order_remark": (
        "remark",
        "note",
        "order note",
        "comment",
        "备注",
        "订单备注",
        "买家留言",
        "notes",
        "order memo",
        "订单留言",
        "买家备注",
    ),
}

ALIASES: dict[str, str] = {
    normalize_header(alias): canonical for canonical, aliases in _ALIAS_TABLE.items() for alias in (canonical, *aliases)
}
"""Normalised header text -> canonical column."""

IGNORED_HEADERS: frozenset[str] = frozenset(normalize_header(c) for c in (*RESULT_COLUMNS, ERROR_COLUMN_COL))
"""Columns the importer writes into results; ignored on input so a results workbook can be imported again."""
EARLIER_PREFIX = "_earlier_"
EARLIER_COLUMNS: dict[str, str] = {
    normalize_header(name): EARLIER_PREFIX + name for name in ("status", "provider_order_id", "error")
}
"""Ignored result columns that are still read, under these internal labels: a results workbook imported
again must not buy what its status says was bought, and a user's own ``Status`` column may say cancelled."""


@dataclass
class HeaderMatch:
    """How one header row maps to the canonical columns.

    ``columns`` lists every non-empty header as (position, original text,
    canonical name or None for a column the importer does not know).
    ``switched_off`` lists the headers a mapping switched off (``"header" = ""``);
    ``unmatched`` the mapping's headers that this row does not have.
    """

    columns: list[tuple[int, str, str | None]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    earlier: list[tuple[int, str]] = field(default_factory=list)
    """(position, internal label) of the ignored columns still read (:data:`EARLIER_COLUMNS`)."""
    duplicates: list[str] = field(default_factory=list)
    switched_off: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)

    @property
    def known(self) -> int:
        """How many headers matched a canonical column."""
        return sum(1 for _, _, canonical in self.columns if canonical)

    def canonical_to_original(self) -> dict[str, str]:
        return {canonical: original for _, original, canonical in self.columns if canonical}


class HeaderRules(Mapping[str, str]):
    """A header mapping that depends on the header row: a mapping profile picked by the headers a row has.

    As a plain mapping it is empty; :func:`match_headers` asks :meth:`for_headers`
    for the mapping and the required columns of each row it looks at.
    """

    def for_headers(
        self, headers: Sequence[object], required: Collection[str]
    ) -> tuple[Mapping[str, str], Collection[str]]:
        """The mapping and the required columns for this header row."""
        return {}, required

    def __getitem__(self, key: str) -> str:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def match_headers(
    headers: Sequence[object],
    *,
    extra: Mapping[str, str] | None = None,
    required: Collection[str] = REQUIRED_COLUMNS,
) -> HeaderMatch:
    """Match a header row; ``extra`` (original header -> canonical) wins over the built-in aliases.

    A header that ``extra`` maps to "" is switched off: it stays a plain column
    of the user's, even where an alias would have taken it.
    """
    if isinstance(extra, HeaderRules):
        extra, required = extra.for_headers(headers, required)
    user = {normalize_header(k): v for k, v in (extra or {}).items()}
    match = HeaderMatch()
    taken: set[str] = set()
    seen: set[str] = set()
    for position, header in enumerate(headers):
        original = "" if header is None else str(header).strip()
        if not original:
            continue
        key = normalize_header(original)
        seen.add(key)
        if key in IGNORED_HEADERS and key not in user:
            match.ignored.append(original)
            if key in EARLIER_COLUMNS and EARLIER_COLUMNS[key] not in dict(match.earlier).values():
                match.earlier.append((position, EARLIER_COLUMNS[key]))
            continue
        canonical = (user[key] or None) if key in user else ALIASES.get(key)
        if key in user and canonical is None:
            match.switched_off.append(original)
        if canonical in taken:
            match.duplicates.append(original)
            canonical = None
        if canonical:
            taken.add(canonical)
        match.columns.append((position, original, canonical))
    match.missing = [c for c in required if c not in taken and not (c == "item_id" and SKU_CODE in taken)]
    match.unmatched = [str(k) for k in (extra or {}) if normalize_header(k) not in seen]
    return match


# ----- what is said when a column is missing ---------------------------------------------

_LINK = re.compile(r"https?://\S+|\S*(?:taobao|tmall|1688)\.com\S*", re.IGNORECASE)
_DIGITS = re.compile(r"[0-9]+")
_CONTENT_TESTS: dict[str, Callable[[str], bool]] = {
    "item_id": lambda v: bool(_LINK.fullmatch(v)) or (bool(_DIGITS.fullmatch(v)) and 6 <= len(v) <= 19),
    "receiver_mobile": lambda v: bool(re.fullmatch(r"(?:\+?86)?1[3-9][0-9]{9}", v.replace(" ", "").replace("-", ""))),
    "quantity": lambda v: bool(re.fullmatch(r"[1-9][0-9]{0,4}(?:\.0+)?", v)),
    "order_ref": lambda v: bool(re.fullmatch(r"[#A-Za-z0-9][\w\-#/]{2,39}", v)),
}
_NAME_CUTOFF = 0.6
_SURE_NAME = 0.85
"""A header this close to a column's name is guessed whatever its cells hold (``Item Idd`` for item_id)."""


def _name_score(header: str, column: str) -> float:
    """How close a header is to the column's name or one of its aliases (0 to 1)."""
    key = normalize_header(header)
    names = [normalize_header(column), *(alias for alias, c in ALIASES.items() if c == column)]
    return max(difflib.SequenceMatcher(None, key, name).ratio() for name in names)


def _content_score(values: Sequence[str], column: str) -> float | None:
    """The share of a column's filled cells that look like the column's values; None when unknown."""
    test = _CONTENT_TESTS.get(column)
    filled = [v.strip() for v in values if str(v).strip()]
    if test is None or not filled:
        return None
    return sum(1 for v in filled if test(v)) / len(filled)


def best_guesses(match: HeaderMatch, samples: Mapping[str, Sequence[str]] | None = None) -> dict[str, str]:
    """For each missing column, the unmatched header most like it, by name and by the cells under it.

    A header whose name is close but whose cells are clearly something else (a
    ``Product Cost`` column of prices for the item) is not guessed; a header
    whose cells are unmistakable (product links, 11-digit mobiles) is, even with
    an unlike name.
    """
    free = [original for _, original, canonical in match.columns if canonical is None]
    guesses: dict[str, str] = {}
    for column in match.missing:
        ranked: list[tuple[float, str]] = []
        for header in free:
            if header in guesses.values() or header in match.switched_off:
                continue
            name = _name_score(header, column)
            content = _content_score(samples.get(header, ()), column) if samples else None
            if content is None:
                score = name if name >= _NAME_CUTOFF else 0.0
            elif content < 0.5:
                score = name if name >= _SURE_NAME else 0.0
            else:
                score = name + content if name >= _NAME_CUTOFF or content >= 0.9 else 0.0
            if score > 0:
                ranked.append((score, header))
        if ranked:
            guesses[column] = max(ranked)[1]
    return guesses


BY_RECEIVER = 'group_by = "receiver"  # no order number: the rows of one receiver and address are one order'


def mapping_block(guesses: Mapping[str, str], *, by_receiver: bool = False) -> str:
    """A ``[headers]`` table that maps the guessed headers, ready to paste into a mapping file.

    With ``by_receiver`` (the sheet has no order number), the file groups rows
    into orders by receiver instead.
    """
    lines = [BY_RECEIVER] if by_receiver else []
    lines += ["[headers]", *(f'"{header}" = "{column}"' for column, header in guesses.items())]
    if not guesses and not by_receiver:
        lines.append('"their header" = "item_id"')
    return "\n".join(lines)


def missing_columns_message(
    match: HeaderMatch, samples: Mapping[str, Sequence[str]] | None = None, *, advice: bool = True
) -> str:
    """Say which required columns are missing, with the best guesses and every header found.

    With ``advice``, the message ends with a ``[headers]`` table to paste into
    a mapping file and says how to use it (``--mapping``, ``--provider``).
    """
    guesses = best_guesses(match, samples)
    parts = []
    for column in match.missing:
        hint = f"; did you mean '{guesses[column]}'?" if column in guesses else ""
        parts.append(f"no column for {column}{hint}")
    for key in match.unmatched:
        parts.append(f"the mapping's header '{key}' is not in the sheet{_closest(key, match)}")
    headers = ", ".join(f"'{h}'" for _, h, _ in match.columns) or "none"
    if not advice:
        return f"{'; '.join(parts)} (headers found: {headers})"
    block = mapping_block(guesses, by_receiver="order_ref" in match.missing and "order_ref" not in guesses)
    return (
        f"{'; '.join(parts)} (headers found: {headers}). To name the columns, save this in a file and run again "
        f"with --mapping FILE (and --provider KEY when the sheet has no provider column):\n{block}"
    )


def _closest(key: str, match: HeaderMatch) -> str:
    """The closest header to a mapping key the sheet lacks, as a clause of a message; '' when none is close."""
    found = {normalize_header(h): h for _, h, _ in match.columns}
    close = difflib.get_close_matches(normalize_header(key), list(found), n=1, cutoff=0.5)
    return f"; the closest header is '{found[close[0]]}'" if close else ""


assert set(ALIASES.values()) <= {*CANONICAL_COLUMNS, *EXTRA_TARGETS}, "an alias points at an unknown column"
