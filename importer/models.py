"""Typed values that flow between the pipeline stages.

A sheet is a pandas DataFrame of text; from grouping on, orders are small
frozen dataclasses so a provider adapter gets exactly the fields it needs and
cannot change what the next stage sees.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

# Columns the importer adds to every frame it reads; never shown to users as input.
SHEET_COL = "_sheet"
ROW_COL = "_row"

# The canonical order-sheet columns, in template order.
CANONICAL_COLUMNS: tuple[str, ...] = (
    "provider",
    "order_ref",
    "line_no",
    "item_id",
    "sku_id",
    "quantity",
    "unit_price",
    "currency",
    "title",
    "line_remark",
    "receiver_name",
    "receiver_phone",
    "receiver_mobile",
    "country",
    "province",
    "city",
    "district",
    "address",
    "zip",
    "tax_id",
    "order_remark",
    "order_date",
)

# Fields that describe the order rather than one line: they may be given on the
# first row of an order only, and must not disagree between its rows.
ORDER_LEVEL_COLUMNS: tuple[str, ...] = (
    "receiver_name",
    "receiver_phone",
    "receiver_mobile",
    "country",
    "province",
    "city",
    "district",
    "address",
    "zip",
    "tax_id",
    "order_remark",
    "order_date",
)


class Status(StrEnum):
    """What happened to one input row; written to the ``status`` column."""

    INVALID = "INVALID"
    HELD = "HELD"
    VALID = "VALID"
    PREVIEW_FAILED = "PREVIEW_FAILED"
    PREVIEWED = "PREVIEWED"
    PRICE_CHANGED = "PRICE_CHANGED"
    CREATED = "CREATED"
    ALREADY_CREATED = "ALREADY_CREATED"
    ALREADY_CREATED_ELSEWHERE = "ALREADY_CREATED_ELSEWHERE"
    """Not bought: an order of the same order_ref and content was bought from another file (a look is needed)."""
    CREATE_FAILED = "CREATE_FAILED"
    UNKNOWN = "UNKNOWN"
    NOT_ATTEMPTED = "NOT_ATTEMPTED"
    SKIPPED = "SKIPPED"
    """Not an order to buy: hidden, cancelled, a totals row, a template example or settled by an earlier run."""


SUCCESS_STATUSES = frozenset({Status.VALID, Status.PREVIEWED, Status.CREATED, Status.ALREADY_CREATED})
NOT_FAILURE_STATUSES = SUCCESS_STATUSES | {Status.SKIPPED}
"""Statuses that let a run exit 0: a skipped row was left out on purpose and the row says why."""

# Columns appended to the user's sheet in the results workbook, in this order.
RESULT_COLUMNS: tuple[str, ...] = (
    "status",
    "provider_order_id",
    "provider_line_id",
    "estimated_unit_price",
    "estimated_amount",
    "freight",
    "order_total",
    "currency_charged",
    "error",
    "warning",
    "order_date_iso",
    "filled_in",
)
# Not shown as a column: which input column an error points at (for the red cell).
ERROR_COLUMN_COL = "error_column"


@dataclass(frozen=True, slots=True)
class CellError:
    """One problem with one input cell (or row, when ``column`` is empty)."""

    row_id: int
    sheet: str
    row: int
    column: str
    value: str
    message: str
    check: str = ""
    """Which rule found it (``quantity.whole_number``, ``remark_length``...): the name the config's severity uses."""
    severity: str = "error"
    """``error`` keeps the row from being sent; ``warning`` is noted on the row, which goes ahead."""


@dataclass(slots=True)
class OrderSheet:
    """A sheet as read: every cell as text, plus where each row came from.

    ``frame`` has the canonical columns that were found, the user's other
    columns unchanged, and ``_sheet``/``_row`` (the row number Excel shows).
    Its index is the row id used by every later stage.
    ``header_map`` maps each original header text to its canonical column;
    ``header_rows`` gives, per sheet, the Excel row number of its header row.
    ``issues`` are cell problems found while reading (e.g. a long id that
    Excel stored as a number and rounded); validation reports them.
    ``profile`` names the mapping profile the sheet was read with ("" for none);
    ``filled_in`` says, per row id, what the importer filled in for the row
    (an address split, a catalogue entry, a derived order_ref), shown in the results.
    """

    frame: pd.DataFrame
    source: Path | None = None
    header_map: dict[str, str] = field(default_factory=dict)
    header_rows: dict[str, int] = field(default_factory=dict)
    issues: list[CellError] = field(default_factory=list)
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)
    hidden_rows: dict[str, frozenset[int]] = field(default_factory=dict)
    """Per sheet, the Excel numbers of data rows hidden by hand or by a filter."""
    formula_rows: dict[str, dict[int, int]] = field(default_factory=dict)
    """Per sheet, data rows holding formulas: Excel row number -> how many of its cells are formulas."""
    example_rows: dict[str, dict[int, str]] = field(default_factory=dict)
    """Per sheet, rows a template marked as its examples -> the fingerprint they had when written."""
    source_stamp: tuple[int, int, str] | None = None
    """Size, mtime (ns) and SHA-256 of the workbook when it was read: the writer copies it only while unchanged."""
    profile: str = ""
    filled_in: dict[int, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frame)


@dataclass(frozen=True, slots=True)
class Receiver:
    """Who gets the goods; field names are the importer's, not a provider's."""

    name: str = ""
    phone: str = ""
    mobile: str = ""
    country: str = ""
    province: str = ""
    city: str = ""
    district: str = ""
    address: str = ""
    zip: str = ""
    tax_id: str = ""
    """The receiver's tax or identity number (CPF/CNPJ in Brazil) for customs, sent where a provider has a field."""


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One sheet row inside an order."""

    row_id: int
    line_no: str
    item_id: str
    sku_id: str
    quantity: int
    unit_price: Decimal | None = None
    currency: str = ""
    title: str = ""
    remark: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OrderDraft:
    """One order to send: a receiver and its lines, for one provider."""

    provider: str
    order_ref: str
    receiver: Receiver
    lines: tuple[OrderLine, ...]
    remark: str = ""
    sheet: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)
    source: str = ""
    """The name of the file the order was read from ('' for a frame built in code); kept in the ledger."""
    ref_scope: str = ""
    """What the order_ref is unique within besides the account: '' (the account), or the file's name
    when ``[run] order_ref_scope = "file"``; part of the external id."""

    @property
    def row_ids(self) -> list[int]:
        return [line.row_id for line in self.lines]


@dataclass(frozen=True, slots=True)
class LinePreview:
    """What a provider's preview says about one line. Money in yuan (or the given currency)."""

    unit_price: Decimal | None = None
    amount: Decimal | None = None
    currency: str = ""
    error: str | None = None
    error_code: str | None = None


@dataclass(frozen=True, slots=True)
class OrderPreview:
    """A provider's preview of one order.

    ``lines`` is keyed by the order line's ``line_no``. ``context`` carries what
    the create call must reuse from the preview (e.g. 1688's trade type).
    """

    ok: bool
    lines: Mapping[str, LinePreview] = field(default_factory=dict)
    freight: Decimal | None = None
    total: Decimal | None = None
    currency: str = ""
    error: str | None = None
    error_code: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LineCreation:
    """What a provider's create answer says about one line."""

    provider_order_id: str = ""
    provider_line_id: str = ""
    amount: Decimal | None = None
    currency: str = ""
    error: str | None = None
    error_code: str | None = None


@dataclass(frozen=True, slots=True)
class OrderCreation:
    """A provider's answer to creating one order; ``lines`` keyed by ``line_no``."""

    ok: bool
    provider_order_ids: tuple[str, ...] = ()
    lines: Mapping[str, LineCreation] = field(default_factory=dict)
    total: Decimal | None = None
    currency: str = ""
    error: str | None = None
    error_code: str | None = None
