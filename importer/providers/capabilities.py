"""What each provider is known to do, declared once per adapter, each fact with its basis and source.

Exactly-once rests on a few facts about a provider: which create field carries
our external id, whether a repeated id is refused, whether orders can be
looked up by that id and what the lookup answers. The provider documents are
thin, so every fact says whether a document states it (``documented``, with
the document and section) or the importer assumes it (``inferred``). Code
decides from these facts, never from its own copy of them: reconciliation
trusts a lookup's "no such order" only when the lookup is documented (or the
user switched it on after checking with the provider), the base adapter calls
an inferred preview only when configured and creates without one only when the
create needs none, tests read the partial, split and preview facts, and
``check-config`` and the docs print the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Generic, Literal, TypeVar

T = TypeVar("T")
Basis = Literal["documented", "inferred"]
RepeatedId = Literal["refused", "returns-first", "not documented"]


@dataclass(frozen=True)
class Fact(Generic[T]):
    """One thing known about a provider: its value, whether a document says so, and where."""

    value: T
    basis: Basis
    source: str

    def __post_init__(self) -> None:
        if self.basis not in ("documented", "inferred"):
            raise ValueError(f"a fact's basis is 'documented' or 'inferred', not {self.basis!r}")
        if not self.source:
            raise ValueError("a fact names its source (a document and section, or why it is inferred)")


@dataclass(frozen=True)
class Lookup:
    """An order lookup by external id: the call, and the exact answers for "found" and "no such order".

    ``found`` and ``absent`` are example answer bodies; the adapter's lookup
    parser accepts exactly these shapes (a test feeds them back to it), and
    any other shape is read as "unsure", never as "absent".
    """

    method: str
    path: str
    request: str
    example_id: str
    """The external id the example answers are for."""
    found: Mapping[str, Any]
    absent: Mapping[str, Any]

    def describe(self) -> str:
        return f"{self.method} {self.path} {self.request}"


@dataclass(frozen=True)
class Capabilities:
    """The facts exactly-once and the contract tests rely on, for one provider."""

    caller_id_field: Fact[str]
    """The create field that carries the importer's external id."""
    repeated_id: Fact[RepeatedId]
    """What the provider does with a second create under the same id."""
    lookup: Fact[Lookup | None]
    """How to look an order up by external id; None when there is no known way."""
    money_unit: Fact[str]
    """The unit of amounts in requests and answers (``fen`` = 1/100 yuan)."""
    partial_create: Fact[bool]
    """Whether one create may buy some lines and refuse others."""
    splits_by_seller: Fact[bool]
    """Whether one create answers one order id per seller (True) or one for the whole order."""
    preview: Fact[str]
    """The endpoint that prices an order without buying it; an inferred one is called only when configured."""
    create_needs_preview: Fact[bool]
    """Whether the documented create needs what a preview gives (prices, amounts), so cannot go without one."""

    @property
    def absence_documented(self) -> bool:
        """Whether the lookup's "no such order" answer is documented, so it may prove an order absent."""
        return self.lookup.value is not None and self.lookup.basis == "documented"

    @property
    def preview_inferred(self) -> bool:
        """Whether no document gives the preview call, so it is made only when the account sets ``preview_path``."""
        return self.preview.basis == "inferred"

    def rows(self) -> list[tuple[str, str, str, str]]:
        """``(fact, value, basis, source)`` per fact, for the console and the docs."""
        table: list[tuple[str, str, str, str]] = []
        for item in fields(self):
            fact: Fact[Any] = getattr(self, item.name)
            value = fact.value.describe() if isinstance(fact.value, Lookup) else fact.value
            table.append((item.name, "none" if value is None else str(value), fact.basis, fact.source))
        return table


def markdown_table(declared: Mapping[str, Capabilities]) -> str:
    """The capabilities of every provider as one Markdown table per provider (docs/reliability.md holds it)."""
    parts: list[str] = []
    for key, capabilities in sorted(declared.items()):
        parts += [f"#### {key}", "", "| fact | value | basis | source |", "|---|---|---|---|"]
        for name, value, basis, source in capabilities.rows():
            cells = (cell.replace("|", "\\|") for cell in (name, value, basis, source))
            parts.append("| " + " | ".join(cells) + " |")
        parts.append("")
    return "\n".join(parts)
