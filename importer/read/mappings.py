"""Mapping profiles: how a sheet from another system (a shop export, an ERP, a template) becomes an order sheet.

A profile says which of its headers are which column (``headers``), which
columns to switch off (``ignore``, or ``"header" = ""``), how to translate
values (``values``: 平台 ``淘宝`` -> a provider key), which combined cell to
split (``split = ["address"]``), the provider for rows without one and how
rows form orders when the sheet has no order number (``group_by = "row"`` or
``"receiver"``). Profiles come built in (``read/profiles/*.toml``, one per
export the teams have), from the config (``[mappings.NAME]``) or from a file
(``--mapping FILE``); a sheet whose headers hold a profile's ``detect``
headers gets that profile without being told.

Every key of a profile is checked when it is loaded: a misspelt key or
column is an error naming the closest real one, so a mapping never does
less than its author meant without a word.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import re
import tomllib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ConfigError
from ..models import CANONICAL_COLUMNS, ROW_COL, SHEET_COL, CellError, OrderSheet
from .catalogue import Catalogue, load_catalogue
from .headers import EXTRA_TARGETS, SKU_CODE, HeaderRules, normalize_header

PROFILE_DIR = Path(__file__).parent / "profiles"
GROUP_BY = ("order_ref", "row", "receiver")
SPLITTABLE = ("address",)
TARGETS: tuple[str, ...] = (*CANONICAL_COLUMNS, *EXTRA_TARGETS)
_KEYS = ("title", "detect", "headers", "ignore", "values", "split", "provider", "group_by", "needs", "notes")
_RECEIVER_KEY = ("receiver_name", "receiver_mobile", "receiver_phone", "province", "city", "district", "address")


@dataclass(frozen=True)
class Profile:
    """One mapping profile, checked; ``source`` says where it came from (built in, the config, a file)."""

    name: str
    source: str
    title: str = ""
    detect: tuple[str, ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    ignore: tuple[str, ...] = ()
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    split: tuple[str, ...] = ()
    provider: str = ""
    group_by: str = "order_ref"
    needs: str = ""
    """What to add when the export lacks the provider's ids (said on every row that has none)."""
    strict: bool = True
    """Every header named must be in the sheet (a user's profile); a built-in one lists headers an export may lack."""

    @property
    def mapping(self) -> dict[str, str]:
        """Header -> column, with the ignored headers mapped to "" (switched off)."""
        return {**self.headers, **dict.fromkeys(self.ignore, "")}

    def required(self, required: Collection[str]) -> list[str]:
        """The columns a sheet must have under this profile: no order number when rows are grouped otherwise."""
        return [c for c in required if not (c == "order_ref" and self.group_by != "order_ref")]

    def describe(self) -> str:
        return f"'{self.name}' (" + (f"{self.title}; " if self.title else "") + f"{self.source})"

    def header_rules(self) -> HeaderRules:
        """What the reader matches every header row with: this profile's headers and required columns."""
        return _ProfileRules(self)


class _ProfileRules(HeaderRules):
    def __init__(self, profile: Profile) -> None:
        self.profile = profile

    def for_headers(
        self, headers: Sequence[object], required: Collection[str]
    ) -> tuple[Mapping[str, str], Collection[str]]:
        return self.profile.mapping, self.profile.required(required)


def parse_profile(name: str, table: Mapping[str, Any], source: str, *, strict: bool = True) -> Profile:
    """Check one profile table; every unknown key or column is a ConfigError naming the closest known one."""
    where = f"mapping '{name}' ({source})"
    _known_keys(where, table, _KEYS)
    headers = _string_table(where, "headers", table.get("headers", {}))
    wrong = {header: column for header, column in headers.items() if column and column not in TARGETS}
    if wrong:
        raise ConfigError(f"{where}: {wrong} map to unknown columns; use one of {', '.join(TARGETS)}")
    values_table = table.get("values", {})
    if not isinstance(values_table, Mapping):
        raise ConfigError(f"{where}: values must be a table of [values.COLUMN] tables")
    for column in values_table:
        if column not in TARGETS:
            raise ConfigError(f"{where}: [values.{column}] names no column{_closest(column, TARGETS)}")
    values = {str(c): _string_table(where, f"values.{c}", v) for c, v in values_table.items()}
    split = _string_list(where, "split", table.get("split", []))
    for column in split:
        if column not in SPLITTABLE:
            raise ConfigError(f"{where}: split '{column}' cannot be split; split can name {', '.join(SPLITTABLE)}")
    group_by = str(table.get("group_by", "order_ref"))
    if group_by not in GROUP_BY:
        raise ConfigError(f"{where}: group_by must be one of {', '.join(GROUP_BY)}; got '{group_by}'")
    return Profile(
        name=name,
        source=source,
        title=str(table.get("title", "")),
        detect=tuple(_string_list(where, "detect", table.get("detect", []))),
        headers=headers,
        ignore=tuple(_string_list(where, "ignore", table.get("ignore", []))),
        values=values,
        split=tuple(split),
        provider=str(table.get("provider", "")),
        group_by=group_by,
        needs=str(table.get("needs", "")),
        strict=strict,
    )


def _known_keys(where: str, table: Mapping[str, Any], known: Sequence[str]) -> None:
    for key in table:
        if key not in known:
            raise ConfigError(f"{where}: unknown key '{key}'{_closest(key, known)}; known keys: {', '.join(known)}")


def _closest(word: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), list(known), n=1, cutoff=0.5)
    return f"; did you mean '{close[0]}'?" if close else ""


def _string_table(where: str, key: str, value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigError(f'{where}: {key} must be a table of "text" = "text"')
    return {str(k): str(v) for k, v in value.items()}


def _string_list(where: str, key: str, value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: {key} must be a list of texts")
    return [str(v) for v in value]


# ----- where profiles come from ----------------------------------------------------------------


def builtin_profiles() -> dict[str, Profile]:
    """The profiles shipped with the importer, one file each, by name."""
    return dict(_builtin_profiles())


@functools.cache
def _builtin_profiles() -> dict[str, Profile]:
    profiles = {}
    for path in sorted(PROFILE_DIR.glob("*.toml")):
        table = tomllib.loads(path.read_text(encoding="utf-8"))
        profiles[path.stem] = parse_profile(path.stem, table, "built-in", strict=False)
    return profiles


def configured_profiles(tables: Mapping[str, Any]) -> dict[str, Profile]:
    """The config's ``[mappings.NAME]`` tables as profiles."""
    profiles = {}
    for name, table in tables.items():
        if not isinstance(table, Mapping):
            raise ConfigError(f"[mappings.{name}] must be a table")
        profiles[str(name)] = parse_profile(str(name), table, "from the config")
    return profiles


def profile_file(path: Path) -> Profile:
    """A mapping file: a profile's keys at the top (``[headers]``, ``ignore``, ``[values.provider]``...)."""
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"mapping file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"mapping file {path}: {error}") from None
    try:
        return parse_profile(path.stem, table, f"mapping file {path}")
    except ConfigError as error:
        raise ConfigError(
            str(error).replace(f"mapping '{path.stem}' (mapping file {path})", f"mapping file {path}")
        ) from None


MappingArg = str | Path | Profile | Mapping[str, str] | None
"""What names a mapping: nothing (pick by the headers), a file, a profile's name, a profile, or header -> column."""


def resolve_mapping(mapping: MappingArg, configured: Mapping[str, Any] | None = None) -> Profile | ProfileChooser:
    """The profile to read a sheet with, or a chooser that picks one by the sheet's headers."""
    if isinstance(mapping, Profile):
        return mapping
    profiles = {**builtin_profiles(), **configured_profiles(configured or {})}
    if mapping is None:
        return ProfileChooser(list(profiles.values()))
    if isinstance(mapping, Mapping):
        return parse_profile("--mapping", {"headers": dict(mapping)}, "given in code")
    text = str(mapping)
    if text in profiles:
        return profiles[text]
    path = Path(text)
    if path.suffix.lower() == ".toml" or path.exists() or "/" in text or "\\" in text:
        return profile_file(path)
    raise ConfigError(
        f"--mapping '{text}' is neither a file nor a mapping profile{_closest(text, profiles)}; "
        f"profiles: {', '.join(sorted(profiles))}"
    )


class ProfileChooser(HeaderRules):
    """Picks, per header row, the profile all of whose ``detect`` headers the row has (the most specific one)."""

    def __init__(self, profiles: Sequence[Profile]) -> None:
        self.profiles = [p for p in profiles if p.detect]
        self.chosen: Profile | None = None

    def for_headers(
        self, headers: Sequence[object], required: Collection[str]
    ) -> tuple[Mapping[str, str], Collection[str]]:
        present = {normalize_header(h) for h in headers if h is not None}
        fits = [p for p in self.profiles if all(normalize_header(d) in present for d in p.detect)]
        if not fits:
            return {}, required
        best = max(fits, key=lambda p: len(p.detect))
        self.chosen = best
        return best.mapping, best.required(required)

    def header_rules(self) -> HeaderRules:
        return self


def profile_used(rules: Profile | ProfileChooser) -> Profile | None:
    """The profile a sheet was read with: the one named, or the one the chooser picked (None: plain headers)."""
    return rules.chosen if isinstance(rules, ProfileChooser) else rules


# ----- applying a profile to the sheet read --------------------------------------------------------


def apply_profile(sheet: OrderSheet, profile: Profile | None, catalogue: str | Path | None = None) -> None:
    """Finish a sheet read with ``profile``: values, split, provider, catalogue, derived order numbers.

    What is filled in is noted per row in ``sheet.filled_in`` (shown in the
    results); what cannot be done is a CellError in ``sheet.issues``.
    """
    frame = sheet.frame
    filled: dict[int, list[str]] = {}
    if profile is not None:
        if profile.strict:
            _check_headers_present(sheet, profile)
        if profile.group_by != "order_ref":  # from the cells as read, before anything is filled in
            _derive_order_refs(sheet, profile.group_by, filled)
        _map_values(frame, profile)
        if profile.provider:
            _fill(frame, "provider", pd.Series(profile.provider, index=frame.index))
        if "address" in profile.split and "address" in frame:
            _split_addresses(sheet, filled)
        sheet.notes.insert(0, f"mapping profile {profile.describe()} was used")
        sheet.profile = profile.name
    if "item_id" in frame:
        _from_links(sheet, filled)
    if SKU_CODE in frame:
        _from_catalogue(sheet, load_catalogue(catalogue) if catalogue else None, profile, filled)
    sheet.filled_in = {row: "; ".join(texts) for row, texts in filled.items()}


def _check_headers_present(sheet: OrderSheet, profile: Profile) -> None:
    present = {normalize_header(h) for h in (*sheet.header_map, *sheet.frame.columns)}
    for header in (*profile.headers, *profile.ignore):
        if normalize_header(header) not in present:
            real = [h for h in (*sheet.header_map, *sheet.frame.columns) if not str(h).startswith("_")]
            raise ConfigError(
                f"mapping {profile.describe()}: the header '{header}' is not in the sheet"
                f"{_closest(header, real)}; headers: {', '.join(map(str, real))}"
            )


def _map_values(frame: pd.DataFrame, profile: Profile) -> None:
    for column, table in profile.values.items():
        if column in frame:
            by_key = {normalize_header(k): v for k, v in table.items()}
            frame[column] = [by_key.get(normalize_header(v), v) if v else v for v in frame[column].tolist()]


def _fill(frame: pd.DataFrame, column: str, values: pd.Series) -> pd.Series:
    """Put ``values`` into the empty cells of ``column`` (made when absent); returns which cells were filled."""
    if column not in frame:
        frame[column] = ""
    empty = frame[column].astype(str).str.strip() == ""
    frame.loc[empty, column] = values[empty]
    return empty & (values.astype(str) != "")


def _split_addresses(sheet: OrderSheet, filled: dict[int, list[str]]) -> None:
    """Split each combined address whose province, city and district are empty; warn where it is unsure."""
    from .address import split_addresses

    frame = sheet.frame
    parts = [c for c in ("province", "city", "district") if c in frame]
    unsplit = pd.Series(True, index=frame.index)
    for column in parts:
        unsplit &= frame[column].astype(str).str.strip() == ""
    unsplit &= frame["address"].astype(str).str.strip() != ""
    rows = frame.index[unsplit]
    found = split_addresses([str(v).strip() for v in frame.loc[rows, "address"]])
    for column in ("province", "city", "district"):
        if column not in frame:
            frame[column] = ""
    for row_id, parts_found in zip(rows, found, strict=True):
        text = str(frame.at[row_id, "address"])
        if parts_found is None:
            sheet.issues.append(_warning(frame, row_id, "address", text, _UNSURE))
            continue
        frame.loc[row_id, ["province", "city", "district", "address"]] = [
            parts_found.province,
            parts_found.city,
            parts_found.district,
            parts_found.street,
        ]
        shown = " / ".join((parts_found.province, parts_found.city, parts_found.district, parts_found.street))
        filled.setdefault(int(row_id), []).append(f"address split: {shown}")


_UNSURE = (
    "address: could not be split into province, city and district with confidence, so it was left whole; "
    "write it as 省 市 区 street, or fill province, city and district columns"
)


def _warning(frame: pd.DataFrame, row_id: Any, column: str, value: str, message: str) -> CellError:
    return CellError(
        int(row_id), str(frame.at[row_id, SHEET_COL]), _row(frame, row_id), column, value, message,
        check=f"{column}.profile", severity="warning",
    )  # fmt: skip


def _error(frame: pd.DataFrame, row_id: Any, column: str, value: str, message: str) -> CellError:
    return CellError(
        int(row_id), str(frame.at[row_id, SHEET_COL]), _row(frame, row_id), column, value, message,
        check=f"{column}.read",
    )  # fmt: skip


def _row(frame: pd.DataFrame, row_id: Any) -> int:
    return int(str(frame.at[row_id, ROW_COL]))


def _from_catalogue(
    sheet: OrderSheet, catalogue: Catalogue | None, profile: Profile | None, filled: dict[int, list[str]]
) -> None:
    """Rows with the team's SKU and no item_id (or no sku_id) get the catalogue's ids.

    A row without an item_id whose SKU the catalogue lacks gets an error
    saying what to add; a row with an item_id takes only the sku_id, and only
    from an entry for that same item.
    """
    frame = sheet.frame
    for column in ("item_id", "sku_id"):
        if column not in frame:
            frame[column] = ""
    header = next((h for h, c in sheet.header_map.items() if c == SKU_CODE), SKU_CODE)
    items, skus = frame["item_id"].astype(str).str.strip(), frame["sku_id"].astype(str).str.strip()
    wanted = ((items == "") | (skus == "")) & (frame[SKU_CODE].astype(str).str.strip() != "")
    for row_id in frame.index[wanted]:
        code = str(frame.at[row_id, SKU_CODE]).strip()
        entry = catalogue.find(code) if catalogue is not None else None
        item = items[row_id]
        if entry is None or (item and entry.item_id != item):
            if not item:  # with an item_id and no sku_id the provider decides; without an item there is no order
                sheet.issues.append(_error(frame, row_id, "item_id", "", _no_entry(code, header, catalogue, profile)))
            continue
        assert catalogue is not None  # an entry was found in it
        used = []
        if not item:
            frame.at[row_id, "item_id"] = entry.item_id
            used.append(f"item_id {entry.item_id}")
        if entry.sku_id and not skus[row_id]:
            frame.at[row_id, "sku_id"] = entry.sku_id
            used.append(f"sku_id {entry.sku_id}")
        if entry.provider:
            if "provider" not in frame:
                frame.insert(0, "provider", "")
            if not str(frame.at[row_id, "provider"]).strip():
                frame.at[row_id, "provider"] = entry.provider
        if used:
            text = f"catalogue {catalogue.path.name} row {entry.row}: {code} -> {', '.join(used)}"
            filled.setdefault(int(row_id), []).append(text)


def _no_entry(code: str, header: str, catalogue: Catalogue | None, profile: Profile | None) -> str:
    add = f"order-importer catalogue add '{code}' --item-id ID [--sku-id ID]"
    if catalogue is not None:
        return f"item_id: {header} '{code}' is not in the catalogue {catalogue.path}; add it with `{add}`"
    needs = f" {profile.needs}" if profile is not None and profile.needs else ""
    return (
        f"item_id: the row has {header} '{code}' but no provider product id.{needs} Add an item_id column "
        f'(the product id or link), or name a catalogue ([run] catalogue = "catalogue.csv") that maps '
        f"{header} to item_id and sku_id: `{add}`"
    )


_SKU_IN_LINK = re.compile(r"(?:taobao|tmall)\.com/.*[?&#](?:skuId|sku_id)=([0-9]+)", re.IGNORECASE)
_SHARE_TEXT = re.compile(r"[￥$€₴][A-Za-z0-9]{8,14}[￥$€₴]|m\.tb\.cn/|tb\.cn/|复制.*(?:淘宝|打开)|【(?:淘宝|天猫)】")
SHARE_TEXT_MESSAGE = (
    "item_id: this is a Taobao share text (淘口令), not a product link; open it in the Taobao app, open the product, "
    "tap 分享 → 复制链接 and open that link in a browser: put the item.taobao.com/item.htm?id=… (or detail.tmall.com) "
    "address it shows here, or just its id digits"
)


def sku_id_from_link(text: str) -> str | None:
    """The ``skuId`` a Taobao or Tmall product link carries, or None."""
    found = _SKU_IN_LINK.search(text)
    return found.group(1) if found else None


def _from_links(sheet: OrderSheet, filled: dict[int, list[str]]) -> None:
    """A link's skuId fills an empty sku_id; a 淘口令 share text in item_id gets a message on how to get the link."""
    frame = sheet.frame
    items = frame["item_id"].astype(str).tolist()
    skus = frame["sku_id"].astype(str).tolist() if "sku_id" in frame else [""] * len(items)
    for position, (item, sku) in enumerate(zip(items, skus, strict=True)):
        if "://" not in item and "￥" not in item and "tb.cn" not in item and "【" not in item:
            continue  # the usual cell, an id: nothing to look at
        row_id = frame.index[position]
        if _SHARE_TEXT.search(item):
            sheet.issues.append(_error(frame, row_id, "item_id", item, SHARE_TEXT_MESSAGE))
            continue
        from_link = sku_id_from_link(item)
        if from_link and not sku.strip():
            if "sku_id" not in frame:
                frame["sku_id"] = ""
            frame.at[row_id, "sku_id"] = from_link
            filled.setdefault(int(row_id), []).append(f"sku_id {from_link} from the link's skuId")


def _derive_order_refs(sheet: OrderSheet, group_by: str, filled: dict[int, list[str]]) -> None:
    """Give rows without an order number one made from the file name and their cells, the same every run.

    The cells are taken as read, before a split, a value mapping or the
    catalogue fills anything in, so a changed catalogue never renumbers an
    order that may have been bought already.

    ``row``: each row is an order (identical rows are told apart by how many
    came before). ``receiver``: rows with the same receiver and address are
    one order; a row whose receiver cells are all blank (merged with the row
    above, or left for it) belongs to the order above.
    """
    frame = sheet.frame
    if "order_ref" not in frame:
        frame["order_ref"] = ""
    source = sheet.source.name if sheet.source is not None else ""
    empty = frame["order_ref"].astype(str).str.strip() == ""
    if group_by == "receiver":
        columns = [c for c in _RECEIVER_KEY if c in frame]
        prefix = "RCV"
    else:
        columns = [c for c in frame.columns if not str(c).startswith("_") and c != "order_ref"]
        prefix = "ROW"
    seen: dict[str, int] = {}
    previous = ""
    for row_id in frame.index[empty]:
        cells = [str(frame.at[row_id, c]).strip() for c in columns]
        if group_by == "receiver" and previous and not any(cells):
            frame.at[row_id, "order_ref"] = previous  # receiver cells merged or left blank: the order above
            filled.setdefault(int(row_id), []).append(f"order_ref {previous} (the receiver of the row above)")
            continue
        content = "\x1f".join(cells)
        if group_by == "row":
            seen[content] = seen.get(content, 0) + 1
            content += f"\x1f{seen[content]}"
        digest = hashlib.sha256(f"{source}\x1e{content}".encode()).hexdigest()[:12].upper()
        frame.at[row_id, "order_ref"] = previous = f"{prefix}-{digest}"
        how = "one order per row" if group_by == "row" else "one order per receiver"
        filled.setdefault(int(row_id), []).append(f"order_ref {prefix}-{digest} ({how})")
