"""A purchase survives the server being killed mid-run: the job shows as interrupted, and running it again
creates nothing twice (the ledger settles every order the killed run sent).

The server runs as ``order-importer serve`` in a subprocess that kills itself at
the ``after-create-response`` kill point (the provider made the order, the
ledger has not heard); a new app on the same data folder then finishes the job.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

pytest.importorskip("fastapi", reason="the team server needs the web extra: pip install 'order-importer[web]'")

import requests
from fastapi.testclient import TestClient

from importer.config import load_settings
from importer.web import create_app
from importer.web.config import load_server_config
from tests.web_helpers import PASSWORD, SAMPLES, counts, server_config, sign_in, token, wait_for_job


def _start_server(config, env):
    command = [sys.executable, "-m", "importer", "serve", "--port", "0", "--config", str(config)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    found = re.search(r"http://127\.0\.0\.1:\d+", line)
    if not found:
        process.kill()
        raise AssertionError(f"the server did not start: {line}{process.stderr.read()}")
    return process, found.group(0)


def _buy_until_killed(url: str, process) -> None:
    browser = requests.Session()
    csrf = token(browser.get(f"{url}/signin").text)
    signed = browser.post(f"{url}/signin", data={"username": "bob", "password": PASSWORD, "csrf_token": csrf})
    csrf = token(signed.text)
    with (SAMPLES / "orders.xlsx").open("rb") as sheet:
        checked = browser.post(f"{url}/uploads", data={"csrf_token": csrf}, files={"sheet": ("orders.xlsx", sheet)})
    base = checked.url.removesuffix("/check")
    job = browser.post(f"{base}/preview", data={"csrf_token": csrf})
    wait_for_job(BrowserClient(browser, url), job.url.removeprefix(url))
    page = browser.get(f"{base}/preview")
    total = re.search(r'name="confirmed_total" value="([^"]+)"', page.text).group(1)
    browser.post(f"{base}/buy", data={"csrf_token": csrf, "confirmed_total": total}, timeout=10)
    assert process.wait(timeout=60) == -9, "the server was not killed at the kill point"
    browser.close()


class BrowserClient:
    """wait_for_job's client.get, for a requests session on a real address."""

    def __init__(self, session, url):
        self.session, self.url = session, url

    def get(self, path):
        return self.session.get(f"{self.url}{path}")


def test_an_interrupted_purchase_finishes_without_buying_twice(fresh_sandbox, tmp_path):
    config = tmp_path / "importer.toml"
    env = fresh_sandbox.write_config(config)
    with config.open("a", encoding="utf-8") as out:
        out.write('\n[server]\ndata_dir = "server-data"\n')
    server_config(tmp_path)  # the users, in the data folder the config names
    run_env = {**os.environ, **env, "ORDER_IMPORTER_KILL_AT": "after-create-response"}
    process, url = _start_server(config, run_env)
    try:
        _buy_until_killed(url, process)
    finally:
        process.kill()
        process.communicate()
    sent_before = fresh_sandbox.state.orders_per_external_id()
    assert 1 <= len(sent_before) < 5, "the kill point should stop the run part-way"

    time.sleep(fresh_sandbox.settle_seconds + 0.5)  # an order in flight is proven absent only after its settle time
    app = create_app(load_settings(config, {**os.environ, **env}), load_server_config(config))
    with TestClient(app) as client:
        sign_in(client, "bob")
        history = client.get("/history")
        job_path = re.search(r'href="(/jobs/[\w-]+)">open</a>', history.text).group(1)
        page = client.get(job_path)
        assert "interrupted" in page.text and "Run it again" in page.text
        client.post(f"{job_path}/rerun", data={"csrf_token": token(page.text)})
        assert wait_for_job(client, job_path)["state"] == "done"
        done = client.get(job_path)
    assert fresh_sandbox.state.duplicates() == {}
    assert len(fresh_sandbox.state.orders_per_external_id()) == 5
    statuses = counts(done.text)
    assert set(statuses) <= {"CREATED", "ALREADY_CREATED"} and sum(statuses.values()) == 8, statuses
    assert statuses.get("ALREADY_CREATED", 0) >= 1
