"""Stage 1, read: an order sheet file (.xlsx or .csv) into an all-text DataFrame.

Every cell is read as text and keeps its sheet and Excel row; headers are
matched to the importer's columns (``headers``); the file is checked against
the input limits before it is opened (``limits``).
"""

from .sheet import read_sheet

__all__ = ["read_sheet"]
