"""The team's product catalogue: their own SKU (商家编码, ``Lineitem sku``) -> a provider's item_id and sku_id.

Shop exports carry the seller's SKU, not the ids a purchasing agent needs.
A catalogue file (CSV or XLSX, named by ``[run] catalogue`` in the config)
holds one row per SKU with the columns ``sku_code``, ``item_id`` and
optionally ``sku_id`` and ``provider`` (the header aliases apply: ``商家编码``,
``商品ID``...). Rows whose item_id is empty get the catalogue's ids; the
results say which catalogue row was used.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..csvsafe import escape, unescape
from ..errors import ConfigError
from .headers import ALIASES, SKU_CODE, normalize_header

CATALOGUE_COLUMNS: tuple[str, ...] = (SKU_CODE, "item_id", "sku_id", "provider", "title")


@dataclass(frozen=True)
class Entry:
    """One catalogue row; ``row`` is its row number in the file (the header is row 1)."""

    sku_code: str
    item_id: str
    sku_id: str = ""
    provider: str = ""
    row: int = 0


@dataclass(frozen=True)
class Catalogue:
    """The entries of one catalogue file, by the team's SKU."""

    path: Path
    entries: dict[str, Entry]

    def find(self, sku_code: str) -> Entry | None:
        return self.entries.get(sku_code.strip())


def load_catalogue(path: str | Path) -> Catalogue:
    """Read a catalogue file; a missing file, a missing column or a SKU listed twice is a ConfigError."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"catalogue {path} does not exist; create it with `order-importer catalogue add`")
    rows = list(_rows(path))
    if not rows:
        raise ConfigError(f"catalogue {path} is empty; it needs a header row with sku_code and item_id")
    positions = _positions(path, rows[0])
    entries: dict[str, Entry] = {}
    for number, row in enumerate(rows[1:], start=2):
        cells = {column: (row[p].strip() if p < len(row) else "") for column, p in positions.items()}
        if not cells[SKU_CODE]:
            continue
        if cells[SKU_CODE] in entries:
            first = entries[cells[SKU_CODE]].row
            raise ConfigError(f"catalogue {path} row {number}: sku_code '{cells[SKU_CODE]}' is also on row {first}")
        entries[cells[SKU_CODE]] = Entry(
            cells[SKU_CODE], cells["item_id"], cells.get("sku_id", ""), cells.get("provider", ""), number
        )
    return Catalogue(path, entries)


def _positions(path: Path, header: list[str]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for position, text in enumerate(header):
        key = normalize_header(text)
        column = SKU_CODE if key in (normalize_header(SKU_CODE), "sku") else ALIASES.get(key, key)
        if column in CATALOGUE_COLUMNS:
            positions.setdefault(column, position)
    for needed in (SKU_CODE, "item_id"):
        if needed not in positions:
            raise ConfigError(f"catalogue {path} has no {needed} column (headers: {', '.join(header)})")
    return positions


def _rows(path: Path) -> Iterator[list[str]]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            for values in book.worksheets[0].iter_rows(values_only=True):
                yield ["" if v is None else _text(v) for v in values]
        finally:
            book.close()
        return
    text = path.read_bytes().decode("utf-8-sig", errors="strict")
    for row in csv.reader(io.StringIO(text, newline="")):
        yield [unescape(cell) for cell in row]


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def add_entry(path: str | Path, entry: Entry) -> Path:
    """Add one SKU to a CSV catalogue (made with its header when absent); a SKU already there is refused."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        raise ConfigError(f"catalogue {path}: `catalogue add` writes CSV catalogues; edit an XLSX one in Excel")
    if path.exists():
        existing = load_catalogue(path).find(entry.sku_code)
        if existing is not None:
            raise ConfigError(f"catalogue {path} row {existing.row} already has sku_code '{entry.sku_code}'")
    new = not path.exists() or path.stat().st_size == 0
    with path.open("a", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        if new:
            writer.writerow(["sku_code", "item_id", "sku_id", "provider"])
        writer.writerow([escape(v) for v in (entry.sku_code, entry.item_id, entry.sku_id, entry.provider)])
    return path
