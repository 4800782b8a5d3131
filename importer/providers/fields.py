"""Each adapter's request fields and endpoints as a table: where each value comes from, and on what evidence.

One table per adapter (``Provider.FIELDS`` and ``Provider.ENDPOINTS``) serves
three readers, so they cannot disagree:

- :func:`sheet_words` rewrites a provider's refusal that names a request field
  (``addressParam needs provinceText``) in the sheet's words (``province (省)
  is needed by xportcn-ka-1688``), keeping the provider's own text beside it;
- ``docs/providers.md`` is generated from it (:func:`providers_markdown`), and a
  test checks the file is what the tables give;
- the adapters' option readers (:func:`read_flag`, :func:`read_choice`) refuse
  an option of the wrong type instead of reading ``"false"`` as true.

``basis`` is "documented" (the document and section are named) or "inferred"
(no document shows it; PROVIDERS.md says what it rests on).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

DOCUMENTED = "documented"
INFERRED = "inferred"

SHEET_LABELS: Mapping[str, str] = {
    "order_ref": "订单号",
    "line_no": "行号",
    "item_id": "商品ID",
    "sku_id": "SKU ID",
    "quantity": "数量",
    "unit_price": "单价",
    "title": "商品名称",
    "line_remark": "商品备注",
    "receiver_name": "收货人",
    "receiver_phone": "电话",
    "receiver_mobile": "手机",
    "country": "国家",
    "province": "省",
    "city": "市",
    "district": "区",
    "town": "镇/街道",
    "address": "详细地址",
    "zip": "邮编",
    "tax_id": "税号",
    "order_remark": "订单备注",
    "order_source": "订单来源",
    "district_code": "地区编码",
}
"""The Chinese header users know each sheet column by (the templates' and header aliases' word)."""

_NEEDS = re.compile(r"required|needs?|missing|empty|必填|缺少|不能为空", re.IGNORECASE)
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'')
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


@dataclass(frozen=True)
class Endpoint:
    """One call an adapter makes."""

    role: str
    """What it is for: preview, create, lookup, mapping, token refresh, check-config."""
    method: str
    path: str
    basis: str
    source: str
    """The document and section, or what the inference rests on."""
    default: str
    """Whether the adapter calls it by default, and when."""


@dataclass(frozen=True)
class RequestField:
    """One field of a request body (dotted for nested keys) and the value the adapter sends."""

    name: str
    value: str
    """Where the value comes from: a sheet column, an account option, the importer."""
    basis: str
    source: str
    default: str = ""
    """The adapter's value when the sheet and the config give none."""
    column: str = ""
    """The sheet column a refusal naming this field is reported in."""


def sheet_words(fields: Sequence[RequestField], provider: str, message: str) -> str | None:
    """``message`` in the sheet's words when it names a request field that comes from a column; else None."""
    columns = _named_columns(fields, message)
    if not columns:
        return None
    verb = "is needed by" if _NEEDS.search(message) else "was refused by"
    named = ", ".join(f"{column} ({SHEET_LABELS.get(column, column)})" for column in columns)
    return f"{named} {verb} {provider} (the provider said: {message})"


def _named_columns(fields: Sequence[RequestField], message: str) -> list[str]:
    """The sheet columns of the fields a message names, in the order the message names them.

    Quoted text (a value the provider echoes back) is not read: field names
    inside it are data, not what the provider complains of.
    """
    message = _QUOTED.sub(lambda quoted: " " * len(quoted.group()), message)
    found: dict[str, int] = {}
    for field in fields:
        if not field.column:
            continue
        leaf = field.name.rsplit(".", 1)[-1]
        match = re.search(rf"(?<![\w]){re.escape(leaf)}(?![\w])", message)
        if match is not None:
            found[field.column] = min(found.get(field.column, match.start()), match.start())
    return sorted(found, key=lambda column: found[column])


def read_flag(options: Mapping[str, Any], name: str, default: bool, provider: str) -> bool:
    """A yes/no option: a TOML boolean, or the words true/false (yes/no, on/off, 1/0); anything else is refused."""
    value = options.get(name, default)
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if isinstance(value, str | int) and word in _TRUE | _FALSE:
        return word in _TRUE
    raise ConfigError(f"[providers.{provider}] {name} must be true or false; got {value!r}")


def read_choice(options: Mapping[str, Any], name: str, default: str, choices: Iterable[str], provider: str) -> str:
    """A text option that must be one of a few words."""
    allowed = tuple(choices)
    value = options.get(name, default)
    if not isinstance(value, str) or value not in allowed:
        shown = ", ".join(f'"{choice}"' for choice in allowed)
        raise ConfigError(f"[providers.{provider}] {name} must be one of {shown}; got {value!r}")
    return value


def read_text(options: Mapping[str, Any], name: str, default: str, provider: str) -> str:
    """A text option (a TOML string or number, read as text); a table or a list is refused."""
    value = options.get(name, default)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ConfigError(f"[providers.{provider}] {name} must be text; got {value!r}")
    return str(value).strip()


def provider_markdown(key: str, title: str, endpoints: Sequence[Endpoint], fields: Sequence[RequestField]) -> str:
    """One provider's section of docs/providers.md."""
    lines = [f"## {title} (`{key}`)", "", "| call | endpoint | source | by default |", "|---|---|---|---|"]
    lines += [f"| {e.role} | `{e.method} {e.path}` | {_source(e.basis, e.source)} | {e.default} |" for e in endpoints]
    lines += ["", "| field | value sent | source | default |", "|---|---|---|---|"]
    lines += [f"| `{f.name}` | {f.value} | {_source(f.basis, f.source)} | {f.default or '-'} |" for f in fields]
    return "\n".join(lines) + "\n"


def _source(basis: str, source: str) -> str:
    return f"**{basis}**: {source}" if source else f"**{basis}**"
