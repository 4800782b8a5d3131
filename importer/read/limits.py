"""Limits on what an input file may make the importer do, checked before the work starts.

An order sheet comes from many hands; a scheduled run must refuse a file that
would take the machine's memory or time (a zip bomb, a sheet far past Excel's
own size) with one sentence saying which limit was hit and how to change it.
Every limit can be set in the ``[limits]`` table of ``importer.toml``.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from ..config import EXCEL_MAX_ROWS, InputLimits
from ..errors import InputError

__all__ = ["EXCEL_MAX_ROWS", "InputLimits", "check_archive", "check_extent", "check_file", "check_rows"]


def check_file(limits: InputLimits, path: Path) -> None:
    """Refuse a file larger than ``max_file_mb`` before reading it."""
    size_mb = path.stat().st_size / 2**20
    if size_mb > limits.max_file_mb:
        raise InputError(
            f"the file is {size_mb:.0f} MB, above the limit of {limits.max_file_mb:g} MB "
            "(max_file_mb in the [limits] table of importer.toml)",
            file=path,
        )


def check_archive(limits: InputLimits, path: Path, archive: zipfile.ZipFile) -> None:
    """Refuse an .xlsx whose zip members would expand past the limits, before anything is unpacked.

    Python's zip reader stops each member at its declared size, so checking
    the declared sizes bounds what reading can ever produce.
    """
    members = archive.infolist()
    if len(members) > limits.max_zip_members:
        raise InputError(
            f"the workbook has {len(members)} parts, above the limit of {limits.max_zip_members} "
            "(max_zip_members); it is not an ordinary spreadsheet",
            file=path,
        )
    total_mb = sum(m.file_size for m in members) / 2**20
    if total_mb > limits.max_uncompressed_mb:
        raise InputError(
            f"the workbook unpacks to {total_mb:.0f} MB, above the limit of {limits.max_uncompressed_mb:g} MB "
            "(max_uncompressed_mb)",
            file=path,
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > 2**20 and ratio > limits.max_compression_ratio:
            raise InputError(
                f"the workbook part {member.filename} is compressed {ratio:.0f}:1, above the limit of "
                f"{limits.max_compression_ratio:g}:1 (max_compression_ratio); this looks like a zip bomb",
                file=path,
            )


def check_rows(limits: InputLimits, path: Path, rows: int, sheet: str | None = None) -> None:
    """Refuse a sheet with more data rows than ``max_rows``."""
    if rows > limits.max_rows:
        raise InputError(
            f"more than {limits.max_rows:,} data rows (max_rows in the [limits] table of importer.toml); "
            "split the file",
            file=path,
            sheet=sheet,
        )


# ----- the used range of each sheet, and what its cells can hold ----------------------------------------

_CHUNK = 1 << 22
_OVERLAP = 16
"""Bytes of one chunk seen again at the start of the next, so a cell reference across the cut is read whole."""
_REF_MARK = int(np.frombuffer(b' r="', dtype="<u4")[0])
_WINDOW = np.arange(12)
_EXCEL_COLUMNS = 16_384
SHARED_STRING_BYTES_PER_CELL = 256 * 1024
"""Most a shared string can take in the XML: 32,767 characters of up to 4 bytes, plus rich-text markup."""
SHARED_STRINGS_FLOOR = 1 << 20


@dataclass
class Extent:
    """The cells a worksheet's XML names: how many, and the rows and columns they span."""

    cells: int = 0
    first_row: int = 0
    last_row: int = 0
    first_column: int = 0
    last_column: int = 0

    @property
    def grid(self) -> int:
        """Cells of the used range, as a reader that makes a dense table (calamine) allocates them."""
        if not self.last_row:
            return 0
        return (self.last_row - self.first_row + 1) * (self.last_column - self.first_column + 1)

    def add(self, other: Extent) -> None:
        if not other.last_row:
            return
        if not self.last_row:
            self.first_row, self.first_column = other.first_row, other.first_column
        self.cells += other.cells
        self.first_row = min(self.first_row, other.first_row)
        self.last_row = max(self.last_row, other.last_row)
        self.first_column = min(self.first_column or other.first_column, other.first_column or self.first_column)
        self.last_column = max(self.last_column, other.last_column)


def sheet_extent(stream: IO[bytes]) -> Extent:
    """Read a worksheet's XML once and find the span of its cell and row references (``r="XFD1048576"``).

    Cheap enough for every sheet: the references are found a chunk at a
    time with numpy, without parsing the XML or making a Python object per cell.
    """
    extent = Extent()
    data = stream.read(_CHUNK)
    while data:
        following = stream.read(_CHUNK)
        cut = len(data) - _OVERLAP if following else len(data)
        extent.add(_chunk_extent(data, cut))
        data = data[cut:] + following if following else b""
    return extent


def _chunk_extent(data: bytes, cut: int) -> Extent:
    """The extent of the references that start before ``cut`` in ``data``."""
    starts = [
        np.flatnonzero(np.frombuffer(data, dtype="<u4", count=(len(data) - offset) // 4, offset=offset) == _REF_MARK)
        * 4
        + offset
        for offset in range(4)
        if len(data) - offset >= 4
    ]
    found = np.concatenate(starts) if starts else np.empty(0, dtype=np.int64)
    found = found[found < cut]
    if not len(found):
        return Extent()
    padded = np.concatenate([np.frombuffer(data, dtype=np.uint8), np.zeros(len(_WINDOW) + 4, dtype=np.uint8)])
    window = padded[found[:, None] + 4 + _WINDOW]  # the bytes after ' r="', one row per reference
    is_letter = (window[:, :4] >= 65) & (window[:, :4] <= 90)
    letters = np.zeros(len(found), dtype=np.int64)
    alive = np.ones(len(found), dtype=bool)
    columns = np.zeros(len(found), dtype=np.int64)
    for k in range(4):
        alive &= is_letter[:, k]
        letters += alive
        columns = np.where(alive, columns * 26 + window[:, k].astype(np.int64) - 64, columns)
    rows = np.zeros(len(found), dtype=np.int64)
    count = np.zeros(len(found), dtype=np.int64)
    for shift in range(4):  # the digits start after the letters
        group = letters == shift
        if not group.any():
            continue
        digits = window[group, shift : shift + 8].astype(np.int64) - 48
        value = np.zeros(int(group.sum()), dtype=np.int64)
        alive = np.ones(len(value), dtype=bool)
        for k in range(8):
            alive &= (digits[:, k] >= 0) & (digits[:, k] <= 9)
            value = np.where(alive, value * 10 + digits[:, k], value)
            count[group] += alive
        rows[group] = value
    rows[count > 7] = 10**8  # more digits than any sheet has rows: as far as it gets
    columns[letters > 3] = 10**8
    named = count > 0
    cells = named & (letters > 0)
    if not named.any():
        return Extent()
    return Extent(
        cells=int(cells.sum()),
        first_row=int(rows[named].min()),
        last_row=int(rows[named].max()),
        first_column=int(columns[cells].min()) if cells.any() else 1,
        last_column=int(columns[cells].max()) if cells.any() else 1,
    )


def column_letters(number: int) -> str:
    """1 -> A, 16384 -> XFD."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def check_extent(limits: InputLimits, path: Path, sheets: Iterable[tuple[str, str]]) -> None:
    """Refuse a workbook whose sheets span more cells than ``max_cells``, or whose shared strings its cells cannot hold.

    ``sheets`` are (sheet name, worksheet XML member). A reader that builds a
    dense table (calamine, fastexcel) allocates every cell of the used range:
    one stray cell at XFD1048576 asks for half a terabyte and aborts the
    process, so the range is measured from the XML before any reader sees
    it. The shared string table is bounded by what the sheets' cells can
    refer to, which stops a table of gigabytes behind a sheet of ten cells.
    """
    total = 0
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        for sheet, member in sheets:
            if member not in names:
                continue
            with archive.open(member) as stream:
                extent = sheet_extent(stream)
            total += extent.cells
            if extent.grid > limits.max_cells or extent.last_column > _EXCEL_COLUMNS:
                raise InputError(
                    f"the sheet uses cells up to {column_letters(min(extent.last_column, 10**6))}{extent.last_row} "
                    f"({extent.last_row - extent.first_row + 1:,} rows by "
                    f"{extent.last_column - extent.first_column + 1:,} columns, {extent.grid:,} cells), above the "
                    f"limit of {limits.max_cells:,} cells (max_cells); a stray cell far from the orders is usually "
                    "the cause: press Ctrl+End in Excel to find it, delete those rows and columns, and save again",
                    file=path,
                    sheet=sheet,
                )
        strings = [info for info in archive.infolist() if info.filename.lower().endswith("sharedstrings.xml")]
    declared = sum(info.file_size for info in strings)
    room = SHARED_STRINGS_FLOOR + total * SHARED_STRING_BYTES_PER_CELL
    if declared > room:
        raise InputError(
            f"the workbook's shared strings unpack to {declared / 2**20:,.0f} MB, more than its {total:,} cells can "
            "hold; this is not an ordinary spreadsheet (a zip bomb?); save it again from Excel",
            file=path,
        )
