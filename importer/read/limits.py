"""Limits on what an input file may make the importer do, checked before the work starts.

An order sheet comes from many hands; a scheduled run must refuse a file that
would take the machine's memory or time (a zip bomb, a sheet far past Excel's
own size) with one sentence saying which limit was hit and how to change it.
Every limit can be set in the ``[limits]`` table of ``importer.toml``.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ..errors import ConfigError, InputError

EXCEL_MAX_ROWS = 1_048_576


@dataclass(frozen=True)
class InputLimits:
    """What one input file may hold; the defaults fit any sheet Excel itself can make."""

    max_file_mb: float = 200.0
    """Size of the file on disk."""
    max_rows: int = EXCEL_MAX_ROWS
    """Data rows over all sheets."""
    max_uncompressed_mb: float = 2048.0
    """Sum of the declared sizes of an .xlsx's zip members (zip bombs declare huge sizes)."""
    max_compression_ratio: float = 200.0
    """Uncompressed / compressed size of any one member; real sheets stay well under 100."""
    max_zip_members: int = 10_000
    """Members in an .xlsx archive."""

    @classmethod
    def from_config(cls, table: Mapping[str, Any]) -> InputLimits:
        """Limits from the ``[limits]`` table; unknown keys are refused so typos do not go unnoticed."""
        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(table) - set(known))
        if unknown:
            raise ConfigError(f"[limits] has unknown keys {unknown}; known: {', '.join(known)}")
        values: dict[str, Any] = {}
        for name, value in table.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ConfigError(f"[limits] {name} must be a number above 0; got {value!r}")
            values[name] = int(value) if name in ("max_rows", "max_zip_members") else float(value)
        return cls(**values)

    def check_file(self, path: Path) -> None:
        """Refuse a file larger than ``max_file_mb`` before reading it."""
        size_mb = path.stat().st_size / 2**20
        if size_mb > self.max_file_mb:
            raise InputError(
                f"the file is {size_mb:.0f} MB, above the limit of {self.max_file_mb:g} MB "
                "(max_file_mb in the [limits] table of importer.toml)",
                file=path,
            )

    def check_archive(self, path: Path, archive: zipfile.ZipFile) -> None:
        """Refuse an .xlsx whose zip members would expand past the limits, before anything is unpacked.

        Python's zip reader stops each member at its declared size, so checking
        the declared sizes bounds what reading can ever produce.
        """
        members = archive.infolist()
        if len(members) > self.max_zip_members:
            raise InputError(
                f"the workbook has {len(members)} parts, above the limit of {self.max_zip_members} "
                "(max_zip_members); it is not an ordinary spreadsheet",
                file=path,
            )
        total_mb = sum(m.file_size for m in members) / 2**20
        if total_mb > self.max_uncompressed_mb:
            raise InputError(
                f"the workbook unpacks to {total_mb:.0f} MB, above the limit of {self.max_uncompressed_mb:g} MB "
                "(max_uncompressed_mb)",
                file=path,
            )
        for member in members:
            ratio = member.file_size / max(member.compress_size, 1)
            if member.file_size > 2**20 and ratio > self.max_compression_ratio:
                raise InputError(
                    f"the workbook part {member.filename} is compressed {ratio:.0f}:1, above the limit of "
                    f"{self.max_compression_ratio:g}:1 (max_compression_ratio); this looks like a zip bomb",
                    file=path,
                )

    def check_rows(self, path: Path, rows: int, sheet: str | None = None) -> None:
        """Refuse a sheet with more data rows than ``max_rows``."""
        if rows > self.max_rows:
            raise InputError(
                f"more than {self.max_rows:,} data rows (max_rows in the [limits] table of importer.toml); "
                "split the file",
                file=path,
                sheet=sheet,
            )
