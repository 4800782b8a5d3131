"""Inbox mode for scheduled runs: import every new sheet in a folder, and keep it there until it is settled.

``order-importer import INBOX_DIR`` (from cron or a systemd timer) takes each
``.xlsx``/``.xlsm``/``.csv`` in the folder and imports it, writing its results
to the output folder (``[run] output_dir``, default ``INBOX_DIR/done``). Then:

* every row settled (created, refused, invalid...): the sheet moves to ``done/``;
* some rows NOT_ATTEMPTED (a provider was down) or UNKNOWN (no clear answer
  to a create): the sheet stays in the inbox, and the next run takes it again;
  the ledger makes that run create nothing twice and look the unclear orders
  up first. The folder's exit code is then 3, "run again later";
* the file cannot be read at all: it moves to ``failed/`` with a
  ``.error.txt`` beside it giving the reason (never the file's contents).

Only regular files are taken: a symbolic link, a device, a pipe or a socket
with a sheet's name is refused from its ``lstat`` without being opened (a
link could point at a file the run may read and the inbox's owner may not).
A file is moved only after its run ends, so a run killed halfway leaves it
in the inbox.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..api import RunResult
from ..errors import ImporterError, InputError
from ..money import fen_text
from ..outcomes import totals_text

SHEET_SUFFIXES = (".xlsx", ".xlsm", ".csv")
EXIT_RETRY = 3
"""A sheet stayed in the inbox with rows a later run can settle: run again later."""
EXIT_PRIORITY = (4, 2, 3, 1, 0)
"""Worst first: the folder's exit code is the worst of its files'."""
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


@dataclass
class InboxItem:
    """What happened to one file of the inbox."""

    source: Path
    moved_to: Path
    exit_code: int
    result: RunResult | None = None
    error: str = ""

    @property
    def kept(self) -> bool:
        """The sheet is still in the inbox: the next run takes it again."""
        return self.moved_to == self.source

    def line(self) -> str:
        """One line for the console (and cron's mail): counts, amounts, where it went and why the code is not 0."""
        where = "kept in the inbox for the next run" if self.kept else f"-> {self.moved_to}"
        what = self.result.describe() if self.result is not None else self.source.name
        why = self.error or (self.result.reason() if self.result is not None else "")
        output = self.result.output if self.result is not None else None
        results = f"; results -> {output}" if output is not None and self.kept else ""
        return f"{what} {where} (exit {self.exit_code}{': ' + why if why else ''}){results}"


def new_sheets(folder: Path) -> list[Path]:
    """Entries of ``folder`` named like order sheets: not hidden, not Excel lock files, not results.

    Names only (nothing is followed or opened here): :func:`refusal` then
    says which of them are not regular files.
    """
    return sorted(
        path
        for path in folder.iterdir()
        if path.suffix.lower() in SHEET_SUFFIXES
        and not path.name.startswith((".", "~$"))
        and ".results." not in path.name
        and not path.is_dir()
    )


def refusal(path: Path) -> str:
    """Why ``path`` is not taken ('' when it is a regular file), decided from ``lstat``: nothing is opened."""
    try:
        mode = os.lstat(path).st_mode
    except OSError as error:
        return f"cannot be examined ({error.strerror})"
    if stat.S_ISLNK(mode):
        return "refused: it is a symbolic link; put the sheet itself in the inbox, not a link to it"
    if not stat.S_ISREG(mode):
        return "refused: it is not a regular file (a device, pipe or socket); put the sheet itself in the inbox"
    return ""


def content_free(error: ImporterError) -> str:
    """The error's reason with whatever it quotes from the file (headers, cell values) left out.

    Error files and the console of an unattended run say why a file was
    refused; the full message, with what was found in the file, is one
    ``order-importer validate FILE`` away.
    """
    return _QUOTED.sub("'…'", str(error))


def process_inbox(
    folder: Path, output_dir: Path | None, run_file: Callable[[Path, Path], RunResult]
) -> list[InboxItem]:
    """Import each new sheet with ``run_file(sheet, results_path)``; move it to ``done/`` or ``failed/``, or keep it."""
    done, failed = folder / "done", folder / "failed"
    results_dir = output_dir or done
    items = []
    for sheet in new_sheets(folder):
        reason = refusal(sheet)
        if reason:
            items.append(_refuse(sheet, failed, reason))
            continue
        results = _free(results_dir / f"{sheet.stem}.results.xlsx")
        try:
            result = run_file(sheet, results)
        except InputError as error:
            items.append(_refuse(sheet, failed, content_free(error)))
            continue
        except ImporterError as error:  # configuration or ledger trouble: leave the file for the next run
            items.append(InboxItem(sheet, sheet, error.exit_code, error=content_free(error)))
            continue
        if not result.settled:
            items.append(InboxItem(sheet, sheet, EXIT_RETRY, result=result))
            continue
        items.append(_filed(sheet, done, result))
    return items


def _refuse(sheet: Path, failed: Path, reason: str) -> InboxItem:
    """Move a file that cannot be imported to ``failed/`` with its reason beside it (a link moves as a link)."""
    target = _move(sheet, failed)
    note = target.with_name(target.name + ".error.txt")
    note.write_text(f"{reason}\nSee the details with: order-importer validate {target}\n", encoding="utf-8")
    return InboxItem(sheet, target, InputError.exit_code, error=reason)


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


FOLDER_REASONS = {
    0: "",
    1: "some rows need a person: see the results workbooks",
    2: "a file was refused (see failed/) or the configuration or ledger cannot be used",
    3: "rows are left to retry: their sheets stay in the inbox; run again later",
}


def closing_line(items: list[InboxItem]) -> str:
    """The last line of an inbox run: files per outcome, what was bought in all, and why the code is not 0."""
    kept = sum(item.kept for item in items)
    failed = sum(item.exit_code == InputError.exit_code and not item.kept for item in items)
    bought: dict[str, int] = {}
    for item in items:
        for currency, fen in (item.result.bought if item.result else {}).items():
            bought[currency] = bought.get(currency, 0) + fen
    code = folder_exit_code(items)
    why = FOLDER_REASONS.get(code, "")
    return (
        f"{len(items)} files: {len(items) - kept - failed} done, {kept} kept for the next run, {failed} failed; "
        f"bought {totals_text(bought)}; exit {code}{': ' + why if why else ''}"
    )


def summary(items: list[InboxItem]) -> dict[str, Any]:
    """A JSON-ready account of an inbox run, for monitoring."""
    return {
        "exit_code": folder_exit_code(items),
        "files": [
            {
                "file": str(item.source),
                "moved_to": str(item.moved_to),
                "kept": item.kept,
                "exit_code": item.exit_code,
                "error": item.error or (item.result.reason() if item.result else ""),
                **(
                    {
                        "counts": item.result.counts,
                        "output": str(item.result.output),
                        "bought": {c: fen_text(fen) for c, fen in sorted(item.result.bought.items())},
                    }
                    if item.result
                    else {}
                ),
            }
            for item in items
        ],
    }


def _move(path: Path, folder: Path) -> Path:
    """Rename ``path`` into ``folder`` (a symbolic link is renamed itself, never followed)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = _free(folder / path.name)
    try:
        os.rename(path, target)
    except OSError:  # another file system: copy the entry itself (links stay links)
        shutil.move(str(path), str(target))
    return target


def _free(path: Path) -> Path:
    """``path``, or a time-stamped name beside it when a file of that name is already there (kept, not replaced)."""
    if not os.path.lexists(path):
        return path
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    name, dot, suffix = path.name.partition(".")
    return path.with_name(f"{name}.{stamp}{dot}{suffix}")
