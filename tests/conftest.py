"""Shared fixtures: the provider sandbox, served over real HTTP on loopback; a data folder of each test's own."""

import os
import tempfile
from pathlib import Path

import pytest

from importer.sandbox import Sandbox

# Commands the tests start in a subprocess import this checkout, whatever copy of the package is installed.
CHECKOUT = str(Path(__file__).resolve().parents[1])
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (CHECKOUT, os.environ.get("PYTHONPATH")) if p)
# No test (nor a command it starts) may touch the user's real data folder, where the default ledger lives.
os.environ["ORDER_IMPORTER_DATA_DIR"] = tempfile.mkdtemp(prefix="order-importer-test-data-")


@pytest.fixture(autouse=True)
def data_dir(tmp_path_factory, monkeypatch):
    """Each test gets a data folder (default ledger, ledger registry) of its own."""
    folder = tmp_path_factory.mktemp("data")
    monkeypatch.setenv("ORDER_IMPORTER_DATA_DIR", str(folder))
    return folder


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
