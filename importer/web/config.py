"""The team server's own settings: the ``[server]`` table of ``importer.toml``.

The provider accounts and limits come from :func:`importer.config.load_settings`
as for the command line; this table adds where the server keeps its private
files (uploads, results, users, the session key) and for how long.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ..config import CONFIG_ENV, Settings
from ..errors import ConfigError

_KNOWN_KEYS = ("data_dir", "users_file", "keep_days", "max_total", "session_hours")


def default_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/order-importer/server`` (``~/.local/share/...`` when unset)."""
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "order-importer" / "server"


@dataclass(frozen=True)
class ServerConfig:
    """Where the server keeps its files and the rules it applies to every user."""

    data_dir: Path
    users_file: Path
    keep_days: float = 7.0
    """Uploads, previews and results older than this are deleted."""
    max_total: Decimal | None = None
    """The budget guard: a run whose previewed total is above this buys nothing."""
    session_hours: float = 12.0
    """How long a sign-in lasts."""

    @classmethod
    def at(cls, data_dir: Path, **values: Any) -> ServerConfig:
        """Defaults for a data folder (users in ``users.json`` inside it)."""
        users_file = values.pop("users_file", None) or data_dir / "users.json"
        return cls(data_dir=data_dir, users_file=Path(users_file), **values)

    def ledger_path(self, settings: Settings) -> Path:
        """The ledger every purchase goes through: ``[run] ledger``, else one inside the data folder."""
        return settings.ledger or self.data_dir / "order-importer.ledger.sqlite"


def load_server_config(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> ServerConfig:
    """Read ``[server]`` from the config file ``load_settings`` would read; defaults when absent."""
    environ = os.environ if environ is None else environ
    config = Path(path) if path is not None else _config_path(environ)
    table: dict[str, Any] = {}
    if config is not None:
        try:
            table = tomllib.loads(config.read_text(encoding="utf-8")).get("server", {})
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise ConfigError(f"config file {config}: {error}") from None
    unknown = sorted(set(table) - set(_KNOWN_KEYS))
    if unknown:
        raise ConfigError(f"[server] has unknown keys {unknown}; known: {', '.join(_KNOWN_KEYS)}")
    base = config.parent if config is not None else Path.cwd()
    data_dir = base / str(table["data_dir"]) if "data_dir" in table else default_data_dir(environ)
    return ServerConfig.at(
        data_dir.expanduser(),
        users_file=(base / str(table["users_file"])).expanduser() if "users_file" in table else None,
        keep_days=_positive(table, "keep_days", 7.0),
        session_hours=_positive(table, "session_hours", 12.0),
        max_total=_amount(table.get("max_total")),
    )


def _config_path(environ: Mapping[str, str]) -> Path | None:
    if CONFIG_ENV in environ:
        return Path(environ[CONFIG_ENV])
    default = Path("importer.toml")
    return default if default.exists() else None


def _positive(table: Mapping[str, Any], key: str, default: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"[server] {key} must be a number above 0; got {value!r}")
    return float(value)


def _amount(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        amount = Decimal(-1)
    if isinstance(value, bool) or not amount.is_finite() or amount < 0:
        raise ConfigError(f"[server] max_total must be an amount of 0 or more, like 5000; got {value!r}")
    return amount
