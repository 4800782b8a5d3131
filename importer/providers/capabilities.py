"""What each provider is known to do, declared once per adapter, each fact with its basis and source.

Exactly-once rests on a few facts about a provider: which create field carries
our external id, whether a repeated id is refused, whether orders can be
looked up by that id and what the lookup answers. The provider documents are
thin, so every fact says whether a document states it (``documented``, with
the document and section) or the importer assumes it (``inferred``). Code
decides from these facts, never from its own copy of them: reconciliation
trusts a lookup's "no such order" only when the lookup is documented (or the
user switched it on after checking with the provider), tests read the partial
and split facts, and ``check-config`` and the docs print the table.
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
    """The endpoint that prices an order without buying it."""

    @property
    def absence_documented(self) -> bool:
        """Whether the lookup's "no such order" answer is documented, so it may prove an order absent."""
        return self.lookup.value is not None and self.lookup.basis == "documented"

    def rows(self) -> list[tuple[str, str, str, str]]:
        """``(fact, value, basis, source)`` per fact, for the console and the docs."""
        table: list[tuple[str, str, str, str]] = []
        for item in fields(self):
            fact: Fact[Any] = getattr(self, item.name)
            value = fact.value.describe() if isinstance(fact.value, Lookup) else fact.value
            table.append((item.name, "none" if value is None else str(value), fact.basis, fact.source))
        return table
