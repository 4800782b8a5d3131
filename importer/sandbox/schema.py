"""Field checks for the sandbox's request parsing, written once so every provider is as strict as its document.

Each provider module lists its documented body fields as :class:`Field`
rules (name, JSON type, required or not); :func:`check_fields` refuses a body
that breaks one with a :class:`ParamError` naming the field, which the module
answers in its provider's documented error shape. Nothing here is a business
rule: only what a document says a field is (see :mod:`.rules` for the rest).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .server import Request

# JSON types as the documents write them.
STRING = "string"
INTEGER = "integer"
NUMBER = "number"
BOOLEAN = "boolean"
OBJECT = "object"
ARRAY = "array"
ID = "integer or digits"
"""An id given as an exact JSON integer or a string of digits (the examples use both)."""
WHOLE = "whole number or digits"
"""A count given as a JSON integer or a string of digits (``"quantity":"3"``)."""
NULLABLE_STRING = "string or null"

REQUESTS_KEPT = 200


class ParamError(ValueError):
    """A body the provider could not read; each module answers it in its own documented shape."""


@dataclass(frozen=True)
class Field:
    """One documented body field: its JSON type, whether it must be present, and whether it may be empty."""

    name: str
    kind: str
    required: bool = False
    may_be_empty: bool = True
    choices: tuple[str, ...] = ()


def required(name: str, kind: str, *, may_be_empty: bool = False, choices: tuple[str, ...] = ()) -> Field:
    """A field the document marks required (present, of its type, and not empty unless the example shows it empty)."""
    return Field(name, kind, True, may_be_empty, choices)


def optional(name: str, kind: str, *, choices: tuple[str, ...] = ()) -> Field:
    """A field the document shows but does not require; checked for its type when present."""
    return Field(name, kind, False, True, choices)


def check_fields(body: Mapping[str, Any], fields: Sequence[Field], where: str = "", *, closed: bool = False) -> None:
    """Refuse the first field of ``body`` that breaks its rule; ``closed`` also refuses keys no rule names."""
    prefix = f"{where}." if where else ""
    for rule in fields:
        _check_one(body, rule, prefix)
    if closed:
        unknown = sorted(set(body) - {rule.name for rule in fields})
        if unknown:
            raise ParamError(f"{where or 'body'} has unknown keys {unknown}")


def _check_one(body: Mapping[str, Any], rule: Field, prefix: str) -> None:
    name = prefix + rule.name
    if rule.name not in body or body[rule.name] is None:
        if rule.required:
            raise ParamError(f"{name} is required")
        if rule.name in body and rule.kind != NULLABLE_STRING:
            raise ParamError(f"{name} must be {_a(rule.kind)}, not null")
        return
    value = body[rule.name]
    if value == "" and rule.may_be_empty:
        return
    if not is_kind(value, rule.kind):
        raise ParamError(f"{name} must be {_a(rule.kind)}; got {json.dumps(value, ensure_ascii=False)[:60]}")
    if rule.required and not rule.may_be_empty and value in ("", [], {}):
        raise ParamError(f"{name} is required and may not be empty")
    if rule.choices and value not in rule.choices:
        raise ParamError(f"{name} must be one of {', '.join(rule.choices)}; got {value!r}")


def _a(kind: str) -> str:
    return ("an " if kind[0] in "aeiou" else "a ") + kind


def is_kind(value: Any, kind: str) -> bool:
    """Whether a JSON value has one of the documented types."""
    if kind in (STRING, NULLABLE_STRING):
        return isinstance(value, str)
    if kind == BOOLEAN:
        return isinstance(value, bool)
    if kind == OBJECT:
        return isinstance(value, dict)
    if kind == ARRAY:
        return isinstance(value, list)
    if isinstance(value, bool):
        return False
    if kind == INTEGER:
        return isinstance(value, int)
    if kind == NUMBER:
        return isinstance(value, int | float)
    if kind in (ID, WHOLE):
        return isinstance(value, int) or (isinstance(value, str) and value.isascii() and value.isdigit())
    raise ValueError(f"unknown field kind {kind!r}")


def json_text(body: Mapping[str, Any], name: str, kind: type) -> Any:
    """A field documented as a JSON-encoded string (of an array or an object); a real array or object is refused."""
    raw = body.get(name)
    if raw is None or raw == "":
        raise ParamError(f"{name} is required")
    if not isinstance(raw, str):
        raise ParamError(f"{name} must be a JSON string, not a {type(raw).__name__}")
    try:
        value = json.loads(raw)
    except ValueError:
        raise ParamError(f"{name} is not valid JSON") from None
    if not isinstance(value, kind):
        raise ParamError(f"{name} must encode a JSON {'array' if kind is list else 'object'}")
    if not value:
        raise ParamError(f"{name} is empty")
    return value


def entries(value: list[Any], name: str) -> list[dict[str, Any]]:
    """The objects of a documented array of objects, numbered from 1 in errors."""
    for n, entry in enumerate(value, start=1):
        if not isinstance(entry, dict):
            raise ParamError(f"{name}[{n}] must be an object")
    return list(value)


def body_object(request: Request) -> dict[str, Any]:
    """The JSON object body of a POST."""
    if not isinstance(request.json, dict):
        raise ParamError("body must be a JSON object")
    return request.json


def whole(value: Any) -> int:
    """A value :func:`is_kind` accepted as ``WHOLE`` or ``ID``, as an int."""
    return int(value)


class RequestLog:
    """The latest requests a module received, for tests that check what an adapter sent."""

    def __init__(self) -> None:
        self._requests: deque[Request] = deque(maxlen=REQUESTS_KEPT)

    def remember(self, request: Request) -> None:
        self._requests.append(request)

    def bodies(self, path: str) -> list[Any]:
        """JSON bodies (or, for GET, query dicts) received on a documented path, oldest first."""
        return [r.json if r.method != "GET" else dict(r.query) for r in self._requests if r.path.endswith(path)]

    def headers(self, path: str) -> list[Mapping[str, str]]:
        return [r.headers for r in self._requests if r.path.endswith(path)]
