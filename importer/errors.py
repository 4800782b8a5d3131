"""The importer's exception tree.

Every error a user can meet is an :class:`ImporterError` whose ``str()`` is a
single sentence they can act on. Callers branch on the type, never on text::

    ImporterError
    ├── InputError        a file, sheet, row or cell the user must fix
    ├── ConfigError       a missing or malformed setting or credential
    ├── LedgerBusy        another run holds the ledger
    ├── LedgerMissing     the ledger an earlier run made is gone (a fresh one needs --new-ledger)
    ├── LedgerUnreadable  the ledger file cannot be read
    ├── LedgerConflict    a state change the ledger's transition table forbids
    └── ProviderError     a provider call that did not succeed
        ├── Rejected        the provider said no; retrying will not help
        ├── Transient       the call failed in a way worth another try (a preview may be retried)
        │   └── NotSent         the request certainly never reached the provider: even a create may be sent again
        │       └── ProviderUnavailable  the run stopped calling this provider; nothing was sent
        └── OutcomeUnknown  the provider may have acted; reconcile, never resend

Whether a failed create may be sent again is decided by ``isinstance(error,
NotSent)``, never by the words of its message.
"""

from __future__ import annotations

from pathlib import Path


class ImporterError(Exception):
    """Base of every error the importer raises on purpose."""

    exit_code = 2


class InputError(ImporterError):
    """A problem with the input file that the person who made it can fix.

    The message names the file and, where they apply, the sheet, the row the
    user sees in Excel and the column.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.sheet = sheet
        self.row = row
        self.column = column
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.file:
            where.append(Path(self.file).name)
        if self.sheet:
            where.append(f"sheet '{self.sheet}'")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class ConfigError(ImporterError):
    """A setting or credential is missing or malformed."""


class LedgerBusy(ImporterError):
    """Another run is using the same ledger; this run sent nothing."""


class LedgerMissing(ImporterError):
    """The ledger an earlier run used is gone; the run stops rather than start an empty one and buy again."""


class LedgerUnreadable(ImporterError):
    """The ledger file exists but cannot be read as a ledger; the run stops and sends nothing."""


class LedgerConflict(ImporterError):
    """A ledger state change that :data:`~importer.submit.ledger.TRANSITIONS` does not allow; nothing changed."""

    def __init__(self, message: str, *, key: str = "", state: str = "") -> None:
        self.key = key
        self.state = state
        super().__init__(message)


class ProviderError(ImporterError):
    """A call to a provider did not succeed.

    ``code`` is the provider's own error code when it gave one; ``message`` is
    already redacted and safe to log or write to a workbook.
    """

    exit_code = 1
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        endpoint: str = "",
        code: str | None = None,
    ) -> None:
        self.message = message
        self.provider = provider
        self.endpoint = endpoint
        self.code = code
        super().__init__(self._render())

    def _render(self) -> str:
        code = f" [{self.code}]" if self.code not in (None, "") else ""
        prefix = f"{self.provider} {self.endpoint}".strip()
        return f"{prefix}{code}: {self.message}" if prefix else f"{self.message}{code}"


class Rejected(ProviderError):
    """The provider answered and refused; the same request will fail again."""


class Transient(ProviderError):
    """The provider was unreachable, overloaded or rate limiting; a call without side effects may be retried.

    A Transient that is not a :class:`NotSent` may still have reached the
    provider (a 503 from a proxy, a busy answer): a create that failed so is
    treated as OutcomeUnknown.
    """

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: str | None) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class NotSent(Transient):
    """The request certainly did not reach the provider: a refused connection, a connect timeout, HTTP 429.

    The only kind of failure after which a create may be sent again without a
    lookup first.
    """


class ProviderUnavailable(NotSent):
    """Calls to this provider were stopped for the run after repeated transient failures; nothing was sent."""


class OutcomeUnknown(ProviderError):
    """A create request may have reached the provider but no clear answer came back.

    Never resend blindly: look the order up by its external id first.
    """
