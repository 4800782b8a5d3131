"""The team server's commands: ``users add`` (password from stdin, never the command line) and ``serve``'s
refusal to listen beyond loopback while no user is configured."""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys

import pytest

pytest.importorskip("fastapi", reason="the team server needs the web extra: pip install 'order-importer[web]'")

from importer.web.users import UserFile


def _cli(*args, stdin="", cwd=None):
    command = [sys.executable, "-m", "importer", *args]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, cwd=cwd, timeout=60)


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "importer.toml"
    path.write_text('[server]\ndata_dir = "data"\n', encoding="utf-8")
    return path


def test_users_add_reads_the_password_from_stdin_and_keeps_only_a_hash(config, tmp_path):
    done = _cli("users", "add", "mei", "--role", "buyer", "--config", str(config), stdin="s3cret-passphrase\n")
    assert done.returncode == 0, done.stderr
    users_file = tmp_path / "data" / "users.json"
    assert "s3cret-passphrase" not in users_file.read_text(encoding="utf-8")
    assert json.loads(users_file.read_text(encoding="utf-8"))["users"]["mei"]["hash"].startswith("$argon2")
    assert stat.S_IMODE(users_file.stat().st_mode) == 0o600
    user = UserFile(users_file).verify("mei", "s3cret-passphrase")
    assert user is not None and user.role == "buyer"
    assert UserFile(users_file).verify("mei", "wrong") is None
    listed = _cli("users", "list", "--config", str(config))
    assert listed.stdout.split() == ["mei", "buyer"]


def test_users_add_refuses_an_unknown_role_and_a_short_password(config):
    assert _cli("users", "add", "mei", "--role", "boss", "--config", str(config), stdin="long enough\n").returncode
    short = _cli("users", "add", "mei", "--role", "viewer", "--config", str(config), stdin="short\n")
    assert short.returncode == 2 and "at least 8 characters" in short.stderr


def test_serve_refuses_to_listen_beyond_loopback_without_users(config):
    refused = _cli("serve", "--host", "0.0.0.0", "--port", "0", "--config", str(config))
    assert refused.returncode == 2
    assert "no users are configured" in refused.stderr and "order-importer users add" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_serve_without_users_signs_in_the_local_admin(tmp_path):
    from fastapi.testclient import TestClient

    from importer.config import Settings
    from importer.web import create_app
    from importer.web.config import ServerConfig

    app = create_app(Settings(), ServerConfig.at(tmp_path / "data"))
    with TestClient(app, client=("127.0.0.1", 50000)) as client:
        page = client.get("/")
    assert page.url.path == "/" and "· admin" in page.text and "Sign out" not in page.text
    with TestClient(app, client=("192.0.2.7", 50000)) as remote:  # another machine, were the port reachable
        assert remote.get("/").url.path == "/signin"


def test_serve_with_the_sandbox_answers_on_loopback_and_stops_on_sigterm(config):
    import re

    import requests

    command = [sys.executable, "-m", "importer", "serve", "--sandbox", "--port", "0", "--config", str(config)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        page = requests.get(url, timeout=10)
        assert page.status_code == 200 and "Upload an order sheet" in page.text and "· admin" in page.text
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert process.returncode in (0, -15), stderr  # uvicorn shuts down, then re-raises the signal it caught
    assert "Traceback" not in stderr


def test_server_table_is_read_beside_the_config_and_checked(tmp_path):
    from decimal import Decimal

    from importer.errors import ConfigError
    from importer.web.config import default_data_dir, load_server_config

    config = tmp_path / "importer.toml"
    config.write_text(
        '[server]\ndata_dir = "srv"\nusers_file = "team.json"\nkeep_days = 2\nmax_total = 5000\nsession_hours = 1\n',
        encoding="utf-8",
    )
    server = load_server_config(config)
    assert (server.data_dir, server.users_file) == (tmp_path / "srv", tmp_path / "team.json")
    assert (server.keep_days, server.max_total, server.session_hours) == (2.0, Decimal(5000), 1.0)
    assert load_server_config(environ={"ORDER_IMPORTER_CONFIG": str(config)}).data_dir == tmp_path / "srv"
    assert default_data_dir({"XDG_DATA_HOME": str(tmp_path)}) == tmp_path / "order-importer" / "server"
    for table, wrong in [
        ("dta_dir = 'x'", "unknown keys ['dta_dir']"),
        ("keep_days = 0", "keep_days must be a number above 0"),
        ("max_total = 'lots'", "max_total must be an amount"),
        ("max_total = -1", "max_total must be an amount"),
    ]:
        config.write_text(f"[server]\n{table}\n", encoding="utf-8")
        with pytest.raises(ConfigError, match=re.escape(wrong)):
            load_server_config(config)
    config.write_text("[server\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"importer\.toml"):
        load_server_config(config)
