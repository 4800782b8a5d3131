"""A bundled stand-in for the providers: one loopback HTTP server, one module per provider.

The importer talks to it over real HTTP exactly as it talks to the providers,
so tests, demos and ``--sandbox`` runs exercise signing, encoding, envelopes,
partial success and faults end to end::

    with Sandbox.start() as sandbox:
        importer.run("orders.xlsx", settings=sandbox.settings())

Adding a provider is a new module beside ``xportcn_open.py`` with a
:class:`ProviderSandbox` subclass, and one line in :data:`SANDBOX_MODULES`.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from ..config import Account, Secret, Settings
from .dajisaas import DajisaasSandbox
from .faults import FaultAction, Faults, LookupAnswer
from .server import ProviderSandbox, Request, Router, SandboxServer, start_thread
from .shanjing import ShanjingSandbox
from .state import SandboxState
from .xportcn_ka_1688 import XportcnKa1688Sandbox
from .xportcn_ka_taobao import XportcnKaTaobaoSandbox
from .xportcn_open import XportcnOpenSandbox

__all__ = [
    "SANDBOX_MODULES",
    "FaultAction",
    "Faults",
    "LookupAnswer",
    "ProviderSandbox",
    "Request",
    "Sandbox",
    "SandboxState",
    "serve",
]

SANDBOX_MODULES: tuple[type[ProviderSandbox], ...] = (
    XportcnOpenSandbox,
    XportcnKaTaobaoSandbox,
    XportcnKa1688Sandbox,
    DajisaasSandbox,
    ShanjingSandbox,
)
"""Every provider the sandbox serves; one entry per provider module."""

CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 10.0
SETTLE_MARGIN = 2.0
"""Seconds, beyond the longest a create can take here, before a lookup's "no such order" is believed."""


class Sandbox:
    """A running sandbox: its URL, its shared state, and settings that point at it.

    Start with :meth:`start` (usable as a context manager); ``faults`` may be
    replaced while it runs.
    """

    def __init__(self, server: SandboxServer, modules: list[ProviderSandbox]) -> None:
        self._server = server
        self._modules = modules
        self._thread: threading.Thread | None = None

    @classmethod
    def start(
        cls,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
        verbose: bool = False,
        modules: Sequence[type[ProviderSandbox]] = SANDBOX_MODULES,
        create_delay: float = 0.0,
        state_dir: str | Path | None = None,
    ) -> Sandbox:
        """Bind ``host:port`` (port 0 picks a free one) and serve ``modules`` in a background thread.

        ``create_delay``: seconds a create takes before the order is made and
        answered (a slow provider). ``state_dir``: a folder where created
        orders are kept, so they survive a restart.
        """
        if create_delay < 0:
            raise ValueError("create_delay must not be negative")
        state = SandboxState(state_dir)
        instances = [module(state) for module in modules]
        router = Router()
        for instance in instances:
            router.mount(instance)
        server = SandboxServer((host, port), router, state, faults or Faults(), verbose, create_delay)
        sandbox = cls(server, instances)
        sandbox._thread = start_thread(server)
        return sandbox

    def stop(self) -> None:
        """Stop serving and release the port; safe to call twice."""
        if self._thread is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._thread = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def state(self) -> SandboxState:
        return self._server.state

    @property
    def faults(self) -> Faults:
        return self._server.faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self._server.faults = faults

    @property
    def create_delay(self) -> float:
        return self._server.create_delay

    @property
    def settle_seconds(self) -> float:
        """How long after a send a lookup here may be believed: the longest a create can take, plus a margin."""
        faults = self.faults
        longest_delay = faults.latency + max(faults.endpoint_latency.values(), default=0.0)
        stall = faults.stall if faults.stall_rate > 0 else 0.0
        return round(self.create_delay + longest_delay + stall + SETTLE_MARGIN, 3)

    def reset(self) -> None:
        """Forget orders and counts, restore stock, and clear faults."""
        self._server.faults = Faults()
        self.state.reset()

    def module(self, provider: str) -> ProviderSandbox:
        """The running sandbox module of one provider (for its test knobs, e.g. expiring tokens)."""
        for module in self._modules:
            if provider == module.PROVIDER_KEY:
                return module
        raise KeyError(f"the sandbox does not serve provider '{provider}'")

    def set_token_lifetime(self, seconds: float) -> None:
        """How long bearer tokens issued from now on live, for every module that issues them."""
        for module in self._modules:
            if hasattr(module, "token_lifetime"):
                module.token_lifetime = seconds

    def routes(self) -> list[str]:
        """Every ``METHOD /path`` served, for the console and for debugging."""
        return self._server.router.paths()

    def account(self, provider: str) -> Account:
        """An account for one sandbox provider, with the sandbox's credentials."""
        for module in self._modules:
            if provider == module.PROVIDER_KEY:
                return Account(
                    provider=provider,
                    base_url=self.url + module.PREFIX,
                    name="sandbox",
                    credentials={k: Secret(v) for k, v in module.CREDENTIALS.items()},
                    options={**module.OPTIONS, **self.trust_options()},
                    connect_timeout=CONNECT_TIMEOUT,
                    read_timeout=READ_TIMEOUT,
                    rate_limit=0.0,  # no client-side limit; the sandbox enforces one only when its faults say so
                )
        raise KeyError(f"the sandbox does not serve provider '{provider}'")

    def trust_options(self) -> dict[str, Any]:
        """The sandbox's lookups are its own: their "no such order" is true once a create had time to finish."""
        return {"trust_lookup_absent": True, "settle_seconds": self.settle_seconds}

    def settings(self) -> Settings:
        """Settings with one account per sandbox provider."""
        return Settings(accounts={m.PROVIDER_KEY: self.account(m.PROVIDER_KEY) for m in self._modules})

    def config_text(self) -> str:
        """An ``importer.toml`` and the environment variables that point a real run at this sandbox."""
        toml: list[str] = []
        env: list[str] = []
        for module in self._modules:
            toml.append(f"[providers.{module.PROVIDER_KEY}]")
            toml.append(f"base_url = {json.dumps(self.url + module.PREFIX)}")
            for name, value in module.CREDENTIALS.items():
                variable = f"{module.PROVIDER_KEY}_{name}".upper().replace("-", "_")
                toml.append(f"{name}_env = {json.dumps(variable)}")
                env.append(f"export {variable}={value}")
            options = {**module.OPTIONS, **self.trust_options()}
            toml.extend(f"{name} = {_toml_value(value)}" for name, value in options.items())
            toml.append("rate_limit = 0  # the sandbox only limits when started with --rate-limit")
            toml.append("")
        return "\n".join(["# importer.toml", *toml, "# environment", *env, ""])

    def write_config(self, path: str | Path) -> dict[str, str]:
        """Write an ``importer.toml`` pointing at this sandbox; return the environment variables it names."""
        text = self.config_text()
        toml, _, exports = text.partition("# environment\n")
        Path(path).write_text(toml, encoding="utf-8")
        pairs = (line.removeprefix("export ").partition("=") for line in exports.splitlines() if line)
        return {name: value for name, _, value in pairs}


def _toml_value(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    faults: Faults | None = None,
    out: TextIO = sys.stdout,
    token_lifetime: float | None = None,
    create_delay: float = 0.0,
    state_dir: str | Path | None = None,
) -> None:
    """Run the sandbox until interrupted, after printing where it listens and how to point a run at it."""
    sandbox = Sandbox.start(
        host=host, port=port, faults=faults, verbose=True, create_delay=create_delay, state_dir=state_dir
    )
    if token_lifetime is not None:
        sandbox.set_token_lifetime(token_lifetime)
    try:
        print(f"order-importer sandbox listening on {sandbox.url} (Ctrl+C to stop)", file=out)
        if sandbox.faults.active:
            print(f"faults: {sandbox.faults}", file=out)
        if create_delay:
            print(f"creates take {create_delay:g} s", file=out)
        if state_dir is not None:
            print(f"orders are kept in {state_dir}", file=out)
        print("", file=out)
        print(sandbox.config_text(), file=out, flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        print("sandbox stopped", file=out)
    finally:
        sandbox.stop()
