"""Stage 2, validate: the all-text sheet against the pandera schema and the row rules.

``check`` runs every rule and returns a :class:`Report` (valid rows, cell
errors and warnings); ``schema`` holds the pandera schema, ``warnings`` the
rules that only advise, ``number_*`` and ``date_*`` read numbers and dates as
people type them, ``fixes`` the safe corrections, and ``rules/`` the address
rules per destination.
"""

from .check import KNOWN_PROVIDER_KEYS, Report, checked_cells, validate

__all__ = ["KNOWN_PROVIDER_KEYS", "Report", "checked_cells", "validate"]
