"""Read an order sheet into an all-text DataFrame, keeping where every row came from.

Every cell becomes text exactly as the user sees it: an 18-digit id, a phone
number with a leading zero or ``+86`` and a zip code keep every character.
Numbers Excel already stored as numbers are turned back into their exact
digits; where Excel's float cannot hold them (ids above 2**53), the cell is
reported instead of guessed. Each row keeps its sheet name and the row number
Excel shows, so every later message can point at the cell.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time
from decimal import Decimal
from functools import partial
from itertools import chain, compress, count, dropwhile, islice, repeat
from operator import itemgetter, not_
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import numpy as np
import pandas as pd

from ..columns import paused_gc
from ..csvsafe import TEXT_MARK, unescape
from ..errors import InputError
from ..models import ROW_COL, SHEET_COL, CellError, OrderSheet
from .headers import HeaderMatch, match_headers, missing_columns_message
from .limits import InputLimits, check_archive, check_extent, check_file, check_rows

HEADER_SEARCH_ROWS = 20
MIN_KNOWN_HEADERS = 2
EXACT_FLOAT_LIMIT = 2**53
_ZERO_FORMAT = re.compile(r"^0+$")
_Row = tuple[int, list[str], dict[int, str]]
"""One worksheet row: its Excel row number, the text of each cell, and problems by cell position.

Kept as plain lists: a sheet of 100,000 rows is 1.5 million cells, and a
tuple per cell was most of the time of reading it.
"""
_NO_PROBLEMS: dict[int, str] = {}


@paused_gc
def read_sheet(
    path: str | Path,
    *,
    sheet: str | None = None,
    provider: str | None = None,
    mapping: Mapping[str, str] | None = None,
    limits: InputLimits | None = None,
) -> OrderSheet:
    """Read an .xlsx/.xlsm workbook or a .csv file; refuse anything else with a clear InputError."""
    path = Path(path)
    limits = limits or InputLimits()
    if not path.exists():
        raise InputError("the file does not exist", file=path)
    if path.is_dir():
        raise InputError("this is a folder, not a file", file=path)
    if path.stat().st_size == 0:
        raise InputError("the file is empty", file=path)
    check_file(limits, path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        stamp = source_stamp(path)
        result = _read_workbook(path, sheet, mapping, limits)
        result.source_stamp = stamp
        result.example_rows = _example_marks(path)
    elif suffix in (".csv", ".tsv", ".txt"):
        result = _read_csv(path, mapping)
        check_rows(limits, path, len(result.frame))
    elif suffix == ".xls":
        raise InputError("this is an old binary Excel file (.xls); open it in Excel and save it as .xlsx", file=path)
    else:
        raise InputError(f"cannot read '{suffix or 'no extension'}' files; use .xlsx, .xlsm or .csv", file=path)
    _apply_default_provider(result.frame, provider)
    return result


def source_stamp(path: Path) -> tuple[int, int, str]:
    """Size, modification time and SHA-256 of a file: whether it is still the file that was read.

    The results writer copies the user's workbook only while this still
    holds; a file changed during the run gets its results as a new workbook.
    """
    with path.open("rb") as handle:
        status = os.fstat(handle.fileno())
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    return status.st_size, status.st_mtime_ns, digest


EXAMPLE_NAME_PREFIX = "OrderImporter_Example_"
"""Defined names the templates give their example rows: the prefix, then the row's fingerprint
(:func:`importer.examples.row_fingerprint`); the name refers to the example row itself."""
_NAME_REFERENCE = re.compile(r"^=?'?(?P<sheet>.+?)'?!\$?[A-Z]{0,3}\$?(?P<row>[0-9]+)(?::|$)")


def _example_marks(path: Path) -> dict[str, dict[int, str]]:
    """Per sheet, the rows a template marked as its examples, with the fingerprint each had when written."""
    from defusedxml import ElementTree

    try:
        with zipfile.ZipFile(path) as archive:
            book = archive.read("xl/workbook.xml")
    except Exception:
        return {}
    if EXAMPLE_NAME_PREFIX.encode() not in book:
        return {}
    marks: dict[str, dict[int, str]] = {}
    for name in ElementTree.fromstring(book).iter(f"{_MAIN_NS}definedName"):
        label, found = name.get("name", ""), _NAME_REFERENCE.match((name.text or "").strip())
        if label.startswith(EXAMPLE_NAME_PREFIX) and found:
            sheet = found.group("sheet").replace("''", "'")
            marks.setdefault(sheet, {})[int(found.group("row"))] = label[len(EXAMPLE_NAME_PREFIX) :]
    return marks


def _apply_default_provider(frame: pd.DataFrame, provider: str | None) -> None:
    if not provider:
        return
    if "provider" not in frame:
        frame.insert(0, "provider", provider)
    else:
        frame.loc[frame["provider"] == "", "provider"] = provider


# ----- cell values ---------------------------------------------------------------------


def cell_text(value: Any, number_format: str = "General") -> tuple[str, str | None]:
    """Text of one cell as the user typed it, and a problem to report (or None).

    Floats that hold whole numbers print without ``.0`` or an exponent; a zero
    format such as ``000000`` (used for zip codes) puts the leading zeros back.
    """
    if value is None:
        return "", None
    if isinstance(value, str):
        return value, None
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE"), None
    if isinstance(value, int):
        return _pad(str(value), number_format), None
    if isinstance(value, float):
        return _float_text(value, number_format)
    if isinstance(value, datetime):
        return (value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")), None
    if isinstance(value, date | time):
        return value.isoformat(), None
    return str(value), None


def _pad(digits: str, number_format: str) -> str:
    if _ZERO_FORMAT.match(number_format or "") and digits.isdigit():
        return digits.zfill(len(number_format))
    return digits


def _float_text(value: float, number_format: str) -> tuple[str, str | None]:
    if value != value or value in (float("inf"), float("-inf")):
        return str(value), None
    if value.is_integer():
        digits = str(int(value))
        if abs(value) >= EXACT_FLOAT_LIMIT:
            return digits, (
                f"Excel stored this as a number and may have changed its last digits (got {digits}); "
                "format the column as Text and type the value again"
            )
        return _pad(digits, number_format), None
    text = repr(value)
    if "e" in text or "E" in text:  # 1e-07: the shortest repr, written out in full with every digit kept
        text = format(Decimal(text), "f")
    return text, None


# ----- workbooks -------------------------------------------------------------------------


def _check_workbook_file(path: Path, limits: InputLimits) -> None:
    """Refuse what no reader should open: not a zip, an encrypted workbook, a zip bomb, XML entity tricks."""
    if not zipfile.is_zipfile(path):
        head = path.read_bytes()[:8]
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            raise InputError(
                "this workbook is password-protected or an old .xls saved as .xlsx; "
                "remove the password or save it again as .xlsx",
                file=path,
            )
        raise InputError(
            "this is not a valid .xlsx file (it is not a zip archive); save it again from Excel", file=path
        )
    try:
        with zipfile.ZipFile(path) as archive:
            check_archive(limits, path, archive)
            for member in archive.namelist():
                if member.endswith((".xml", ".rels")) and _declares_entities(archive, member):
                    raise InputError(
                        "this .xlsx file was refused: it declares XML entities (an 'XML bomb'), which are refused; "
                        "save it again from Excel",
                        file=path,
                    )
    except InputError:
        raise
    except Exception as error:  # a damaged zip directory or member
        raise _damaged(path, error) from None


_ELEMENT_START = re.compile(rb"<[A-Za-z_:]")
_PROLOG_CHUNK = 1 << 16


def _declares_entities(archive: zipfile.ZipFile, member: str) -> bool:
    """True when an XML part declares entities.

    A declaration can only stand in the prolog, before the root element's
    start tag, so only that much is unpacked: a few hundred bytes, where
    reading every part whole cost a tenth of a second on a large sheet.
    """
    prolog = b""
    with archive.open(member) as stream:
        while chunk := stream.read(_PROLOG_CHUNK):
            searched = max(len(prolog) - len(b"<!ENTITY"), 0)  # a marker may straddle two chunks
            prolog += chunk
            root = _ELEMENT_START.search(prolog, searched)
            if b"<!ENTITY" in prolog[searched : root.start() if root else None]:
                return True
            if root is not None:
                return False
    return False


def _open_workbook(path: Path) -> Any:
    from openpyxl import load_workbook

    try:
        return load_workbook(path, read_only=True, data_only=True, keep_links=False)
    except Exception as error:  # openpyxl raises many types for broken files
        raise _damaged(path, error) from None


def _damaged(path: Path, error: Exception, sheet: str | None = None) -> InputError:
    """One sentence for a workbook that fails to parse; XML entity tricks are named as such."""
    if any(type(e).__module__.startswith("defusedxml") for e in _causes(error)):
        reason = "it declares XML entities (an 'XML bomb'), which are refused"
    else:
        reason = f"it is damaged and cannot be read ({type(error).__name__})"
    return InputError(f"this .xlsx file was refused: {reason}; save it again from Excel", file=path, sheet=sheet)


_FORMULA_CELL = re.compile(rb'<c r="([A-Z]{1,3})([0-9]+)"[^>]*>\s*<f[ >/]')
_HIDDEN_ROW = re.compile(rb'<row\b[^>]*\bhidden="(?:1|true)"[^>]*>')
_ROW_NUMBER_ATTR = re.compile(rb'\br="([0-9]+)"')


class _SheetScan(NamedTuple):
    """What the worksheet's XML says that the cell readers do not: formula cells and hidden rows."""

    formulas: list[tuple[str, int]]
    """(column letters, row number) of every cell that holds a formula."""
    hidden: frozenset[int]
    """Excel numbers of the rows hidden by hand or by a filter."""


_NO_SCAN = _SheetScan([], frozenset())


def _scan_sheet(path: Path, member: str) -> _SheetScan:
    """Formula cells and hidden rows of one worksheet (the readers give only cached values, and no row state).

    The worksheet's XML is scanned directly: cheap, and sizes are already
    bounded by the zip limits. Most sheets hold no formula and hide no row:
    a substring test each skips the pattern searches.
    """
    if not member:
        return _NO_SCAN
    with zipfile.ZipFile(path) as archive:
        try:
            xml = archive.read(member.lstrip("/"))
        except KeyError:
            return _NO_SCAN
    formulas = [(col.decode(), int(row)) for col, row in _FORMULA_CELL.findall(xml)] if b"<f" in xml else []
    hidden: frozenset[int] = frozenset()
    if b'hidden="' in xml:  # one pass for hidden="1" and hidden="true" (and hidden columns, rarely)
        numbers = (_ROW_NUMBER_ATTR.search(tag) for tag in _HIDDEN_ROW.findall(xml))
        hidden = frozenset(int(found.group(1)) for found in numbers if found)
    return _SheetScan(formulas, hidden)


def _given(scan: _SheetScan) -> _SheetScan:
    return scan


def _cells_below(cells: list[tuple[str, int]], header_row: int) -> list[str]:
    return [f"{col}{row}" for col, row in cells if row > header_row]


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error and the chain of errors it was raised from (openpyxl wraps parser errors)."""
    seen: BaseException | None = error
    for _ in range(10):
        if seen is None:
            return
        yield seen
        seen = seen.__cause__ or seen.__context__


def _read_workbook(path: Path, only: str | None, mapping: Mapping[str, str] | None, limits: InputLimits) -> OrderSheet:
    _check_workbook_file(path, limits)
    check_extent(limits, path, [(part.name, part.member) for part in _workbook_sheets(path)])
    for fast_reader in FAST_READERS:
        fast = fast_reader(path, only, mapping, limits)
        if fast is not None:
            return fast
    workbook = _open_workbook(path)
    reading = _SheetReader(path, mapping, limits)
    try:
        names = list(workbook.sheetnames)
        _check_sheet_name(path, only, names)
        for name in [only] if only else names:
            worksheet = workbook[name]
            scan = _scan_sheet(path, getattr(worksheet, "_worksheet_path", ""))
            reading.read(
                name,
                _RowTable(_iter_cells(worksheet)),
                hidden=worksheet.sheet_state != "visible" and only is None,
                scan=partial(_given, scan),
            )
    except InputError:
        raise
    except Exception as error:  # worksheets are parsed lazily, so a damaged part shows up here
        raise _damaged(path, error, reading.current) from None
    finally:
        workbook.close()
    return reading.result()


NUMBER_COLUMNS = frozenset({"quantity", "unit_price", "order_date"})  # order_date: Excel serials read the same
"""Columns where a number cell reads the same without its display format; elsewhere (ids, phones, zip
codes) a format such as ``000000`` changes the text shown, so the exact reader is used."""


class _NeedsCellFormats(Exception):
    """The fast reader met number cells whose shown text depends on their format."""


def _read_calamine(
    path: Path, only: str | None, mapping: Mapping[str, str] | None, limits: InputLimits
) -> OrderSheet | None:
    """Read with python-calamine (tens of times faster than openpyxl); None when the exact reader is needed.

    Sheets holding number cells in quantity/unit_price/order_date read here
    (text-only sheets too, when fastexcel cannot read them). A number cell
    anywhere else, or any trouble, hands the file to the openpyxl reader,
    which knows cell formats and says precisely what is wrong with a
    damaged file.
    """
    try:
        from python_calamine import CalamineWorkbook, SheetVisibleEnum

        workbook = CalamineWorkbook.from_path(str(path))
        visible = {m.name: m.visible == SheetVisibleEnum.Visible for m in workbook.sheets_metadata}
    except Exception:
        return None
    names = list(workbook.sheet_names)
    _check_sheet_name(path, only, names)
    members = _sheet_members(path)
    reading = _SheetReader(path, mapping, limits)
    wanted = [only] if only else names
    # The formula scan unpacks each sheet's XML again; it runs beside calamine's parse, which frees the GIL.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="formula-scan")
    try:
        scans = {name: pool.submit(_scan_sheet, path, members.get(name, "")) for name in wanted}
        for name in wanted:
            numbers: set[tuple[int, int]] = set()
            rows = _calamine_rows(workbook.get_sheet_by_name(name), numbers)
            reading.read(
                name,
                _RowTable(rows),
                hidden=not visible.get(name, True) and only is None,
                scan=scans[name].result,
                numbers_at=partial(_below, numbers),
            )
        return reading.result()
    except InputError:
        raise
    except Exception:  # _NeedsCellFormats, or anything the exact reader explains better
        return None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        workbook.close()


def _below(numbers: set[tuple[int, int]], header_row: int) -> set[int]:
    return {position for row, position in numbers if row > header_row}


def _calamine_rows(sheet: Any, numbers: set[tuple[int, int]]) -> Iterator[_Row]:
    """(Excel row number, cells) from a calamine sheet; number cells are recorded in ``numbers``.

    A sheet of text cells only, the usual case, is checked in one pass and
    handed on without a Python step per row. calamine's table starts at the
    sheet's first used row, so the row numbers count from there: with an
    empty first row the header is on Excel row 2, and every row keeps the
    number Excel shows.
    """
    table = sheet.to_python()
    first_row = (sheet.start or (0, 0))[0] + 1
    if set(map(type, chain.from_iterable(table))) <= {str}:
        return zip(count(first_row), table, repeat(_NO_PROBLEMS))
    return _mixed_rows(table, numbers, first_row)


def _mixed_rows(table: list[list[Any]], numbers: set[tuple[int, int]], first_row: int) -> Iterator[_Row]:
    for index, values in enumerate(table, start=first_row):
        try:
            "".join(values)  # a row of text cells (join refuses anything else, quickly)
        except TypeError:
            pass
        else:
            yield index, values, _NO_PROBLEMS
            continue
        texts: list[str] = []
        problems: dict[int, str] = {}
        for position, value in enumerate(values):
            if isinstance(value, int | float) and not isinstance(value, bool):
                numbers.add((index, position))
            text, problem = cell_text(value)
            texts.append(text)
            if problem:
                problems[position] = problem
        yield index, texts, problems


class _SheetPart(NamedTuple):
    name: str
    member: str
    """The worksheet's XML inside the zip (for the formula scan)."""
    hidden: bool
    xml_bytes: int
    """The unpacked size of that XML, as the zip states it (0 when the zip has no such member)."""


_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _workbook_sheets(path: Path) -> list[_SheetPart]:
    """The workbook's sheets in order, from its own XML; empty when that cannot be read."""
    from defusedxml import ElementTree

    try:
        with zipfile.ZipFile(path) as archive:
            book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
            rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
            sizes = {info.filename: info.file_size for info in archive.infolist()}
    except Exception:
        return []
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    rel_key = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    parts = []
    for sheet in book.iter(f"{_MAIN_NS}sheet"):
        target = targets.get(sheet.get(rel_key), "")
        member = (target.lstrip("/") if target.startswith("/") else "xl/" + target) if target else ""
        hidden = sheet.get("state", "visible") != "visible"
        parts.append(_SheetPart(sheet.get("name", ""), member, hidden, sizes.get(member, 0)))
    return parts


def _sheet_members(path: Path) -> dict[str, str]:
    """Sheet name -> its worksheet XML inside the zip (for the formula scan)."""
    return {part.name: part.member for part in _workbook_sheets(path) if part.member}


def _check_sheet_name(path: Path, only: str | None, names: list[str]) -> None:
    if only is not None and only not in names:
        raise InputError(f"there is no sheet named '{only}'; sheets: {', '.join(names)}", file=path)


class _SheetReader:
    """Reads the sheets of one workbook in turn, keeping notes on the ones it skips."""

    def __init__(self, path: Path, mapping: Mapping[str, str] | None, limits: InputLimits) -> None:
        self.path = path
        self.mapping = mapping
        self.limits = limits
        self.sheet = OrderSheet(frame=pd.DataFrame(), source=path)
        self.parts: list[pd.DataFrame] = []
        self.best: tuple[str, HeaderMatch, dict[str, list[str]]] | None = None
        self.current: str | None = None
        self.rows_read = 0

    def read(
        self,
        name: str,
        table: _Table,
        *,
        hidden: bool,
        scan: Callable[[], _SheetScan],
        numbers_at: Callable[[int], set[int]] | None = None,
    ) -> None:
        """Read one sheet.

        ``scan()`` gives the sheet's formula cells and hidden rows (the rows
        under the header are kept on the sheet, for the skip rules).
        ``numbers_at(header_row)`` (fast reader only) gives the positions of
        number cells below the header, where the exact reader is needed to
        recover the text shown.
        """
        self.current = name
        notes = self.sheet.notes
        if hidden:
            notes.append(f"sheet '{name}' skipped: it is hidden")
            return
        found = table.header(self.mapping)
        if found is None:
            notes.append(f"sheet '{name}' skipped: no header row with the order columns")
            return
        header_row, match = found
        if match.missing:
            if self.best is None or match.known > self.best[1].known:
                self.best = (name, match, _samples(table, name, match))
            notes.append(f"sheet '{name}' skipped: {missing_columns_message(match, advice=False)}")
            return
        part, consumed = table.frame(name, match, self.limits.max_rows - self.rows_read + 1)
        self.rows_read += consumed
        check_rows(self.limits, self.path, self.rows_read, name)  # stopped one row past the limit at most
        if part is None:
            notes.append(f"sheet '{name}' skipped: it has no order rows")
            return
        if numbers_at is not None:
            labels = dict(column_labels(match))
            if any(labels.get(p) not in NUMBER_COLUMNS for p in numbers_at(header_row)):
                raise _NeedsCellFormats
        found_in_xml = scan()
        formulas = _cells_below(found_in_xml.formulas, header_row)
        self._keep_row_marks(name, header_row, found_in_xml)
        if formulas:
            shown = ", ".join(formulas[:5]) + (", …" if len(formulas) > 5 else "")
            notes.append(
                f"sheet '{name}': {len(formulas)} cells hold formulas ({shown}); their last calculated values "
                "were used, so check them"
            )
        self.sheet.header_rows[name] = header_row
        self.sheet.header_map.update({orig: canon for _, orig, canon in match.columns if canon})
        self.parts.append(part)

    def _keep_row_marks(self, name: str, header_row: int, scan: _SheetScan) -> None:
        """Hidden rows and formula cells per row, under the header, for :mod:`importer.read.skips`."""
        hidden = frozenset(row for row in scan.hidden if row > header_row)
        if hidden:
            self.sheet.hidden_rows[name] = hidden
        per_row = Counter(row for _, row in scan.formulas if row > header_row)
        if per_row:
            self.sheet.formula_rows[name] = dict(per_row)

    def result(self) -> OrderSheet:
        if not self.parts:
            if self.best is not None:
                name, match, samples = self.best
                raise InputError(missing_columns_message(match, samples), file=self.path, sheet=name)
            raise InputError(
                "no sheet has a header row with the order columns (order_ref, item_id, quantity)", file=self.path
            )
        if len(self.parts) == 1:  # one order sheet: its frame has every cell filled already
            self.sheet.frame = self.parts[0]
        else:
            self.sheet.frame = pd.concat(self.parts, ignore_index=True, sort=False).fillna("")
        collect_issues(self.sheet, self.parts)
        return self.sheet


def _samples(table: _Table, name: str, match: HeaderMatch) -> dict[str, list[str]]:
    """The first cells under each header of a sheet that lacks a column, to rank the guesses by content."""
    part, _ = table.frame(name, match, _SAMPLE_ROWS)
    if part is None:
        return {}
    labels = dict(column_labels(match))
    return {original: part[labels[p]].astype(str).tolist() for p, original, _ in match.columns if p in labels}


_SAMPLE_ROWS = 30


def _iter_cells(worksheet: Any) -> Iterator[_Row]:
    """Yield (Excel row number, texts, problems) for every row of a worksheet."""
    for row in worksheet.iter_rows():
        cells = [cell for cell in row if getattr(cell, "row", None) is not None]
        if not cells:
            continue
        width = max(cell.column for cell in cells)
        texts = [""] * width
        problems: dict[int, str] = {}
        for cell in cells:
            text, problem = cell_text(cell.value, getattr(cell, "number_format", "General"))
            texts[cell.column - 1] = text
            if problem:
                problems[cell.column - 1] = problem
        yield cells[0].row, texts, problems


def column_labels(match: HeaderMatch) -> list[tuple[int, str]]:
    """(position, frame column) per header: the canonical name, else the header itself, made unique.

    A second column for the same canonical field, or two columns with the same
    header, keep their data under ``header (2)``, ``header (3)``… rather than
    one overwriting the other. The result columns of an earlier run come
    last, under their internal labels (``_earlier_status``...).
    """
    labels: list[tuple[int, str]] = []
    used: set[str] = set()
    for position, original, canonical in match.columns:
        label = canonical or original
        n = 2
        while label in used:
            label = f"{canonical or original} ({n})"
            n += 1
        used.add(label)
        labels.append((position, label))
    return labels + match.earlier


class _Table(Protocol):
    """One sheet's cells, as a reader gives them: the header row is found first, then the rows under it."""

    def header(self, mapping: Mapping[str, str] | None) -> tuple[int, HeaderMatch] | None:
        """The header row's Excel number and headers: the first row with enough known headers."""

    def frame(self, name: str, match: HeaderMatch, most: int) -> tuple[pd.DataFrame | None, int]:
        """At most ``most`` rows under the header as text, and how many rows were read (blank ones too)."""


class _RowTable:
    """A sheet as (Excel row number, texts, problems) rows, the way openpyxl and calamine give them."""

    def __init__(self, rows: Iterator[_Row]) -> None:
        self.rows = rows

    def header(self, mapping: Mapping[str, str] | None) -> tuple[int, HeaderMatch] | None:
        for _ in range(HEADER_SEARCH_ROWS):  # the rows read stay read: the data rows follow
            try:
                number, headers, _ = next(self.rows)
            except StopIteration:
                return None
            match = match_headers(headers, extra=mapping)
            if match.known >= MIN_KNOWN_HEADERS:
                return number, match
        return None

    def frame(self, name: str, match: HeaderMatch, most: int) -> tuple[pd.DataFrame | None, int]:
        return _sheet_frame(name, match, islice(self.rows, most))


def _sheet_frame(name: str, match: HeaderMatch, rows: Iterable[_Row]) -> tuple[pd.DataFrame | None, int]:
    """The data rows under a header row, and how many rows were read (blank ones too).

    Blank rows are skipped; cell problems are kept in ``attrs``. The rows are
    handled as whole columns (one pass each in C) rather than one by one.
    """
    read = list(rows)
    if not read:
        return None, 0
    all_numbers, all_texts, all_problems = zip(*read, strict=True)
    filled = _filled_rows(all_texts)
    if all(filled):  # the usual sheet: no blank row to take out
        kept_at: Sequence[int] = range(len(read))
        texts, numbers = all_texts, all_numbers
    else:
        kept_at = list(compress(range(len(read)), filled))
        if not kept_at:
            return None, len(read)
        texts = tuple(all_texts[i] for i in kept_at)
        numbers = tuple(all_numbers[i] for i in kept_at)
    columns = column_labels(match)
    labels = dict(columns)
    pending: list[tuple[int, str, str, str]] = []
    if any(all_problems):
        position_of = {i: n for n, i in enumerate(kept_at)}
        for i, problems in enumerate(all_problems):
            for position, problem in problems.items():
                if position in labels and i in position_of:
                    cells = all_texts[i]
                    pending.append(
                        (position_of[i], labels[position], cells[position] if position < len(cells) else "", problem)
                    )
    block = _text_block(texts, max(labels) + 1)
    positions = [position for position, _ in columns]
    if positions != list(range(block.shape[1])):  # columns left out or reordered; usually every column, in order
        block = np.asfortranarray(block[:, positions])
    row_numbers = np.fromiter(numbers, dtype=np.int64, count=len(numbers))
    return _text_frame(name, block, [label for _, label in columns], row_numbers, pending), len(read)


def _text_frame(
    name: str,
    block: np.ndarray[Any, np.dtype[np.object_]],
    labels: list[str],
    numbers: np.ndarray[Any, np.dtype[np.int64]],
    issues: list[tuple[int, str, str, str]],
) -> pd.DataFrame:
    """One sheet's frame: the text block as it is (no copy), its sheet name, Excel row numbers and cell problems."""
    frame = pd.DataFrame(block, columns=labels, dtype=object, copy=False)
    frame[SHEET_COL] = name
    frame[ROW_COL] = numbers
    frame.attrs["issues"] = issues
    return frame


def _filled_rows(rows: Sequence[list[str]]) -> list[bool]:
    """Per row, whether any cell holds more than spaces.

    A row whose first cell holds text is filled; that settles nearly every
    row in one pass in C, and only the others have all their cells joined.
    """
    heads = map(itemgetter(0), rows) if all(rows) else (texts[0] if texts else "" for texts in rows)
    firsts = list(map(bool, map(str.strip, heads)))
    if all(firsts):
        return firsts
    return [first or bool("".join(texts).strip()) for first, texts in zip(firsts, rows, strict=True)]


def _text_block(rows: Sequence[list[str]], width: int) -> np.ndarray[Any, np.dtype[np.object_]]:
    """The rows as one 2-D array of text, short rows padded: one pandas block, half the cost of column lists.

    The cells go in as one flat run (``fromiter`` over the chained rows);
    assigning the list of rows to a 2-D array costs twice as much, as numpy
    looks at every row's shape first. The array is laid out column by
    column (Fortran order), the layout of a pandas block, so the frame takes
    it without a copy and each column is one contiguous run: the checks
    hash a column at a time, and a strided column would be copied first.
    """
    widest = max(width, *map(len, rows))
    if len(set(map(len, rows))) > 1 or len(rows[0]) < widest:
        rows = [texts + [""] * (widest - len(texts)) for texts in rows]
    cells = np.fromiter(chain.from_iterable(rows), dtype=object, count=len(rows) * widest)
    return np.asfortranarray(cells.reshape(len(rows), widest))


# ----- text-only workbooks, column by column ---------------------------------------------

_VALUE_CELL = re.compile(rb'<c[ >](?![^>]*\bt="(?:s|str|inlineStr|e)")[^>]*[^/]>')
"""A cell start tag with no text type (a number or date), or true/false (``t="b"``); empty cells close at once."""
_TOP_BYTES = 1 << 16
PY_SPACES = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + ("\u2028\u2029\u202f\u205f\u3000")
)
"""Every character ``str.strip`` takes away, so polars finds blank rows exactly as Python would."""


FASTEXCEL_MIN_BYTES = 16 << 20
"""Sheet XML below this (about 19,000 rows of the benchmark's columns) is read by calamine alone.

Importing polars takes 0.15-0.4 s, more than fastexcel's parse and the
column-laid strings save on a smaller sheet; measured on the benchmark
sheets, the two break even near 15 MB.
"""


class _NotAllText(Exception):
    """A sheet holds a cell that is not text: the calamine reader gives its exact text."""


def _read_fastexcel(
    path: Path, only: str | None, mapping: Mapping[str, str] | None, limits: InputLimits
) -> OrderSheet | None:
    """Read a workbook whose cells are all text with fastexcel, a column at a time; None otherwise.

    Why a reader for text alone: every check after reading goes over one
    column at a time, and they run about a third faster on strings made a
    column at a time (polars' ``to_list``) than on the strings calamine
    makes a row at a time. fastexcel is calamine underneath, so the text
    is the same. A cell that is not text (fastexcel's strict typing
    refuses the sheet) hands the workbook to the calamine reader; a quick
    look at the top of each sheet's XML sends most such workbooks there
    before fastexcel parses them at all. Small workbooks go there too
    (:data:`FASTEXCEL_MIN_BYTES`).
    """
    try:
        import fastexcel
    except ImportError:
        return None
    parts = _workbook_sheets(path)
    if not parts:  # the calamine and openpyxl readers say what is wrong with the workbook
        return None
    _check_sheet_name(path, only, [part.name for part in parts])
    wanted = [part for part in parts if only in (None, part.name)]
    if sum(part.xml_bytes for part in wanted) < FASTEXCEL_MIN_BYTES:
        return None
    if not all(_top_is_text(path, part.member) for part in wanted if only or not part.hidden):
        return None
    reading = _SheetReader(path, mapping, limits)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="formula-scan")
    try:
        workbook = fastexcel.read_excel(str(path))
        scans = {part.name: pool.submit(_scan_sheet, path, part.member) for part in wanted}
        for part in wanted:
            reading.read(
                part.name,
                _ColumnTable(partial(_load_text_sheet, workbook, part.name)),
                hidden=part.hidden and only is None,
                scan=scans[part.name].result,
            )
        return reading.result()
    except InputError:
        raise
    except Exception:  # _NotAllText, or anything the other readers explain better
        return None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _top_is_text(path: Path, member: str) -> bool:
    """Whether the first rows of a worksheet's XML hold text cells only (64 KiB: a few hundred rows)."""
    if not member:
        return False
    with zipfile.ZipFile(path) as archive, archive.open(member) as xml:
        return _VALUE_CELL.search(xml.read(_TOP_BYTES)) is None


def _load_text_sheet(workbook: Any, name: str) -> Any:
    """The whole sheet as a polars frame of text, one column per sheet column; raises _NotAllText.

    Loaded without a header row, so that row i is Excel row i + 1 and the
    header row is found the way the other readers find it; empty leading
    rows are kept (``skip_rows=[]``) for the same reason.
    """
    import polars as pl

    sheet = workbook.load_sheet(name, header_row=None, skip_rows=[], schema_sample_rows=None, dtype_coercion="strict")
    cells = sheet.to_polars()
    if any(dtype not in (pl.String, pl.Null) for dtype in cells.dtypes):
        raise _NotAllText
    return cells


class _ColumnTable:
    """A text-only sheet as whole columns; the sheet is parsed when its header is first looked for."""

    def __init__(self, load: Callable[[], Any]) -> None:
        self._load = load
        self._cells: Any = None
        self._header_at = 0

    def header(self, mapping: Mapping[str, str] | None) -> tuple[int, HeaderMatch] | None:
        self._cells = self._load()
        rows = enumerate(chain.from_iterable(map(self._rows, range(0, self._cells.height, 256))))
        used = dropwhile(lambda numbered: not any(numbered[1]), rows)  # like calamine: from the first row in use
        for index, row in islice(used, HEADER_SEARCH_ROWS):
            match = match_headers(["" if value is None else value for value in row], extra=mapping)
            if match.known >= MIN_KNOWN_HEADERS:
                self._header_at = index
                return index + 1, match
        return None

    def _rows(self, start: int) -> Iterator[tuple[Any, ...]]:
        """256 rows from ``start`` (rows are wanted only near the top; iterating the frame copies it whole)."""
        return iter(self._cells.slice(start, 256).iter_rows())

    def frame(self, name: str, match: HeaderMatch, most: int) -> tuple[pd.DataFrame | None, int]:
        import polars as pl

        data = self._cells.slice(self._header_at + 1, most)
        self._cells = None
        read = data.height
        numbers = np.arange(self._header_at + 2, self._header_at + 2 + read, dtype=np.int64)
        filled = _filled(data, data.columns[:1])  # a row whose first cell holds text is filled: nearly every row
        if not filled.all():
            filled = _filled(data, data.columns)
            data = data.filter(filled)  # blank rows are left out, as by the other readers
            numbers = numbers[filled.to_numpy()]
        if not data.height:
            return None, read
        columns = column_labels(match)
        block = np.empty((data.height, len(columns)), dtype=object, order="F")
        for place, (position, _) in enumerate(columns):
            block[:, place] = data.to_series(position).cast(pl.String).fill_null("").to_list()
        return _text_frame(name, block, [label for _, label in columns], numbers, []), read


def _filled(data: Any, columns: list[str]) -> Any:
    """Per row of a polars frame, whether any of ``columns`` holds more than spaces (Python's spaces)."""
    import polars as pl

    holds_text = pl.col(columns).cast(pl.String).str.strip_chars(PY_SPACES).str.len_bytes().fill_null(0) > 0
    return data.select(pl.any_horizontal(holds_text)).to_series()


FAST_READERS: tuple[Callable[[Path, str | None, Mapping[str, str] | None, InputLimits], OrderSheet | None], ...] = (
    _read_fastexcel,
    _read_calamine,
)
"""The readers tried in turn before openpyxl; each gives None when the workbook is one for the next."""


# ----- CSV -------------------------------------------------------------------------------

_ENCODINGS = ("utf-8", "gb18030")


def _decode(path: Path, raw: bytes) -> tuple[str, str]:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as error:
            raise InputError(f"undecodable UTF-16 text near byte {error.start}", file=path) from None
    if raw.startswith(b"\xef\xbb\xbf"):
        try:
            return raw[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as error:
            line = raw[: error.start + 3].count(b"\n") + 1
            raise InputError("the file says UTF-8 but has bytes that are not UTF-8", file=path, row=line) from None
    first_error: UnicodeDecodeError | None = None
    for encoding in _ENCODINGS:
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError as error:
            first_error = first_error or error
    assert first_error is not None
    line = raw[: first_error.start].count(b"\n") + 1
    raise InputError(
        "the file has bytes that are neither UTF-8 nor GBK/GB18030; save it again as UTF-8 CSV",
        file=path,
        row=line,
    )


_SNIFF_CHARS = 1 << 16


def _delimiter(text: str) -> str:
    lines = _first_lines(text, 21)
    try:
        return csv.Sniffer().sniff("\n".join(lines[:20]), delimiters=",;\t").delimiter
    except csv.Error:
        header = lines[0] if lines else ""
        return max(",;\t", key=header.count)


def _first_lines(text: str, count: int) -> list[str]:
    """The first ``count`` lines of ``text``, whole, without splitting all of a large file."""
    lines = text[:_SNIFF_CHARS].splitlines()
    return lines[:count] if len(lines) > count or len(text) <= _SNIFF_CHARS else text.splitlines()[:count]


def _read_csv(path: Path, mapping: Mapping[str, str] | None) -> OrderSheet:
    text, encoding = _decode(path, path.read_bytes())
    delimiter = _delimiter(text)
    table = _csv_by_columns(text, delimiter) or _csv_by_rows(path, text, delimiter)
    if table is None:
        raise InputError("the file is empty", file=path)
    header, cells, numbers = table
    match = match_headers(header, extra=mapping)
    if match.missing:
        samples = {original: cells[p][:_SAMPLE_ROWS] for p, original, _ in match.columns}
        raise InputError(missing_columns_message(match, samples), file=path)
    if not numbers:
        raise InputError("the file has a header row but no order rows", file=path)
    columns = column_labels(match)
    marked = TEXT_MARK in text  # no apostrophe anywhere (the usual file): no cell to give back unescaped
    block = np.empty((len(numbers), len(columns)), dtype=object, order="F")
    for place, (position, _) in enumerate(columns):
        block[:, place] = _unescaped(cells[position]) if marked else cells[position]
    frame = _text_frame(path.stem, block, [label for _, label in columns], np.asarray(numbers, dtype=np.int64), [])
    result = OrderSheet(frame=frame, source=path, encoding=encoding, header_rows={path.stem: 1})
    result.header_map = {orig: canon for _, orig, canon in match.columns if canon}
    return result


_CsvTable = tuple[list[str], list[list[str]], list[int]]
"""A CSV's header cells, its columns by position (blank rows left out, short rows padded with ""), and
each row's number. A record's number is its place among the records, as a spreadsheet shows it: a
quoted cell holding a line break spans several lines of the file but stays one row."""


def _csv_by_columns(text: str, delimiter: str) -> _CsvTable | None:
    """The CSV parsed by pandas' C parser, a column at a time; None where it could differ from the csv module.

    About three times faster than the csv module at 100,000 rows, and its
    strings lie column by column, as the checks after reading like them (see
    fastexcel above). Only files the two parse alike come here: a record
    longer than the header (the C parser refuses it), a NUL character or a
    cell past the csv module's field limit sends the file to
    :func:`_csv_by_rows`, which reads it, or says what is wrong, record by record.
    """
    if not text.strip() or "\x00" in text:
        return None
    try:
        parsed = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
        )
    except Exception:  # a ragged or otherwise odd file: the csv module reads it, or says what is wrong
        return None
    records = [parsed[position].fillna("").tolist() for position in parsed.columns]
    limit = csv.field_size_limit()
    if len(text) > limit and any(max(map(len, column)) > limit for column in records):
        return None
    header = [column[0] for column in records]
    cells = [column[1:] for column in records]
    numbers = list(range(2, len(cells[0]) + 2))
    # Rows whose first cell is blank, found in C; only those few are looked at whole.
    first_blank = compress(count(), map(not_, map(str.strip, cells[0])))
    blank = [i for i in first_blank if not any(column[i].strip() for column in cells)]
    if blank:
        keep = np.ones(len(numbers), dtype=bool)
        keep[blank] = False
        numbers, cells = list(compress(numbers, keep)), [list(compress(column, keep)) for column in cells]
    return header, cells, numbers


def _csv_by_rows(path: Path, text: str, delimiter: str) -> _CsvTable | None:
    """The CSV read record by record by the csv module; None when it holds no record at all."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        records = list(reader)
    except csv.Error as error:
        raise InputError(f"the CSV is malformed: {error}", file=path, row=reader.line_num) from None
    if not records:
        return None
    header, width, data = records[0], len(records[0]), records[1:]
    filled = _filled_rows(data)
    rows = [row[:width] if len(row) >= width else row + [""] * (width - len(row)) for row in compress(data, filled)]
    cells = [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]
    return header, cells, list(compress(range(2, len(data) + 2), filled))


def _unescaped(values: list[str]) -> list[str]:
    """A column with the apostrophe the importer's own CSVs put before formula text taken off again."""
    if "\n" + TEXT_MARK not in "\n" + "\n".join(values):  # no cell starts with one (one C scan of the column)
        return values
    return [unescape(value) for value in values]


def collect_issues(sheet: OrderSheet, parts: Sequence[pd.DataFrame]) -> None:
    """Turn the per-sheet cell problems found while reading into CellErrors with row ids."""
    offset = 0
    for part in parts:
        for index, label, text, problem in part.attrs.get("issues", []):
            row_id = offset + index
            sheet.issues.append(
                CellError(row_id, str(part[SHEET_COL].iloc[0]), int(part[ROW_COL].iloc[index]), label, text, problem)
            )
        offset += len(part)
