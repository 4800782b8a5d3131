"""Shared fixtures: the provider sandbox, served over real HTTP on loopback."""

import pytest

from importer.sandbox import Sandbox


@pytest.fixture(scope="session")
def sandbox():
    """One sandbox for the whole session; tests that need clean state use ``fresh_sandbox``."""
    with Sandbox.start() as running:
        yield running
        assert running.state.errors == [], "a sandbox handler crashed; see the captured stderr"


@pytest.fixture
def fresh_sandbox():
    """A sandbox of its own: full catalogue stock, no orders, no counts."""
    with Sandbox.start() as running:
        yield running
        assert running.state.errors == [], "a sandbox handler crashed; see the captured stderr"
