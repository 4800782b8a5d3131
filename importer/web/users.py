"""The server's users: names, roles and argon2 password hashes in one JSON file only the server reads.

``order-importer users add NAME --role buyer`` writes it; the server reads it
on every sign-in, so a user added while it runs can sign in at once. The file
holds hashes, never passwords, and is written 0600 through a temporary file.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..errors import ConfigError

_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash("a password no user has")


class Role(StrEnum):
    """What a user may do; each role may do everything the roles before it may."""

    VIEWER = "viewer"
    """Upload, check and preview."""
    BUYER = "buyer"
    """Also buy."""
    ADMIN = "admin"
    """Also resolve UNKNOWN orders."""

    def allows(self, needed: Role) -> bool:
        order = list(Role)
        return order.index(self) >= order.index(needed)


@dataclass(frozen=True)
class User:
    """A signed-in person."""

    name: str
    role: Role

    def can(self, needed: Role) -> bool:
        return self.role.allows(needed)


class UserFile:
    """The users file; missing means no users (the server then stays on loopback)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            raise ConfigError(f"users file {self.path} cannot be read: {error}") from None
        users = data.get("users", {}) if isinstance(data, dict) else None
        if not isinstance(users, dict):
            raise ConfigError(
                f"users file {self.path} has no 'users' table; recreate it with `order-importer users add`"
            )
        return users

    def names(self) -> dict[str, Role]:
        """Every user and their role."""
        return {name: Role(entry["role"]) for name, entry in self._read().items()}

    def add(self, name: str, role: Role, password: str) -> None:
        """Add the user, or set a new password and role for an existing one."""
        if not name or not name.isprintable() or len(name) > 64 or name.strip() != name:
            raise ConfigError(f"user name {name!r}: use 1 to 64 printable characters without spaces at the ends")
        if len(password) < 8:
            raise ConfigError("the password must have at least 8 characters")
        users = self._read()
        users[name] = {"role": str(role), "hash": _HASHER.hash(password)}
        self._write(users)

    def verify(self, name: str, password: str) -> User | None:
        """The user when the password is theirs; None otherwise (as slow either way)."""
        entry = self._read().get(name)
        try:
            _HASHER.verify(entry["hash"] if entry else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        return User(name, Role(entry["role"])) if entry else None

    def find(self, name: str) -> User | None:
        entry = self._read().get(name)
        return User(name, Role(entry["role"])) if entry else None

    def _write(self, users: dict[str, dict[str, str]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".users-")
        with os.fdopen(handle, "w", encoding="utf-8") as out:  # mkstemp makes it 0600
            json.dump({"users": users}, out, indent=2, sort_keys=True)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.path)
