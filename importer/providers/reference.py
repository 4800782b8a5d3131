"""docs/providers.md, written from the adapters' own tables so the page and the code cannot drift apart.

Regenerate with ``python -m importer.providers.reference docs/providers.md``;
a test fails when the file differs from what the tables give.
"""

from __future__ import annotations

import sys
from pathlib import Path

from . import REGISTRY
from .base import Provider
from .fields import Endpoint, provider_markdown

INTRO = """\
# Providers: what each adapter sends, and on what evidence

Generated from the adapters' tables (`ENDPOINTS`, `FIELDS`, `CONFIG` in `importer/providers/`);
regenerate with `python -m importer.providers.reference docs/providers.md`.

Every call and request field is marked **documented** (the provider document and section are named:
the five documents are in `tests/fixtures/documents/`, PROVIDERS.md sections point at the public pages)
or **inferred** (no document shows it; confirm against a live account before relying on it).
Inferred calls that could cost money or mislead are off by default: a provider with no documented
preview call creates straight away (the run's warning column says so) unless `preview_path` is set,
and `check-config` uses only a documented call that buys nothing, or says there is none.

A provider's refusal that names a request field is reported in the sheet's words, with the provider's
own text kept beside it, e.g. `town (镇/街道) is needed by xportcn-ka-1688 (the provider said: ...)`.
The sandbox (`--sandbox`) accepts every documented example and refuses what the documents refuse;
its own business rules (stock, freight, fees, amount checks) are listed in `importer/sandbox/rules.py`.
"""


def config_markdown(cls: type[Provider]) -> str:
    """The account options one adapter reads."""
    lines = ["", f"`[providers.{cls.key}]` options:", "", "| key | default | what |", "|---|---|---|"]
    lines += [f"| `{key}` | {default} | {what} |" for key, default, what in cls.CONFIG]
    if cls.columns:
        lines += ["", "Extra sheet columns: " + ", ".join(f"`{column}`" for column in cls.columns) + "."]
    return "\n".join(lines) + "\n"


def summary_markdown() -> str:
    """One row per provider: its create and preview calls, check-config, and what a user must set."""
    lines = ["| provider | create | preview | check-config | you must set |", "|---|---|---|---|---|"]
    for key in sorted(REGISTRY):
        cls = REGISTRY[key]
        calls = {e.role: e for e in cls.ENDPOINTS}
        lines.append(
            f"| `{key}` | {_call(calls['create'])} | {_call(calls['preview'])} | {_call(calls['check-config'])} "
            f"| {', '.join(f'`{k}`' for k, default, _ in cls.CONFIG if default == 'required')} |"
        )
    return "\n".join(lines) + "\n"


def _call(endpoint: Endpoint) -> str:
    if endpoint.path == "-":
        return f"none documented ({endpoint.default})"
    if endpoint.basis != "documented":
        return f"`{endpoint.method} {endpoint.path}` ({endpoint.basis}; {endpoint.default})"
    return f"`{endpoint.method} {endpoint.path}` ({endpoint.basis})"


def providers_markdown() -> str:
    """The whole of docs/providers.md."""
    sections = [INTRO, summary_markdown()]
    for key in sorted(REGISTRY):
        cls = REGISTRY[key]
        sections.append(provider_markdown(key, cls.title, cls.ENDPOINTS, cls.FIELDS) + config_markdown(cls))
    return "\n".join(sections)


def main(argv: list[str]) -> int:
    """Write the page to the path given, or print it."""
    text = providers_markdown()
    if argv:
        Path(argv[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
