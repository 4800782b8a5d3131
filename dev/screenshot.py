"""Render docs/results.png from a real results workbook, as LibreOffice prints it.

    python3 dev/screenshot.py

The demo sheet with mistakes is imported into the sandbox, the results
workbook is converted to PDF by LibreOffice headless (``soffice``, from the
Debian package libreoffice-calc-nogui) and the first page is turned into a
PNG by ``pdftoppm`` (poppler-utils), cropped to the top rows. The test
``tests/test_results_look.py`` renders the same way and checks the pages.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's importer, whatever copy is installed
DPI = 220


def results_workbook(folder: Path) -> Path:
    """Import samples/orders-with-errors.xlsx into a fresh sandbox; the results workbook it wrote."""
    import importer
    from importer.sandbox import Sandbox

    sheet = folder / "orders-with-errors.xlsx"
    shutil.copy(ROOT / "samples" / "orders-with-errors.xlsx", sheet)
    with Sandbox.start() as sandbox:
        result = importer.run(sheet, settings=sandbox.settings(), ledger=folder / "ledger.sqlite")
    assert result.output is not None
    return result.output


def to_pdf(workbook: Path, folder: Path) -> Path:
    """Print ``workbook`` to PDF with LibreOffice headless, its profile kept inside ``folder``."""
    profile = (folder / "libreoffice-profile").resolve().as_uri()
    subprocess.run(
        ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf", "--outdir", str(folder),
         str(workbook)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    return folder / f"{workbook.stem}.pdf"


def page_sizes(pdf: Path) -> list[tuple[float, float]]:
    """(width, height) in points of every page, from poppler's pdfinfo."""
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "999", str(pdf)], check=True, capture_output=True, text=True
    ).stdout
    return [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)]


def to_png(pdf: Path, target: Path, *, page: int = 1, band: tuple[float, float] = (0.0, 1.0)) -> Path:
    """A band of one page (from, to: fractions of its height) as a PNG: the rows, not the blank page below."""
    width, height = page_sizes(pdf)[page - 1]
    top = round(height / 72 * DPI * band[0])
    pixels_wide, pixels_high = round(width / 72 * DPI), round(height / 72 * DPI * (band[1] - band[0]))
    stem = target.with_suffix("")
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(DPI), "-f", str(page), "-l", str(page), "-singlefile",
         "-x", "0", "-y", str(top), "-W", str(pixels_wide), "-H", str(pixels_high), str(pdf), str(stem)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return stem.with_suffix(".png")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        pdf = to_pdf(results_workbook(folder), folder)
        to_png(pdf, ROOT / "docs" / "results.png", band=(0.1, 0.3))
    print("wrote docs/results.png")
