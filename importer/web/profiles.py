"""Mapping profiles saved from the mapping page, so the next sheet from the same system is read without mapping.

A buyer who maps a sheet's headers by hand may save the mapping under a
name; it is written as ``<data_dir>/profiles/NAME.toml``, one ``[mappings.NAME]``
table as in ``importer.toml``, with every header of the sheet as its
``detect`` headers. The checks read the folder each time and add its
profiles to the settings' ``[mappings]``, so a later upload whose headers
hold them picks the profile as a configured one (see importer.read.mappings).
"""

from __future__ import annotations

import dataclasses
import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import api
from ..config import Settings
from ..errors import ConfigError, InputError
from ..read.mappings import builtin_profiles, configured_profiles
from .storage import private_dir, write_private

NAME = re.compile(r"^[a-z0-9-]{1,40}$")


class SavedProfiles:
    """The ``profiles/`` folder of the server's data folder."""

    def __init__(self, data_dir: Path) -> None:
        self.folder = private_dir(data_dir / "profiles")

    def tables(self) -> dict[str, dict[str, Any]]:
        """Every saved profile's ``[mappings.NAME]`` table, by name (a file that does not read is left out)."""
        tables: dict[str, dict[str, Any]] = {}
        for path in sorted(self.folder.glob("*.toml")):
            try:
                table = tomllib.loads(path.read_text(encoding="utf-8")).get("mappings", {}).get(path.stem)
                if isinstance(table, dict):
                    configured_profiles({path.stem: table})
                    tables[path.stem] = table
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ConfigError):
                continue
        return tables

    def settings(self, base: Settings) -> Settings:
        """``base`` with the saved profiles added to its ``[mappings]`` (the config's own win on a name)."""
        saved = self.tables()
        if not saved:
            return base
        return dataclasses.replace(base, mappings={**saved, **base.mappings})

    def save(self, name: str, table: Mapping[str, Any], settings: Settings) -> Path:
        """Write the profile ``name`` (checked as the reader checks it); a built-in or configured name is refused."""
        if not NAME.match(name):
            raise InputError(f"profile name '{name}': use lower-case letters, digits and '-' (at most 40)")
        if name in builtin_profiles():
            raise InputError(f"profile name '{name}' is a built-in profile's; pick another name")
        if name in settings.mappings:
            raise InputError(f"profile name '{name}' is a profile of the config file; pick another name")
        text = profile_toml(name, table)
        configured_profiles(tomllib.loads(text)["mappings"])  # a profile that would not load is never written
        return write_private(self.folder / f"{name}.toml", text.encode("utf-8"))


def profile_table(title: str, mapping: Mapping[str, str], value_map: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    """The profile of a user's mapping: its headers, the ignored ones, the replaced values, all headers to detect."""
    table: dict[str, Any] = {
        "title": title,
        "detect": list(mapping),
        "headers": {header: column for header, column in mapping.items() if column},
        "ignore": [header for header, column in mapping.items() if not column],
    }
    values = {column: dict(pairs) for column, pairs in value_map.items() if pairs}
    if values:
        table["values"] = values
    return table


def profile_toml(name: str, table: Mapping[str, Any]) -> str:
    """``[mappings.NAME]`` as TOML text (strings quoted as JSON quotes them, which TOML reads the same)."""
    lines = [f"[mappings.{name}]"]
    tables: list[tuple[str, Mapping[str, Any]]] = []
    for key, value in table.items():
        if isinstance(value, Mapping):
            tables.append((key, value))
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    for key, value in tables:
        inner = [(k, v) for k, v in value.items() if isinstance(v, Mapping)]
        plain = [(k, v) for k, v in value.items() if not isinstance(v, Mapping)]
        if plain or not inner:
            lines += ["", f"[mappings.{name}.{key}]", *(f"{_quoted(k)} = {_toml_value(v)}" for k, v in plain)]
        for sub, pairs in inner:
            lines += ["", f"[mappings.{name}.{key}.{_quoted(sub)}]"]
            lines += [f"{_quoted(k)} = {_toml_value(v)}" for k, v in pairs.items()]
    return "\n".join(lines) + "\n"


def _quoted(text: object) -> str:
    return json.dumps(str(text), ensure_ascii=False)


def _toml_value(value: object) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_quoted(v) for v in value) + "]"
    return _quoted(value)


def describe_profile(name: str | None, settings: Settings) -> str:
    """The profile a sheet was read with, as the check page names it ('' for none, or a mapping made by hand)."""
    profile = api.mapping_profiles(settings).get(name) if name else None
    if profile is None:
        return ""
    return f"'{profile.name}' ({profile.title})" if profile.title else f"'{profile.name}'"
