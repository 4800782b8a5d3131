"""Checking an uploaded sheet for the pages: the header mapping, the run of the check, the grid's pages.

A check is :func:`importer.api.run` with ``stage="validate"`` and nothing
written; its result stays in memory (a few sheets) so the grid's pages are
slices of frames already built, and is made again from the kept file after a
restart. The user's mapping choices are a ``{sheet header: importer column}``
dict, which the reader takes as ``mapping=``, plus the headers to ignore and
the values to replace (provider names typed in the sheet -> provider keys).
"""

from __future__ import annotations

import csv
import difflib
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .. import api
from ..config import Settings
from ..errors import InputError
from ..models import CANONICAL_COLUMNS, ROW_COL, SHEET_COL, Status
from ..read.headers import ALIASES, TOWN, normalize_header
from .profiles import SavedProfiles, describe_profile
from .storage import Storage, Upload

IGNORE = ""
COLUMNS: tuple[str, ...] = (*CANONICAL_COLUMNS, TOWN)
"""What a header may be mapped to on the mapping page: the canonical columns and every column an alias names
but sku_code (a catalogue lookup the web does not offer)."""
PAGE_SIZE = 50
PROBLEM_STATUSES = frozenset({str(Status.INVALID), str(Status.HELD)})


@dataclass
class Checked:
    """One upload, checked: every row's status, and the problems per cell for the red cells."""

    upload: Upload
    result: api.RunResult
    problem_ids: list[int]
    cell_messages: dict[int, dict[str, str]] = field(default_factory=dict)
    profile: str = ""
    """The mapping profile the sheet was read with, as the page names it ('' for none or a mapping by hand)."""

    @property
    def frame(self) -> pd.DataFrame:
        return self.result.sheet.frame

    @property
    def counts(self) -> dict[str, int]:
        return dict(sorted(self.result.counts.items()))

    def input_columns(self) -> list[str]:
        return [c for c in self.frame.columns if c not in (SHEET_COL, ROW_COL)]


@dataclass(frozen=True)
class GridPage:
    """The rows one page of the grid shows."""

    number: int
    pages: int
    total: int
    rows: list[dict[Any, Any]]


def guess_column(header: str) -> str:
    """The importer column a header most likely means: its alias, a close alias, or IGNORE."""
    key = normalize_header(header)
    if key in ALIASES:
        return ALIASES[key]
    close = difflib.get_close_matches(key, list(ALIASES), n=1, cutoff=0.75)
    return ALIASES[close[0]] if close else IGNORE


def guessed_mapping(headers: list[str]) -> dict[str, str]:
    """Each header with its best guess, a column guessed twice kept by the first header only."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for header in headers:
        column = guess_column(header)
        mapping[header] = IGNORE if column in taken else column
        taken.add(column)
    return mapping


def mapping_errors(mapping: dict[str, str]) -> list[str]:
    """What is wrong with a user's mapping: unknown columns, a column chosen twice, required ones missing."""
    chosen = [c for c in mapping.values() if c != IGNORE]
    problems = [f"'{c}' is not an importer column" for c in chosen if c not in COLUMNS]
    problems += [
        f"'{c}' is chosen for more than one header" for c in sorted({c for c in chosen if chosen.count(c) > 1})
    ]
    problems += [f"no header is mapped to '{c}'" for c in ("order_ref", "item_id", "quantity") if c not in chosen]
    return problems


def sheet_headers(path: Path, limit_rows: int = 30) -> list[str]:
    """The header row of the first sheet: the first of its top rows with the most filled cells."""
    rows = list(_top_rows(path, limit_rows))
    if not rows:
        return []
    best = max(rows, key=lambda row: sum(1 for cell in row if cell.strip()))
    return [cell.strip() for cell in best if cell.strip()]


def _top_rows(path: Path, limit: int) -> Iterator[list[str]]:
    if path.suffix.lower() == ".csv":
        text = path.read_bytes()[: 1 << 20]
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                decoded = text.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            return
        dialect = csv.Sniffer().sniff(decoded[:4096], delimiters=",;\t|") if decoded.strip() else csv.excel
        for number, row in enumerate(csv.reader(decoded.splitlines(), dialect)):
            if number >= limit:
                return
            yield row
        return
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(path))
    for number, cells in enumerate(workbook.get_sheet_by_index(0).iter_rows()):
        if number >= limit:
            return
        yield ["" if cell is None else str(cell) for cell in cells]


def header_mapping(upload: Upload) -> dict[str, str] | None:
    """The part of the user's mapping the reader takes: headers given an importer column."""
    chosen = {header: column for header, column in upload.mapping.items() if column != IGNORE}
    return chosen or None


def needs_mapping(error: InputError) -> bool:
    """True when the reader found no usable header row: the user maps the headers by hand."""
    text = str(error)
    return "no column for" in text or "no header row" in text


def run_check(storage: Storage, upload: Upload, settings: Settings) -> Checked:
    """Check the upload as the CLI's ``validate`` does, with the user's mapping applied."""
    path = storage.sheet_path(upload.upload_id)
    source: Path | pd.DataFrame = path
    chosen = set(upload.mapping.values())
    ignored = [h for h, column in upload.mapping.items() if column == IGNORE and guess_column(h) not in chosen]
    if ignored or upload.value_map:
        sheet = api.load(path, mapping=header_mapping(upload), limits=settings.limits)
        source = apply_choices(sheet.frame, ignored, upload.value_map)
    mapping = None if isinstance(source, pd.DataFrame) else header_mapping(upload)  # a frame is mapped already
    result = api.run(source, stage="validate", settings=settings, mapping=mapping, write=False)
    return Checked(upload, result, *_problems(result), profile=describe_profile(result.sheet.profile, settings))


def apply_choices(frame: pd.DataFrame, ignored: list[str], value_map: dict[str, dict[str, str]]) -> pd.DataFrame:
    """The frame without the ignored headers' columns and with the user's values replaced."""
    frame = frame.drop(columns=[guess_column(h) for h in ignored if guess_column(h) in frame.columns])
    for column, values in value_map.items():
        if column in frame.columns and values:
            frame[column] = frame[column].replace(values)
    return frame


def _problems(result: api.RunResult) -> tuple[list[int], dict[int, dict[str, str]]]:
    outcomes = result.outcomes
    problem = outcomes["status"].isin(PROBLEM_STATUSES) | (outcomes["error"] != "")
    messages: dict[int, dict[str, str]] = {}
    for row_id, column, message in result.errors[["row_id", "column", "message"]].itertuples(index=False):
        cells = messages.setdefault(int(row_id), {})
        cells[str(column)] = f"{cells[str(column)]}; {message}" if str(column) in cells else str(message)
    return [int(i) for i in outcomes.index[problem]], messages


def grid_page(
    checked: Checked,
    number: int,
    problems_only: bool,
    outcomes: pd.DataFrame | None = None,
    problem_ids: list[int] | None = None,
) -> GridPage:
    """One page of rows: each with its cells, status, message and the messages of its bad cells.

    ``outcomes`` (and their ``problem_ids``) replace the check's, for the rows' statuses after a purchase.
    """
    outcomes = checked.result.outcomes if outcomes is None else outcomes
    ids = (checked.problem_ids if problem_ids is None else problem_ids) if problems_only else None
    total = len(ids) if ids is not None else len(outcomes)
    pages = max(1, -(-total // PAGE_SIZE))
    number = min(max(1, number), pages)
    start = (number - 1) * PAGE_SIZE
    page_ids = ids[start : start + PAGE_SIZE] if ids is not None else outcomes.index[start : start + PAGE_SIZE].tolist()
    cells = checked.frame.loc[page_ids, [*checked.input_columns(), SHEET_COL, ROW_COL]].to_dict("records")
    statuses = outcomes.loc[page_ids, ["status", "error", "error_column", "warning"]].to_dict("records")
    rows = [
        {**row, **status, "cell_messages": _cell_messages(checked, row_id, status)}
        for row_id, row, status in zip(page_ids, cells, statuses, strict=True)
    ]
    return GridPage(number, pages, total, rows)


def _cell_messages(checked: Checked, row_id: int, status: Mapping[Any, Any]) -> dict[str, str]:
    messages = dict(checked.cell_messages.get(int(row_id), {}))
    column = str(status.get("error_column") or "")
    if column and column not in messages and status.get("error"):
        messages[column] = str(status["error"])
    return messages


class CheckCache:
    """The last few checked uploads, kept in memory for the grid's pages (made again when evicted)."""

    def __init__(self, storage: Storage, settings: Settings, profiles: SavedProfiles, size: int = 4) -> None:
        self._storage = storage
        self._settings = settings
        self._profiles = profiles
        self._size = size
        self._items: OrderedDict[str, Checked] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, upload_id: str) -> Checked:
        with self._lock:
            if upload_id in self._items:
                self._items.move_to_end(upload_id)
                return self._items[upload_id]
        settings = self._profiles.settings(self._settings)  # a profile saved since is picked by the headers
        checked = run_check(self._storage, self._storage.get(upload_id), settings)
        with self._lock:
            self._items[upload_id] = checked
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return checked

    def forget(self, upload_id: str) -> None:
        with self._lock:
            self._items.pop(upload_id, None)


def unknown_values(checked: Checked) -> dict[str, list[str]]:
    """Per column the user may map values of, the values in the sheet that are not keys (provider names)."""
    from ..providers import REGISTRY

    frame = checked.frame
    if "provider" not in frame.columns:
        return {}
    values = sorted(v for v in frame["provider"].unique().tolist() if v and v not in REGISTRY)
    return {"provider": values} if values else {}
