"""The analyst notebook runs top to bottom against the sandbox, so it never goes stale."""

import json
import shutil
from pathlib import Path

import nbclient
import nbformat
import openpyxl
import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "quickstart.ipynb"


def test_notebook_is_stored_without_outputs():
    stored = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [cell for cell in stored["cells"] if cell["cell_type"] == "code"]
    assert code and all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # jupyter_client's own deprecations while starting a kernel
def test_notebook_runs_end_to_end(tmp_path):
    copy = tmp_path / NOTEBOOK.name
    shutil.copy(NOTEBOOK, copy)
    notebook = nbformat.read(copy, as_version=4)
    nbclient.NotebookClient(notebook, timeout=180, resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any(o.output_type == "display_data" and "image/png" in o.data for o in outputs)  # the spend chart
    results = tmp_path / "quickstart.results.xlsx"
    statuses = [row[0] for row in openpyxl.load_workbook(results)["Summary"].iter_rows(values_only=True)]
    assert "CREATED" in statuses
