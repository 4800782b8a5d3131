"""Formula-safe CSV cells, as OWASP recommends against CSV injection.

A spreadsheet program opening a CSV runs any cell that starts with ``=``,
``+``, ``-`` or ``@`` (or a tab or carriage return before one) as a formula.
Every CSV the importer writes prefixes such a cell with an apostrophe, the
mark spreadsheets themselves use for "this is text", and the CSV reader takes
that one apostrophe off again, so a cell survives a write and a read unchanged.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_MARK = "'"


def escape(value: str) -> str:
    """The cell as it is safe to write: an apostrophe before a leading formula character.

    A cell that already starts with apostrophes before a formula character gets
    one more, so that :func:`unescape` gives it back exactly.
    """
    return TEXT_MARK + value if _marked(value) else value


def unescape(value: str) -> str:
    """The cell as it was before :func:`escape`: one leading apostrophe removed where escape adds one."""
    return value[1:] if value.startswith(TEXT_MARK) and _marked(value) else value


def _marked(value: str) -> bool:
    return value.lstrip(TEXT_MARK).startswith(FORMULA_STARTS)
