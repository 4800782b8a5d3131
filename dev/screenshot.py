"""Render docs/results.png from a real results workbook: the demo sheet imported into the sandbox.

    python3 dev/screenshot.py

No office suite is needed: the cells, fills and column order are read back
from the written workbook with openpyxl and drawn with matplotlib.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import openpyxl
from matplotlib import font_manager

import importer
from importer.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent
SHOWN = ["provider", "order_ref", "item_id", "quantity", "title", "status", "provider_order_id",
         "estimated_amount", "order_total", "error"]  # fmt: skip
CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]+")


def results_workbook(folder: Path) -> Path:
    sheet = folder / "orders-with-errors.xlsx"
    shutil.copy(ROOT / "samples" / "orders-with-errors.xlsx", sheet)
    with Sandbox.start() as sandbox:
        result = importer.run(sheet, settings=sandbox.settings())
    assert result.output is not None
    return result.output


def render(workbook: Path, target: Path) -> None:
    sheet = openpyxl.load_workbook(workbook)["Orders"]
    header = [c.value for c in sheet[1]]
    columns = [header.index(name) for name in SHOWN]
    cells, colours = [], []
    for row in sheet.iter_rows(min_row=2, max_row=12):
        cells.append([_short(row[i].value) for i in columns])
        colours.append([_colour(row[i]) for i in columns])
    if _has_cjk_font():
        plt.rcParams["font.family"] = _cjk_fonts()[0]
    figure, axes = plt.subplots(figsize=(16, 4.2))
    axes.axis("off")
    table = axes.table(cellText=cells, colLabels=SHOWN, cellColours=colours, loc="center", cellLoc="left")
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.auto_set_column_width(list(range(len(SHOWN))))
    axes.set_title("orders-with-errors.results.xlsx (sheet Orders): every row gets a status and a readable error")
    figure.savefig(target, dpi=110, bbox_inches="tight")


def _short(value: object) -> str:
    text = "" if value is None else str(value)
    if not _has_cjk_font():
        text = CJK.sub("…", text)  # drawn as boxes otherwise
    return text if len(text) <= 60 else text[:57] + "…"


def _cjk_fonts() -> list[str]:
    return [f.name for f in font_manager.fontManager.ttflist if "CJK" in f.name or " SC" in f.name]


def _has_cjk_font() -> bool:
    return bool(_cjk_fonts())


def _colour(cell: object) -> str:
    rgb = getattr(getattr(getattr(cell, "fill", None), "fgColor", None), "rgb", None)
    if isinstance(rgb, str) and len(rgb) == 8 and rgb != "00000000":
        return "#" + rgb[2:]
    return "#ffffff"


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        render(results_workbook(Path(folder)), ROOT / "docs" / "results.png")
    print("wrote docs/results.png")
