"""The server's private files: one folder per upload (the sheet, its mapping, preview, results).

Everything lives under the data folder, made 0700, each file 0600, so only
the server's user can read the sheets (they hold receivers' names and
phones). Folders older than ``keep_days`` are deleted on start and after
each upload.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from ..errors import InputError

_CHUNK = 1 << 20
_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
ALLOWED_SUFFIXES = (".xlsx", ".xlsm", ".csv")


@dataclass
class Upload:
    """One uploaded sheet and what the user chose for it."""

    upload_id: str
    filename: str
    user: str
    created: float
    mapping: dict[str, str] = field(default_factory=dict)
    """Header in the sheet -> importer column ('' ignores the header); empty: the built-in matching."""
    value_map: dict[str, dict[str, str]] = field(default_factory=dict)
    """Column -> {value in the sheet: value to use}, e.g. provider names to provider keys."""


def private_dir(path: Path) -> Path:
    """A folder only the server's user can open."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    return path


def private_file(path: Path) -> Path:
    """Make the file (empty) readable only by the server's user, when it does not exist yet."""
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    return path


def write_private(path: Path, data: bytes) -> Path:
    """Write a file only the server's user can read, through a temporary file."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
    return path


class Storage:
    """The data folder: ``uploads/<id>/`` per sheet."""

    def __init__(self, data_dir: Path, keep_days: float) -> None:
        self.root = private_dir(data_dir)
        self.uploads = private_dir(data_dir / "uploads")
        self.keep_seconds = keep_days * 86400

    def folder(self, upload_id: str) -> Path:
        if not _ID.match(upload_id):
            raise InputError(f"no upload '{upload_id}'")
        return self.uploads / upload_id

    def save(self, filename: str, stream: IO[bytes], user: str, max_bytes: int) -> tuple[Upload, Path]:
        """Keep an uploaded file; a file over ``max_bytes`` keeps only its first ``max_bytes + 1`` bytes.

        The reader then refuses it with the CLI's message about the size limit.
        """
        name = "".join(c for c in Path(filename or "upload").name if c.isprintable() and c not in '"\\') or "upload"
        suffix = Path(name).suffix.lower()
        upload = Upload(secrets.token_urlsafe(18), name, user, time.time())
        folder = private_dir(self.folder(upload.upload_id))
        target = folder / f"sheet{suffix if suffix in ALLOWED_SUFFIXES else suffix[:8] or '.bin'}"
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            written = 0
            while written <= max_bytes and (chunk := stream.read(_CHUNK)):
                out.write(chunk[: max_bytes + 1 - written])
                written += len(chunk)
        self.put(upload)
        return upload, target

    def sheet_path(self, upload_id: str) -> Path:
        found = sorted(self.folder(upload_id).glob("sheet.*"))
        if not found:
            raise InputError(f"the upload '{upload_id}' is gone (uploads are kept {self.keep_seconds / 86400:g} days)")
        return found[0]

    def put(self, upload: Upload) -> None:
        data = json.dumps(asdict(upload), ensure_ascii=False).encode()
        write_private(self.folder(upload.upload_id) / "upload.json", data)

    def get(self, upload_id: str) -> Upload:
        try:
            data = json.loads((self.folder(upload_id) / "upload.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"the upload '{upload_id}' is gone; upload the sheet again") from None
        return Upload(**data)

    def write_json(self, upload_id: str, name: str, value: Any) -> Path:
        return write_private(self.folder(upload_id) / name, json.dumps(value, ensure_ascii=False).encode())

    def read_json(self, upload_id: str, name: str) -> Any:
        path = self.folder(upload_id) / name
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None

    def purge(self, now: float | None = None) -> list[str]:
        """Delete uploads older than the keep time; returns their ids."""
        cutoff = (now or time.time()) - self.keep_seconds
        removed = []
        for folder in self.uploads.iterdir():
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder.name)
        return removed
