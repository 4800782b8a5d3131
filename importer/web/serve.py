"""Running the team server under uvicorn, with the rule that no users means loopback only."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import uvicorn

from ..config import Settings
from ..errors import ConfigError
from .app import create_app
from .config import ServerConfig, load_server_config
from .security import is_loopback
from .users import UserFile


def check_host(host: str, config: ServerConfig) -> None:
    """Refuse an address other machines can reach while no user is configured (anyone there would be admin)."""
    if is_loopback(host) or UserFile(config.users_file).names():
        return
    raise ConfigError(
        f"no users are configured ({config.users_file}), so the server listens only on 127.0.0.1; "
        "add one with `order-importer users add NAME --role admin` to listen on "
        f"{host}"
    )


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0 picks a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def make_server(settings: Settings, config: ServerConfig, host: str) -> uvicorn.Server:
    """A uvicorn server for the app, once the address is allowed."""
    check_host(host, config)
    app = create_app(settings, config)
    # X-Forwarded-Proto is believed from 127.0.0.1 only (uvicorn's default): a TLS proxy on this machine
    # makes the cookies Secure and the origin check see https.
    return uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))


def run_server(
    settings: Settings, config_path: Path | None, host: str, port: int, echo: Callable[[str], None] = print
) -> None:
    """Serve until interrupted; prints the address to open."""
    config = load_server_config(config_path)
    server = make_server(settings, config, host)
    sock = bind(host, port)
    shown = f"[{host}]" if ":" in host else host
    echo(f"order-importer team server on http://{shown}:{sock.getsockname()[1]}/ (data in {config.data_dir})")
    if not UserFile(config.users_file).names():
        echo("no users configured: you are signed in as the local admin; only this machine can connect")
    server.run(sockets=[sock])
