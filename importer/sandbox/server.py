"""The sandbox's HTTP layer: a threaded loopback server, a router and the provider-module contract.

A provider module subclasses :class:`ProviderSandbox` and lists its routes as
``(method, documented path, handler)``; the server serves each under the
module's ``PREFIX``. Handlers see a parsed :class:`Request` and return
``(status, json_body)`` or ``(status, json_body, headers)``. Faults are applied
here, before dispatch, so every provider meets them the same way.

A create waits ``create_delay`` seconds before it is handled, so the order is
made (and visible to lookups) only then, and its answer comes right after:
a slow real provider. ``GET /_sandbox/orders`` answers how many orders were
made under each external id, for a test in another process to count
duplicates; it is neither counted nor faulted.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

from .faults import FaultAction, Faults, LookupAnswer
from .state import SandboxState

MAX_BODY = 10 * 1024 * 1024
ORDERS_PATH = "/_sandbox/orders"

Reply = tuple[int, Any] | tuple[int, Any, Mapping[str, str]]
Handler = Callable[["Request"], Reply]


@dataclass(frozen=True)
class Request:
    """One call as a handler sees it. Header names are lower-case."""

    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    json: Any = None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class ProviderSandbox:
    """Base of the per-provider sandbox modules.

    ``PROVIDER_KEY`` is the adapter's registry key, ``PREFIX`` the path the
    provider's documented base URL maps to, ``CREDENTIALS`` the credential
    values the sandbox accepts and ``OPTIONS`` the account options a client
    needs (e.g. a user id).
    """

    PROVIDER_KEY: ClassVar[str]
    PREFIX: ClassVar[str]
    CREDENTIALS: ClassVar[Mapping[str, str]]
    OPTIONS: ClassVar[Mapping[str, Any]] = {}
    EXAMPLE_LINES: ClassVar[Mapping[str, list[dict[str, str]]]] = {}
    """Sheet lines (``item_id``, ``sku_id``, ``quantity``) the contract tests and templates use:
    ``clean`` (two sellers), ``unknown_item`` and ``out_of_stock``."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def routes(self) -> list[tuple[str, str, Handler]]:
        """``(method, documented path, handler)`` for every endpoint this provider serves."""
        raise NotImplementedError

    def create_paths(self) -> list[str]:
        """The documented paths that create orders; ``CREATE_PATH`` when the module declares one."""
        path = getattr(self, "CREATE_PATH", None)
        return [path] if isinstance(path, str) else []

    def lookup_paths(self) -> list[str]:
        """The paths that look orders up by external id (where the lookup-answer faults apply)."""
        return []

    def error_envelope(self) -> Any:
        """This provider's answer body for an internal error, in its own envelope (a lookup-answer fault)."""
        return {"error": "internal error"}


class Router:
    """Maps (method, full path) to a handler; a path may be registered once per method."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], Handler] = {}
        self._creates: set[str] = set()
        self._lookups: dict[str, ProviderSandbox] = {}
        self._prefixes: list[str] = []

    def add(self, method: str, path: str, handler: Handler) -> None:
        key = (method.upper(), path)
        if key in self._routes:
            raise ValueError(f"sandbox route {method} {path} is registered twice")
        self._routes[key] = handler

    def mount(self, module: ProviderSandbox) -> None:
        prefix = module.PREFIX.rstrip("/")
        self._prefixes.append(prefix)
        for method, path, handler in module.routes():
            self.add(method, prefix + "/" + path.lstrip("/"), handler)
        for path in module.create_paths():
            self._creates.add(prefix + "/" + path.lstrip("/"))
        for path in module.lookup_paths():
            self._lookups[prefix + "/" + path.lstrip("/")] = module

    def is_create(self, path: str) -> bool:
        """Whether ``path`` creates orders (where commit-then-drop faults apply)."""
        return path in self._creates

    def lookup_module(self, path: str) -> ProviderSandbox | None:
        """The module whose lookup ``path`` is, or None when it is not a lookup."""
        return self._lookups.get(path)

    def provider_of(self, path: str) -> str:
        """The mount prefix a path belongs to: the unit the sandbox's rate limit counts in."""
        return next((prefix for prefix in self._prefixes if path.startswith(prefix + "/")), "")

    def match(self, method: str, path: str) -> Handler | None:
        return self._routes.get((method.upper(), path))

    def knows_path(self, path: str) -> bool:
        return any(p == path for _, p in self._routes)

    def paths(self) -> list[str]:
        return sorted(f"{m} {p}" for m, p in self._routes)


class SandboxServer(ThreadingHTTPServer):
    """A threaded HTTP server with its router, state and (replaceable) faults."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        router: Router,
        state: SandboxState,
        faults: Faults,
        verbose: bool = False,
        create_delay: float = 0.0,
    ) -> None:
        super().__init__(address, _Handler)
        self.router = router
        self.state = state
        self.faults = faults
        self.verbose = verbose
        self.create_delay = create_delay

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (killed, timed out) is normal here; anything else is printed."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Reads one call, applies faults, dispatches and writes the JSON answer."""

    server: SandboxServer
    protocol_version = "HTTP/1.1"
    # The headers and the body go out in two writes; with Nagle's algorithm on, the body waits for
    # the client's delayed ACK of the headers (about 40 ms on Linux) on every kept-alive call.
    disable_nagle_algorithm = True
    timeout = 30  # idle keep-alive connections are closed after this many seconds
    server_version = "order-importer-sandbox"

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            sys.stderr.write(f"sandbox: {format % args}\n")

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(413, {"error": "request body too large"}, close=True)
            return
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        state = self.server.state
        if split.path == ORDERS_PATH and self.command == "GET":
            self._send(200, state.order_counts())
            return
        state.record_call(self.command, split.path)
        faults = self.server.faults
        router = self.server.router
        delay = faults.delay(split.path)
        if delay:
            time.sleep(delay)
        wait = faults.over_rate_limit(router.provider_of(split.path))
        if wait is not None:
            self._send(429, {"error": "sandbox: rate limit exceeded"}, headers={"Retry-After": f"{wait:.3f}"})
            return
        action = faults.choose(is_create=router.is_create(split.path))
        if self._refused_by_fault(action):
            return
        if router.is_create(split.path) and self.server.create_delay > 0:
            time.sleep(self.server.create_delay)  # a slow provider: the order is made only after this
        handler = self.server.router.match(self.command, split.path)
        if handler is None:
            status = 405 if self.server.router.knows_path(split.path) else 404
            self._send(status, {"error": f"no sandbox endpoint {self.command} {split.path}"})
            return
        request = Request(
            method=self.command,
            path=split.path,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            json=_parse_json(body),
        )
        try:
            reply = handler(request)
        except Exception:
            text = traceback.format_exc()
            state.record_error(text)
            sys.stderr.write(f"sandbox handler error on {self.command} {split.path}:\n{text}")
            self._send(500, {"error": "sandbox handler error"})
            return
        if action is FaultAction.DROP_AFTER_COMMIT:
            self._drop()
            return
        if action is FaultAction.ERROR_AFTER_COMMIT:
            self._send(500, {"error": "sandbox fault: HTTP 500 after the order was made"})
            return
        headers: Mapping[str, str] = reply[2] if len(reply) == 3 else {}
        status, payload = reply[0], reply[1]
        module = router.lookup_module(split.path)
        if module is not None and faults.lookup_answer is not LookupAnswer.AS_IS:
            status, payload = _bent_lookup(faults.lookup_answer, status, payload, module)
        self._send(status, payload, headers=headers)

    def _refused_by_fault(self, action: FaultAction) -> bool:
        """Act on a fault that happens before the provider logic; True when the call ends here."""
        faults = self.server.faults
        if action is FaultAction.HTTP_500:
            self._send(500, {"error": "sandbox fault: injected HTTP 500"})
        elif action is FaultAction.HTTP_503:
            self._send(503, {"error": "sandbox fault: service unavailable"}, headers={"Retry-After": "1"})
        elif action is FaultAction.HTTP_429:
            self._send(
                429, {"error": "sandbox fault: too many requests"}, headers={"Retry-After": f"{faults.retry_after:g}"}
            )
        elif action is FaultAction.RESET:
            self._drop()
        elif action is FaultAction.STALL:
            time.sleep(faults.stall)  # the client gives up; the call is then handled for nobody
            return False
        else:
            return False
        return True

    def _drop(self) -> None:
        """Close the connection without an answer (RST where the platform allows)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    def _send(self, status: int, payload: Any, headers: Mapping[str, str] | None = None, close: bool = False) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)


def _bent_lookup(shape: LookupAnswer, status: int, payload: Any, module: ProviderSandbox) -> tuple[int, Any]:
    """A lookup's answer turned into a shape the provider's documents never show (a lookup-answer fault)."""
    if shape is LookupAnswer.HTTP_500:
        return 500, {"error": "sandbox fault: HTTP 500 on the lookup"}
    if shape is LookupAnswer.ERROR_ENVELOPE:
        return 200, module.error_envelope()
    if not isinstance(payload, dict):
        return status, payload
    if shape is LookupAnswer.NULL_DATA:
        return status, {**payload, "data": None}
    return status, {**payload, "data": {"unexpected": []}}  # MISSING_KEYS: data without the expected keys


def _parse_json(body: bytes) -> Any:
    """The body as JSON, or None when it is empty or not JSON (handlers answer that in their own words)."""
    if not body:
        return None
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def start_thread(server: SandboxServer) -> threading.Thread:
    """Serve in a daemon thread; stop with ``server.shutdown()``."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="order-importer-sandbox", daemon=True
    )
    thread.start()
    return thread
