"""order-importer: turn a spreadsheet of purchase orders into orders at purchasing-agent APIs.

The public API is small and stable (a test pins ``__all__``)::

    import importer
    sheet = importer.load("orders.xlsx")        # every cell as text, rows keep their Excel row numbers
    report = importer.validate(sheet)           # report.errors: DataFrame of sheet/row/column/message
    orders = importer.group(report)             # orders.orders: list of OrderDraft
    previewed = importer.preview(orders, settings)
    created = importer.create(orders, previewed, settings)
    importer.write_results(sheet, [report, orders, previewed, created], "orders.results.xlsx")

or all at once with :func:`run`. Heavy libraries load on first use, so the
command line starts fast.

``validate`` and ``group`` are both stage modules and public functions; the
package keeps the names bound to the functions (the modules stay importable
as ``importer.validate.check`` through ``sys.modules``).
"""

from __future__ import annotations

import sys
import types
from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "load": "api",
    "validate": "api",
    "group": "api",
    "preview": "api",
    "create": "api",
    "write_results": "api",
    "run": "api",
    "RunResult": "api",
    "OrderSheet": "models",
    "OrderDraft": "models",
    "Status": "models",
    "Report": "validate",
    "Grouping": "group",
    "Settings": "config",
    "load_settings": "config",
    "Sandbox": "sandbox",
    "ImporterError": "errors",
    "InputError": "errors",
    "ConfigError": "errors",
    "ProviderError": "errors",
}

__all__ = [
    "ConfigError",
    "Grouping",
    "ImporterError",
    "InputError",
    "OrderDraft",
    "OrderSheet",
    "ProviderError",
    "Report",
    "RunResult",
    "Sandbox",
    "Settings",
    "Status",
    "create",
    "group",
    "load",
    "load_settings",
    "preview",
    "run",
    "validate",
    "write_results",
]

if TYPE_CHECKING:
    from .api import RunResult, create, group, load, preview, run, validate, write_results
    from .config import Settings, load_settings
    from .errors import ConfigError, ImporterError, InputError, ProviderError
    from .group import Grouping
    from .models import OrderDraft, OrderSheet, Status
    from .sandbox import Sandbox
    from .validate.check import Report


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'importer' has no attribute '{name}'")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _Package(types.ModuleType):
    """The package object; refuses to let a stage module shadow the function of the same name."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _EXPORTS.get(name) == "api":
            return  # the import system binds submodules on their parent; keep the public function instead
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
