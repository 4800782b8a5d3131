"""The results workbook as a person sees it: opened at the status, one colour per outcome, headers whole, printable.

The print check renders the workbook with LibreOffice headless (``soffice``)
and reads the PDF's pages with poppler (``pdfinfo``, ``pdftoppm``); .ci/run
installs both (libreoffice-calc-nogui, poppler-utils).
"""

import shutil
import sys
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

import importer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "dev"))
from screenshot import page_sizes, to_pdf, to_png  # noqa: E402

KINDS = {
    "CREATED": "done",
    "HELD": "held",
    "INVALID": "refused by the sheet",
    "PREVIEW_FAILED": "refused by the provider",
}
needs_office = pytest.mark.skipif(
    shutil.which("soffice") is None or shutil.which("pdfinfo") is None,
    reason="LibreOffice and poppler-utils render the workbook; .ci/run installs them",
)


@pytest.fixture(params=["xlsx", "csv"])
def results(request, tmp_path, fresh_sandbox):
    """The sample with mistakes imported: the user's workbook kept (xlsx), or a new workbook (csv)."""
    source = tmp_path / "orders-with-errors.xlsx"
    shutil.copy(ROOT / "samples" / "orders-with-errors.xlsx", source)
    if request.param == "csv":
        frame = importer.load(source).frame.drop(columns=["_sheet", "_row"])
        source = tmp_path / "orders-with-errors.csv"
        frame.to_csv(source, index=False)
    result = importer.run(source, settings=fresh_sandbox.settings(), ledger=tmp_path / "l.sqlite")
    return result


def _sheet(results):
    book = openpyxl.load_workbook(results.output)
    return book, book[book.sheetnames[0]]


def test_the_order_sheet_opens_at_the_status_and_the_wrapped_error(results):
    _, sheet = _sheet(results)
    header = [c.value for c in sheet[1]]
    status, error = header.index("status") + 1, header.index("error") + 1
    pane = sheet.sheet_view.pane
    assert (pane.xSplit, pane.ySplit, pane.state) == (1, 1, "frozen")  # header row and first column stay
    assert pane.topLeftCell == f"{get_column_letter(status)}2"  # the view opens at the status
    assert error - status < 10 and column_width(sheet, error) >= 50
    wrapped = [sheet.cell(row=r, column=error) for r in range(2, sheet.max_row + 1)]
    assert all(c.alignment.wrap_text for c in wrapped if c.value)


def test_one_colour_per_kind_of_outcome(results):
    _, sheet = _sheet(results)
    header = [c.value for c in sheet[1]]
    status = header.index("status") + 1
    colours: dict[str, set[str]] = {}
    for row in range(2, sheet.max_row + 1):
        cell = sheet.cell(row=row, column=status)
        colours.setdefault(KINDS.get(cell.value, cell.value), set()).add(cell.fill.fgColor.rgb[-6:])
    assert set(colours) >= set(KINDS.values())
    assert all(len(found) == 1 for found in colours.values())  # one colour per kind
    assert len({next(iter(found)) for found in colours.values()}) == len(colours)  # and each kind its own


def test_column_widths_show_the_headers(results):
    _, sheet = _sheet(results)
    for cell in sheet[1]:
        if cell.value is None:
            continue
        width = column_width(sheet, cell.column)
        shown = sum(2 if ord(ch) > 0x2E7F else 1 for ch in str(cell.value))
        assert width >= shown, f"{cell.value!r} in a column {width} wide"


def column_width(sheet, column):
    """The width Excel shows for a column (a <col> element may cover several columns)."""
    for dimension in sheet.column_dimensions.values():
        if (dimension.min or 0) <= column <= (dimension.max or 0) and dimension.width:
            return dimension.width
    return 8.43


def test_every_sheet_prints_landscape_fit_to_the_page_width(results):
    book, _ = _sheet(results)
    for sheet in book.worksheets:
        setup = sheet.page_setup
        assert setup.orientation == "landscape" and setup.fitToWidth in (None, 1), sheet.title  # 1 is the default
        assert sheet.sheet_properties.pageSetUpPr.fitToPage


def test_the_summary_counts_what_the_console_counts(results):
    book, _ = _sheet(results)
    summary = [row for row in book["Summary"].iter_rows(values_only=True) if any(v is not None for v in row)]
    first = [row[0] for row in summary]
    orders = summary[first.index("order status") + 1 : first.index("total", first.index("order status"))]
    assert {row[0]: row[1] for row in orders} == results.orders["status"].value_counts().to_dict()
    rows = summary[first.index("status") + 1 : first.index("total")]
    assert {row[0]: row[1] for row in rows} == results.counts
    providers = [row[0] for row in summary[first.index("provider") + 1 :] if row[0]]
    assert len(providers) == len(set(providers)) == results.sheet.frame["provider"].nunique()


@needs_office
def test_libreoffice_prints_one_landscape_page_per_sheet(results, tmp_path):
    pdf = to_pdf(results.output, tmp_path)
    sizes = page_sizes(pdf)
    book, _ = _sheet(results)
    assert len(sizes) == len(book.sheetnames)  # 13 rows: one page each for the orders, the Summary, the Errors
    assert all(width > height for width, height in sizes)
    picture = to_png(pdf, tmp_path / "page.png", band=(0.1, 0.3))
    assert picture.stat().st_size > 10_000  # something was drawn
