"""Shared helpers of the team server's tests: users, a signed-in client, form tokens, waiting for jobs."""

from __future__ import annotations

import html
import re
import time
from pathlib import Path

from importer.web.config import ServerConfig
from importer.web.users import Role, UserFile

PASSWORD = "correct horse battery"
USERS = {"vera": Role.VIEWER, "bob": Role.BUYER, "ada": Role.ADMIN}
SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def server_config(root: Path, **values: object) -> ServerConfig:
    """A data folder under ``root`` with one user per role."""
    config = ServerConfig.at(root / "server-data", **values)  # type: ignore[arg-type]
    users = UserFile(config.users_file)
    for name, role in USERS.items():
        users.add(name, role, PASSWORD)
    return config


def token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client, name: str) -> str:
    """Sign in through the form; returns the new session's CSRF token."""
    form = client.get("/signin")
    answer = client.post(
        "/signin", data={"username": name, "password": PASSWORD, "csrf_token": token(form.text), "next": "/"}
    )
    assert answer.status_code == 200 and answer.url.path == "/", answer.text
    return token(answer.text)


def upload(client, csrf: str, path: Path, name: str | None = None):
    with path.open("rb") as sheet:
        return client.post("/uploads", data={"csrf_token": csrf}, files={"sheet": (name or path.name, sheet)})


def text(answer) -> str:
    """The page's text with entities decoded, to compare with messages."""
    return html.unescape(answer.text)


def wait_for_job(client, job_path: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get(f"{job_path}/status").json()
        if status["finished"]:
            return status
        time.sleep(0.1)
    raise AssertionError(f"{job_path} did not finish in {timeout} s")


def counts(page: str) -> dict[str, int]:
    return {status: int(n) for n, status in re.findall(r'<li class="status-\w+"><b>(\d+)</b> (\w+)</li>', page)}
