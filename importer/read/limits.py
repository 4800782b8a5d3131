"""Limits on what an input file may make the importer do, checked before the work starts.

An order sheet comes from many hands; a scheduled run must refuse a file that
would take the machine's memory or time (a zip bomb, a sheet far past Excel's
own size) with one sentence saying which limit was hit and how to change it.
Every limit can be set in the ``[limits]`` table of ``importer.toml``.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..config import EXCEL_MAX_ROWS, InputLimits
from ..errors import InputError

__all__ = ["EXCEL_MAX_ROWS", "InputLimits", "check_archive", "check_file", "check_rows"]


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
