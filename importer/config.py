"""Typed settings: provider accounts, credentials and run limits.

Credentials never live in the config file itself: an account names the
environment variables that hold them, and their values are wrapped in
:class:`Secret`, whose ``repr``/``str`` never show the value.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from .errors import ConfigError

CONFIG_ENV = "ORDER_IMPORTER_CONFIG"
DATA_DIR_ENV = "ORDER_IMPORTER_DATA_DIR"
"""Moves the importer's per-user data folder (the default ledger and the list of ledgers it made)."""

EXCEL_MAX_ROWS = 1_048_576
SEVERITIES = ("error", "warning")


@dataclass(frozen=True)
class InputLimits:
    """What one input file may hold; the defaults fit any sheet Excel itself can make."""

    max_file_mb: float = 200.0
    """Size of the file on disk."""
    max_rows: int = EXCEL_MAX_ROWS
    """Data rows over all sheets."""
    max_uncompressed_mb: float = 2048.0
    """Sum of the declared sizes of an .xlsx's zip members (zip bombs declare huge sizes)."""
    max_compression_ratio: float = 200.0
    """Uncompressed / compressed size of any one member; real sheets stay well under 100."""
    max_zip_members: int = 10_000
    """Members in an .xlsx archive."""
    max_cells: int = 30_000_000
    """Cells in the used range of one sheet, from its first to its last cell (one far stray cell makes it huge)."""

    @classmethod
    def from_config(cls, table: Mapping[str, Any]) -> InputLimits:
        """Limits from the ``[limits]`` table; unknown keys are refused so typos do not go unnoticed."""
        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(table) - set(known))
        if unknown:
            raise ConfigError(f"[limits] has unknown keys {unknown}; known: {', '.join(known)}")
        values: dict[str, Any] = {}
        for name, value in table.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ConfigError(f"[limits] {name} must be a number above 0; got {value!r}")
            values[name] = int(value) if name in ("max_rows", "max_zip_members", "max_cells") else float(value)
        return cls(**values)


def severity_map(table: Mapping[str, Any]) -> dict[str, str]:
    """The config's ``[validation] severity`` table, checked."""
    wrong = {name: value for name, value in table.items() if value not in SEVERITIES}
    if wrong:
        raise ConfigError(f"[validation] severity: {wrong}; each rule is either 'error' or 'warning'")
    return {str(name): str(value) for name, value in table.items()}


class Secret:
    """A credential value that cannot leak through ``repr``, ``str`` or f-strings."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the real value; call only where it is sent to the provider."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True)
class Account:
    """One provider account: where to send requests and how to authenticate.

    ``credentials`` maps a provider's credential names (``access_key``,
    ``secret``, ...) to their values. ``options`` holds account-wide values the
    adapter uses on every order (user id, order source, warehouse address...).
    """

    provider: str
    base_url: str
    name: str = "default"
    credentials: Mapping[str, Secret] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    concurrency: int = 4
    rate_limit: float | None = None

    def credential(self, name: str) -> str:
        """The value of one credential, or a ConfigError naming where it was looked for."""
        secret = self.credentials.get(name)
        if secret is None or not secret:
            raise ConfigError(
                f"provider '{self.provider}' account '{self.name}' has no credential '{name}'; "
                f"set it with the environment variable named by '{name}_env' in the config"
            )
        return secret.reveal()


@dataclass(frozen=True)
class Settings:
    """Everything a run needs besides the input file."""

    accounts: Mapping[str, Account] = field(default_factory=dict)
    default_provider: str | None = None
    output_dir: Path | None = None
    ledger: Path | None = None
    limits: InputLimits = field(default_factory=InputLimits)
    price_tolerance_percent: Decimal = Decimal(0)
    """How far above the sheet's unit_price a previewed price may be before the order is held."""
    notify_url: str | None = None
    """A webhook that receives the run summary as JSON when a run ends."""
    severity: Mapping[str, str] = field(default_factory=dict)
    """Validation rules moved between error and warning (``[validation] severity``)."""
    decimal_separator: str = "auto"
    """The decimal mark of number columns: "auto" (decided per column), "." or "," (``[validation]``)."""
    date_order: str = "auto"
    """How ``11/12/2026`` dates read: "auto" (decided per column), "dmy" or "mdy" (``[validation]``)."""
    include_hidden: bool = False
    """Read rows hidden by a filter or by hand as orders (``[run] include_hidden``); by default they are skipped."""
    order_ref_scope: str = "account"
    """Where an order_ref is unique (``[run] order_ref_scope``): "account" (every file sent to the account), or
    "file" (each file numbers its own orders; the external id then includes the file's name)."""
    mappings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """The ``[mappings.NAME]`` tables, as written: the read stage checks and uses them (see importer.read.mappings)."""
    mapping: str | None = None
    """The mapping profile (name or file) every run uses unless told otherwise (``[run] mapping``)."""
    catalogue: Path | None = None
    """The product catalogue: the team's SKU -> a provider's item_id and sku_id (``[run] catalogue``)."""

    def account(self, provider: str) -> Account:
        try:
            return self.accounts[provider]
        except KeyError:
            known = ", ".join(sorted(self.accounts)) or "none"
            raise ConfigError(
                f"no account configured for provider '{provider}' (configured: {known}); "
                f"add a [providers.{provider}] section to importer.toml or run with --sandbox"
            ) from None

    def with_accounts(self, accounts: Mapping[str, Account]) -> Settings:
        return replace(self, accounts={**self.accounts, **accounts})


def _read_credentials(provider: str, section: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, Secret]:
    """Credentials come from environment variables named by ``<name>_env`` keys."""
    credentials: dict[str, Secret] = {}
    for key, value in section.items():
        if not key.endswith("_env"):
            continue
        name = key[: -len("_env")]
        if not isinstance(value, str) or value not in environ:
            raise ConfigError(
                f"provider '{provider}': credential '{name}' is read from the environment variable "
                f"'{value}', which is not set"
            )
        credentials[name] = Secret(environ[value])
    return credentials


def read_secrets_file(path: Path) -> dict[str, str]:
    """``NAME=VALUE`` lines (``#`` comments) that stand in for environment variables; the environment wins.

    The file must be readable by its owner only (``chmod 600``): a secret in a
    file anyone on the machine can read is not a secret.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(f"secrets file {path} does not exist") from None
    if mode & 0o077:
        raise ConfigError(f"secrets file {path} can be read by other users; run: chmod 600 {path}")
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.removeprefix("export ").partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"secrets file {path} line {number} is not NAME=VALUE")
        values[name.strip()] = value.strip().strip('"').strip("'")
    return values


_ACCOUNT_KEYS = {"base_url", "connect_timeout", "read_timeout", "concurrency", "rate_limit", "account"}


def load_settings(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read ``importer.toml`` (or the file in ``$ORDER_IMPORTER_CONFIG``).

    With no file, an empty Settings is returned: a run then needs ``--sandbox``.
    """
    environ = os.environ if environ is None else environ
    if path is None:
        path = environ.get(CONFIG_ENV)
    if path is None:
        default = Path("importer.toml")
        if not default.exists():
            return Settings()
        path = default
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    if "secrets_file" in data:
        environ = {**read_secrets_file(path.parent / str(data["secrets_file"])), **environ}
    accounts: dict[str, Account] = {}
    for provider, section in data.get("providers", {}).items():
        if "base_url" not in section:
            raise ConfigError(f"config file {path}: [providers.{provider}] needs base_url")
        accounts[provider] = Account(
            provider=provider,
            name=str(section.get("account", "default")),
            base_url=str(section["base_url"]),
            credentials=_read_credentials(provider, section, environ),
            options={k: v for k, v in section.items() if k not in _ACCOUNT_KEYS and not k.endswith("_env")},
            connect_timeout=float(section.get("connect_timeout", 5.0)),
            read_timeout=float(section.get("read_timeout", 30.0)),
            concurrency=int(section.get("concurrency", 4)),
            rate_limit=float(section["rate_limit"]) if "rate_limit" in section else None,
        )
    run = data.get("run", {})
    _check_mapping_tables(path, data)
    output_dir = Path(run["output_dir"]) if "output_dir" in run else None
    ledger = Path(run["ledger"]) if "ledger" in run else None
    limits = InputLimits.from_config(data.get("limits", {}))
    tolerance = _percent(run.get("price_tolerance_percent", 0))
    return Settings(
        accounts=accounts,
        default_provider=run.get("provider"),
        output_dir=output_dir,
        ledger=ledger,
        limits=limits,
        price_tolerance_percent=tolerance,
        notify_url=str(run["notify_url"]) if run.get("notify_url") else None,
        severity=severity_map(data.get("validation", {}).get("severity", {})),
        decimal_separator=_choice(data.get("validation", {}), "decimal_separator", ("auto", ".", ",")),
        date_order=_choice(data.get("validation", {}), "date_order", ("auto", "dmy", "mdy")),
        include_hidden=_flag(run, "include_hidden"),
        order_ref_scope=_choice(run, "order_ref_scope", ORDER_REF_SCOPES, section="run"),
        mappings=data.get("mappings", {}),
        mapping=str(run["mapping"]) if run.get("mapping") else None,
        catalogue=path.parent / str(run["catalogue"]) if run.get("catalogue") else None,
    )


def data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The per-user data folder: ``$ORDER_IMPORTER_DATA_DIR``, else the platform's (platformdirs).

    Linux ``~/.local/share/order-importer`` (or under ``$XDG_DATA_HOME``),
    macOS ``~/Library/Application Support/order-importer``.
    """
    import platformdirs

    value = (os.environ if environ is None else environ).get(DATA_DIR_ENV)
    return Path(value) if value else Path(platformdirs.user_data_dir("order-importer", appauthor=False))


_NEAR_MISSES = ("mappings", "catalogue", "mapping")


def _check_mapping_tables(path: Path, data: Mapping[str, Any]) -> None:
    """``[mappings.NAME]`` must be tables; a top-level table named almost like one is a typo, said as such."""
    import difflib

    for key in data:
        close = difflib.get_close_matches(key, _NEAR_MISSES, n=1, cutoff=0.75)
        if close and key not in _NEAR_MISSES:
            raise ConfigError(f"config file {path}: unknown table [{key}]; did you mean [{close[0]}]?")
    if "mapping" in data or "catalogue" in data:
        raise ConfigError(f"config file {path}: mapping and catalogue belong in [run]; profiles in [mappings.NAME]")
    mappings = data.get("mappings", {})
    if not isinstance(mappings, Mapping) or not all(isinstance(t, Mapping) for t in mappings.values()):
        raise ConfigError(f"config file {path}: [mappings] holds one [mappings.NAME] table per profile")


ORDER_REF_SCOPES = ("account", "file")


def _choice(table: Mapping[str, Any], key: str, allowed: tuple[str, ...], section: str = "validation") -> str:
    """A setting that is one of a few words; the first of them ("auto") when not given."""
    value = table.get(key, allowed[0])
    if value not in allowed:
        shown = ", ".join(f'"{a}"' for a in allowed)
        raise ConfigError(f"[{section}] {key} must be one of {shown}; got {value!r}")
    return str(value)


def _flag(table: Mapping[str, Any], key: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError(f"[run] {key} must be true or false; got {value!r}")
    return value


def _percent(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"[run] price_tolerance_percent must be a number of 0 or more; got {value!r}")
    return Decimal(str(value))
