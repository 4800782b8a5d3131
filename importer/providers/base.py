"""The one interface every provider adapter implements.

An adapter is a class with four pure hooks, no I/O of its own::

    build_preview_request(order)                     -> ApiRequest
    parse_preview(order, body)                       -> OrderPreview
    build_create_request(order, preview, external_id) -> ApiRequest
    parse_create(order, body)                        -> OrderCreation

plus ``check_envelope`` (the provider's success predicate), a
``capabilities`` table (:mod:`.capabilities`) and, optionally, ``prepare``
(e.g. item-id mapping), the order lookup by external id (``lookup_request`` +
``parse_lookup``, run by ``find_order``) and ``check_request`` (the documented
call that buys nothing, for check-config). ``ENDPOINTS`` and ``FIELDS`` list
every call and request field with its source (:mod:`.fields`); refusals that
name a field are reworded in the sheet's words.
The base class owns what is the same everywhere: URL joining, signing through
the account's auth scheme, timeouts, and turning transport failures into the
typed errors of :mod:`importer.errors`.
"""

from __future__ import annotations

import json
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, Protocol

import requests
import urllib3

from .. import money
from ..config import Account
from ..errors import ConfigError, NotSent, OutcomeUnknown, ProviderError, Rejected, Transient
from ..http import make_session, redact, shared_limiter
from ..logs import log
from ..models import LinePreview, OrderCreation, OrderDraft, OrderPreview
from .capabilities import Capabilities
from .fields import Endpoint, RequestField, read_choice, read_flag, read_text, sheet_words

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class Found:
    """A lookup found the order: the provider's ids (several when it was split, or created twice)."""

    creation: OrderCreation


@dataclass(frozen=True)
class Absent:
    """The lookup answered, in exactly its declared "no such order" shape, that it has no such order."""


@dataclass(frozen=True)
class Unsure:
    """The lookup proves nothing: an error, an answer of another shape, or no lookup at all."""

    reason: str


LookupResult = Found | Absent | Unsure


@dataclass(frozen=True)
class ApiRequest:
    """A request as the provider documents it, before auth and transport."""

    method: str
    path: str
    json: Any = None
    params: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        return f"{self.method} {self.path}"


CENT = Decimal("0.01")


def fen_to_yuan(value: Any) -> Decimal | None:
    """Convert an integer amount in fen (1/100 yuan) to exact yuan."""
    if value is None or value == "":
        return None
    return money.fen_to_yuan(int(value)) if isinstance(value, int) else (Decimal(str(value)) / 100).quantize(CENT)


def yuan_to_fen(value: Decimal) -> int:
    """Convert exact yuan to integer fen, refusing sub-fen amounts instead of rounding."""
    return money.to_fen(value)


def compact_json(value: Any) -> str:
    """JSON as providers expect inside string fields: no spaces, UTF-8 kept as is."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class MappingStore(Protocol):
    """Keeps item-id mappings between runs (implemented by the ledger)."""

    def cached_mapping(self, provider: str, account: str, raw_id: str) -> dict[str, Any] | None: ...

    def remember_mapping(self, provider: str, account: str, raw_id: str, mapping: dict[str, Any]) -> None: ...


class Provider(ABC):
    """Base class of every provider adapter."""

    key: ClassVar[str]
    """Registry key, e.g. ``xportcn-open``; what users write in the provider column."""
    title: ClassVar[str]
    """Human name for messages and the README."""
    default_base_url: ClassVar[str]
    """The production base URL from the provider's documentation."""
    sandbox_prefix: ClassVar[str]
    """Path prefix under which the bundled sandbox serves this provider."""
    columns: ClassVar[tuple[str, ...]] = ()
    """Provider-specific sheet columns this adapter reads (besides the canonical ones)."""
    default_rate_limit: ClassVar[float] = 10.0
    """Calls per second when the account sets no ``rate_limit`` (none is documented; 0 means no limit)."""
    ENDPOINTS: ClassVar[tuple[Endpoint, ...]] = ()
    """Every call the adapter makes, with its source (the docs table)."""
    FIELDS: ClassVar[tuple[RequestField, ...]] = ()
    """Every request field, with its sheet column and source (the docs table and the sheet-words rewording)."""
    CONFIG: ClassVar[tuple[tuple[str, str, str], ...]] = ()
    """Account options the adapter reads: (key, default, what it is); "required" when there is no default."""
    capabilities: ClassVar[Capabilities]
    """What this provider is known to do, each fact with its basis and source (see :mod:`.capabilities`).

    Its ``preview`` fact decides whether the preview is called unconfigured
    (only when documented), and ``create_needs_preview`` whether an order may
    go to create without one.
    """

    mapping_store: MappingStore | None = None
    """Where adapters that map item ids keep mappings across runs (the run's ledger); set by the submitter."""

    def __init__(self, account: Account, session: requests.Session | None = None) -> None:
        self.account = account
        self.session = session or make_session(account.concurrency)
        rate = account.rate_limit if account.rate_limit is not None else self.default_rate_limit
        account_key = f"{self.key}|{account.name}|{account.base_url}"
        self.limiter = shared_limiter(account_key, rate) if rate > 0 else None
        self.auth = self.make_auth(account)
        self.check_options()

    # ----- hooks for adapters -------------------------------------------------
    @abstractmethod
    def make_auth(self, account: Account) -> requests.auth.AuthBase | None:
        """The auth scheme for this account."""

    def prepare(self, order: OrderDraft) -> tuple[OrderDraft, Mapping[str, str]]:
        """Adapt an order before it is sent, e.g. map raw item ids to the provider's own.

        Returns the adapted order and, by ``line_no``, the lines that cannot be
        sent and why (an item the provider cannot map). Identity by default.
        """
        return order, {}

    @abstractmethod
    def build_preview_request(self, order: OrderDraft) -> ApiRequest: ...

    @abstractmethod
    def parse_preview(self, order: OrderDraft, body: JsonDict) -> OrderPreview: ...

    @abstractmethod
    def build_create_request(self, order: OrderDraft, preview: OrderPreview, external_id: str) -> ApiRequest: ...

    @abstractmethod
    def parse_create(self, order: OrderDraft, body: JsonDict) -> OrderCreation: ...

    @abstractmethod
    def check_envelope(self, body: JsonDict, endpoint: str) -> None:
        """Raise a ProviderError when the response envelope says the call failed.

        Providers answer HTTP 200 for business errors, so this is where each
        adapter's success predicate lives.
        """

    def lookup_request(self, external_id: str) -> ApiRequest | None:
        """The lookup call for one external id, as ``capabilities.lookup`` declares it; None without one."""
        return None

    def parse_lookup(self, external_id: str, body: JsonDict) -> LookupResult:
        """Read a lookup answer: Found, Absent only for the exact declared "no such order" shape, else Unsure."""
        return Unsure(f"{self.title} has no known order lookup")

    def find_order(self, external_id: str) -> LookupResult:
        """Look an order up by the external id sent on create.

        Raises ProviderError when the call fails (so a caller may retry a
        Transient); any answer is read by :meth:`parse_lookup`. Use
        :meth:`look_up` for a result that never raises.
        """
        request = self.lookup_request(external_id)
        if request is None or self.capabilities.lookup.value is None:
            return Unsure(f"{self.title} has no known order lookup; check the order in the provider's console")
        body = self.send(request, may_have_side_effects=False)
        return self.parse_lookup(external_id, body)

    def look_up(self, external_id: str) -> LookupResult:
        """:meth:`find_order`, with a failed call (HTTP 500, a timeout, an error envelope) read as Unsure."""
        try:
            return self.find_order(external_id)
        except ProviderError as error:
            return Unsure(f"the lookup failed: {error}")

    def check_options(self) -> None:
        """Read every account option once, so a wrong one is a ConfigError before anything is sent."""
        return None

    def check_request(self) -> ApiRequest | None:
        """A documented call that buys nothing, to test the credentials; None when no document gives one."""
        return None

    # ----- account options, read strictly --------------------------------------
    def option_flag(self, name: str, default: bool) -> bool:
        """A yes/no account option; ``"false"`` is false, and a word that is not yes or no is a ConfigError."""
        return read_flag(self.account.options, name, default, self.key)

    def option_text(self, name: str, default: str = "") -> str:
        """A text account option, stripped."""
        return read_text(self.account.options, name, default, self.key)

    def option_choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        """A text account option that must be one of ``choices``."""
        return read_choice(self.account.options, name, default, choices, self.key)

    def required_option(self, name: str, why: str) -> str:
        """A text account option the provider's document requires; a ConfigError before anything is sent."""
        value = self.option_text(name)
        if not value:
            raise ConfigError(f"[providers.{self.key}] needs {name}: {why}")
        return value

    # ----- owned by the base --------------------------------------------------
    def preview(self, order: OrderDraft) -> OrderPreview:
        """Preview one order; raises ProviderError when the call itself fails.

        Lines that :meth:`prepare` refused fail here without a call, and hold
        back the rest of their order.
        """
        prepared, refused = self.prepare(order)
        if refused:
            lines = {line.line_no: LinePreview(error=refused.get(line.line_no)) for line in order.lines}
            return OrderPreview(ok=False, lines=lines, error="some lines cannot be sent to this provider")
        if self.capabilities.preview_inferred and not self.option_text("preview_path"):
            return self._no_preview(order)
        request = self.build_preview_request(prepared)
        body = self.send(request, may_have_side_effects=False)
        return self.parse_preview(prepared, body)

    def _no_preview(self, order: OrderDraft) -> OrderPreview:
        """No document gives this provider's preview call and none is configured: go straight to create, or stop."""
        if not self.capabilities.create_needs_preview.value:
            note = (
                f"not previewed: {self.title} documents no preview call, and its create needs none; "
                "the order goes straight to create (set preview_path to call an inferred one)"
            )
            return OrderPreview(
                ok=True, lines={line.line_no: LinePreview() for line in order.lines}, context={"note": note}
            )
        raise Rejected(
            f"preview unavailable: {self.title} documents no preview call and its create needs one; "
            "nothing was created (set preview_path once the provider confirms it)",
            provider=self.key,
            endpoint="preview",
        )

    def check_credentials(self) -> str:
        """Try the credentials with :meth:`check_request`; what was tried, or why it cannot be tried."""
        request = self.check_request()
        if request is None:
            return f"not checked: {self.title} documents no call that buys nothing"
        self.send(request, may_have_side_effects=False)
        return f"ok ({request.describe()} answered; nothing was bought)"

    def create(self, order: OrderDraft, preview: OrderPreview, external_id: str) -> OrderCreation:
        """Create one order. Never retried here: an unclear outcome raises OutcomeUnknown."""
        prepared, refused = self.prepare(order)
        if refused:
            raise Rejected(
                f"order {order.order_ref} has items that cannot be mapped: {'; '.join(refused.values())}",
                provider=self.key,
                endpoint="prepare",
            )
        request = self.build_create_request(prepared, preview, external_id)
        body = self.send(request, may_have_side_effects=True)
        return self.parse_create(prepared, body)

    def url(self, path: str) -> str:
        return self.account.base_url.rstrip("/") + "/" + path.lstrip("/")

    def _secrets(self) -> list[str]:
        return [s.reveal() for s in self.account.credentials.values()]

    def _error(
        self, kind: type[ProviderError], message: str, request: ApiRequest, code: str | None = None
    ) -> ProviderError:
        return kind(redact(message, self._secrets()), provider=self.key, endpoint=request.describe(), code=code)

    def send(self, request: ApiRequest, *, may_have_side_effects: bool) -> JsonDict:
        """Send one request and return its JSON body after the envelope check.

        Failures are typed by what they mean for a retry: a connection that was
        never made (refused, or timed out while connecting) and a 429 are
        NotSent; a timeout or server error after the request was sent is
        Transient for a preview and OutcomeUnknown for a create.
        """
        unclear: type[ProviderError] = OutcomeUnknown if may_have_side_effects else Transient
        if self.limiter is not None:
            self.limiter.acquire()
        started = time.monotonic()
        if log.isEnabledFor(logging.DEBUG):
            body = redact(json.dumps(request.json, ensure_ascii=False, default=str), self._secrets())
            log.debug("%s %s %s", request.method, request.path, body[:2000], extra={"provider": self.key})
        try:
            response = self.session.request(
                request.method,
                self.url(request.path),
                json=request.json if request.method != "GET" else None,
                params=request.params or None,
                auth=self.auth,
                timeout=(self.account.connect_timeout, self.account.read_timeout),
            )
        except requests.exceptions.ConnectTimeout:
            raise self._error(NotSent, "could not connect (timed out)", request) from None
        except requests.exceptions.ReadTimeout:
            raise self._error(unclear, f"no answer within {self.account.read_timeout:g} s", request) from None
        except requests.exceptions.ConnectionError as exc:
            # A refused connection never reached the provider; a reset after
            # sending might have. Only urllib3's failure to establish the
            # connection (by its type) counts as safe.
            if _never_connected(exc):
                raise self._error(NotSent, "could not connect", request) from None
            raise self._error(unclear, "connection lost before an answer came back", request) from None
        elapsed = round((time.monotonic() - started) * 1000)
        log.debug(
            "%s %s -> HTTP %s in %d ms",
            request.method,
            request.path,
            response.status_code,
            elapsed,
            extra={"provider": self.key, "endpoint": request.describe(), "ms": elapsed},
        )
        try:
            return self._decode(response, request, unclear)
        except Rejected as error:
            raise self.in_sheet_words(error) from None

    def _decode(self, response: requests.Response, request: ApiRequest, unclear: type[ProviderError]) -> JsonDict:
        status = response.status_code
        if status == 429 or (status == 503 and unclear is Transient):
            # 429 is always safe to retry (NotSent); a 503 on a create is treated
            # as unclear below, because a proxy may answer 503 after forwarding.
            slow_down: type[Transient] = NotSent if status == 429 else Transient
            raise slow_down(
                f"HTTP {status}: the provider asks to slow down",
                provider=self.key,
                endpoint=request.describe(),
                code=str(status),
                retry_after=_retry_after(response),
            )
        if status >= 500:
            raise self._error(unclear, f"HTTP {status} from the provider", request, code=str(status))
        try:
            body = response.json()
        except ValueError:
            kind = unclear if status < 400 else Rejected
            raise self._error(kind, f"HTTP {status} with a body that is not JSON", request, code=str(status)) from None
        if status >= 400:
            raise self._error(Rejected, f"HTTP {status}: {_short(body)}", request, code=str(status))
        if not isinstance(body, dict):
            raise self._error(unclear, "answer is not a JSON object", request)
        self.check_envelope(body, request.describe())
        return body

    def in_sheet_words(self, error: Rejected) -> Rejected:
        """A refusal that names request fields, reworded with the sheet's columns (the provider's text kept)."""
        words = sheet_words(self.FIELDS, self.key, error.message)
        if words is None:
            return error
        return type(error)(words, provider=error.provider, endpoint=error.endpoint, code=error.code)


def _never_connected(exc: BaseException) -> bool:
    """Whether the connection was never made, judged by the types in the exception's chain.

    urllib3 wraps a refused connection, a failed name lookup and a connect
    timeout as ``NewConnectionError`` (or ``ConnectTimeoutError``) inside a
    ``MaxRetryError`` inside requests' ``ConnectionError``.
    """
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        error = todo.pop()
        if not isinstance(error, BaseException) or id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, urllib3.exceptions.ConnectTimeoutError | ConnectionRefusedError):
            return True
        todo.extend([*error.args, getattr(error, "reason", None), error.__cause__, error.__context__])
    return False


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _short(body: Any) -> str:
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    return text[:300]
