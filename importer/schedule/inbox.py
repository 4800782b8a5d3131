"""Inbox mode for scheduled runs: import every new sheet in a folder once, then file it away.

``order-importer import INBOX_DIR`` (from cron or a systemd timer) takes each
``.xlsx``/``.xlsm``/``.csv`` in the folder, imports it, writes its results to
the output folder (``[run] output_dir``, default ``INBOX_DIR/done``) and moves
it to ``done/``; a file that cannot be read at all goes to ``failed/`` with a
``.error.txt`` beside it saying why. A file is moved only after its run ends,
so a run killed halfway leaves it in the inbox, and the ledger makes the next
run create nothing twice.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..api import RunResult
from ..errors import ImporterError, InputError

SHEET_SUFFIXES = (".xlsx", ".xlsm", ".csv")
EXIT_PRIORITY = (4, 2, 3, 1, 0)
"""Worst first: the folder's exit code is the worst of its files'."""


@dataclass
class InboxItem:
    """What happened to one file of the inbox."""

    source: Path
    moved_to: Path
    exit_code: int
    result: RunResult | None = None
    error: str = ""


def new_sheets(folder: Path) -> list[Path]:
    """The order sheets waiting in ``folder``: not hidden, not Excel lock files, not results."""
    return sorted(
        path
        for path in folder.iterdir()
        if path.is_file()
        and path.suffix.lower() in SHEET_SUFFIXES
        and not path.name.startswith((".", "~$"))
        and ".results." not in path.name
    )


def process_inbox(
    folder: Path, output_dir: Path | None, run_file: Callable[[Path, Path], RunResult]
) -> list[InboxItem]:
    """Import each new sheet with ``run_file(sheet, results_path)`` and move it to ``done/`` or ``failed/``."""
    done, failed = folder / "done", folder / "failed"
    results_dir = output_dir or done
    items = []
    for sheet in new_sheets(folder):
        results = _free(results_dir / f"{sheet.stem}.results.xlsx")
        try:
            result = run_file(sheet, results)
        except InputError as error:
            target = _move(sheet, failed)
            target.with_name(target.name + ".error.txt").write_text(f"{error}\n", encoding="utf-8")
            items.append(InboxItem(sheet, target, error.exit_code, error=str(error)))
            continue
        except ImporterError as error:  # configuration or ledger trouble: leave the file for the next run
            items.append(InboxItem(sheet, sheet, error.exit_code, error=str(error)))
            continue
        items.append(_filed(sheet, done, result))
    return items


def _filed(sheet: Path, done: Path, result: RunResult) -> InboxItem:
    """Move an imported sheet to ``done/``; one that cannot be moved stays in the inbox, and the item says why.

    Its orders are in the ledger, so the next run that finds it again buys nothing twice.
    """
    try:
        return InboxItem(sheet, _move(sheet, done), result.exit_code, result=result)
    except OSError as error:
        reason = f"imported, but not moved to {done} ({error.strerror or error}); it stays in the inbox"
        return InboxItem(sheet, sheet, result.exit_code, result=result, error=reason)


def folder_exit_code(items: list[InboxItem]) -> int:
    """The worst exit code of the files (0 for an empty inbox)."""
    codes = {item.exit_code for item in items}
    return next((code for code in EXIT_PRIORITY if code in codes), 0)


def summary(items: list[InboxItem]) -> dict[str, Any]:
    """A JSON-ready account of an inbox run, for monitoring."""
    return {
        "exit_code": folder_exit_code(items),
        "files": [
            {
                "file": str(item.source),
                "moved_to": str(item.moved_to),
                "exit_code": item.exit_code,
                "error": item.error,
                **({"counts": item.result.counts, "output": str(item.result.output)} if item.result else {}),
            }
            for item in items
        ],
    }


def _move(path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.move(str(path), str(_free(folder / path.name))))


def _free(path: Path) -> Path:
    """``path``, or a time-stamped name beside it when a file of that name is already there (kept, not replaced)."""
    if not path.exists():
        return path
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    name, dot, suffix = path.name.partition(".")
    return path.with_name(f"{name}.{stamp}{dot}{suffix}")
