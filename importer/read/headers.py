"""Forgiving header matching: the headers people type, mapped to the canonical columns.

Headers are compared after normalising width (full-width ``ＩＤ`` is ``ID``),
case, spaces and punctuation, so ``Item ID``, ``item-id``, ``itemId`` and
``ITEM_ID`` are one header. English variants and the Chinese headers of
Chinese buying sheets are listed in :data:`ALIASES`, which is plain data:
extend it, or pass a user mapping (``--mapping``), rather than adding code.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from ..models import CANONICAL_COLUMNS, ERROR_COLUMN_COL, RESULT_COLUMNS

REQUIRED_COLUMNS: tuple[str, ...] = ("order_ref", "item_id", "quantity")

_PUNCTUATION = re.compile(r"[\s_\-./:：*()（）]+")


def normalize_header(text: object) -> str:
    """Fold width, case, spaces and punctuation so headers typed differently compare equal."""
    folded = unicodedata.normalize("NFKC", "" if text is None else str(text)).casefold()
    return _PUNCTUATION.sub("", folded)


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
    ),
    "sku_id": ("sku", "sku id", "skuid", "spec id", "specid", "规格id", "sku编号", "skuid编号"),
    "quantity": ("qty", "quantity", "count", "数量", "购买数量", "采购数量"),
    "unit_price": ("price", "unit price", "expected price", "单价", "价格", "采购单价"),
    "currency": ("currency code", "币种", "货币"),
    "title": ("item title", "product name", "item name", "商品名称", "标题", "商品标题"),
    "line_remark": ("line remark", "line note", "item remark", "商品备注"),
    "receiver_name": ("name", "receiver", "recipient", "consignee", "full name", "收件人", "收货人", "收件人姓名"),
    "receiver_phone": ("phone", "tel", "telephone", "电话", "联系电话", "固定电话"),
    "receiver_mobile": ("mobile", "cell", "mobile phone", "cellphone", "手机", "手机号", "手机号码"),
    "country": ("国家",),
    "province": ("state", "province state", "省", "省份"),
    "city": ("城市", "市"),
    "district": ("area", "county", "区", "区县", "县区"),
    "address": ("street", "street address", "detailed address", "详细地址", "地址", "收货地址"),
    "zip": ("zip code", "zipcode", "postcode", "postal code", "post code", "邮编", "邮政编码"),
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
    "order_remark": ("remark", "note", "order note", "comment", "备注", "订单备注", "买家留言"),
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
    """

    columns: list[tuple[int, str, str | None]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    earlier: list[tuple[int, str]] = field(default_factory=list)
    """(position, internal label) of the ignored columns still read (:data:`EARLIER_COLUMNS`)."""
    duplicates: list[str] = field(default_factory=list)

    @property
    def known(self) -> int:
        """How many headers matched a canonical column."""
        return sum(1 for _, _, canonical in self.columns if canonical)

    def canonical_to_original(self) -> dict[str, str]:
        return {canonical: original for _, original, canonical in self.columns if canonical}


def match_headers(
    headers: Sequence[object],
    *,
    extra: Mapping[str, str] | None = None,
    required: Collection[str] = REQUIRED_COLUMNS,
) -> HeaderMatch:
    """Match a header row; ``extra`` (original header -> canonical) wins over the built-in aliases."""
    user = {normalize_header(k): v for k, v in (extra or {}).items()}
    match = HeaderMatch()
    taken: set[str] = set()
    for position, header in enumerate(headers):
        original = "" if header is None else str(header).strip()
        if not original:
            continue
        key = normalize_header(original)
        if key in IGNORED_HEADERS and key not in user:
            match.ignored.append(original)
            if key in EARLIER_COLUMNS and EARLIER_COLUMNS[key] not in dict(match.earlier).values():
                match.earlier.append((position, EARLIER_COLUMNS[key]))
            continue
        canonical = user.get(key) or ALIASES.get(key)
        if canonical in taken:
            match.duplicates.append(original)
            canonical = None
        if canonical:
            taken.add(canonical)
        match.columns.append((position, original, canonical))
    match.missing = [c for c in required if c not in taken]
    return match


def missing_columns_message(match: HeaderMatch) -> str:
    """Say which required columns are missing, with the closest headers found and every header found."""
    found = [original for _, original, canonical in match.columns if canonical is None]
    normalized = {normalize_header(h): h for h in found}
    parts = []
    for column in match.missing:
        candidates = [column, *(a for a, c in ALIASES.items() if c == column)]
        close: list[str] = []
        for candidate in candidates:
            close += difflib.get_close_matches(normalize_header(candidate), list(normalized), n=1, cutoff=0.6)
        hint = f"; did you mean '{normalized[close[0]]}'?" if close else ""
        parts.append(f"no column for {column}{hint}")
    headers = ", ".join(f"'{h}'" for _, h, _ in match.columns) or "none"
    return f"{'; '.join(parts)} (headers found: {headers})"


assert set(ALIASES.values()) <= set(CANONICAL_COLUMNS), "an alias points at an unknown column"
