"""The team server's ASGI app: ``create_app()`` wires the settings, the private files, the jobs and the routes.

One process holds everything (uvicorn serving this app, the jobs in worker
threads, the SQLite ledger and jobs table), so the default needs nothing but
the config. With no users configured, whoever reaches the loopback address
is the local user (an admin named after the account the server runs as);
``order-importer serve`` refuses any other address then.
"""

from __future__ import annotations

import getpass
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.base import RequestResponseEndpoint

from ..config import Settings, load_settings
from ..errors import ImporterError
from .checks import CheckCache
from .config import ServerConfig, load_server_config
from .jobs import JobRunner, JobStore
from .profiles import SavedProfiles
from .security import SESSION_COOKIE, Session, SessionSigner, is_loopback, session_key
from .storage import Storage, private_dir, private_file
from .users import Role, User, UserFile

HERE = Path(__file__).parent


@dataclass
class ServerState:
    """What every request may use; built once per app."""

    settings: Settings
    config: ServerConfig
    users: UserFile
    storage: Storage
    jobs: JobStore
    runner: JobRunner
    signer: SessionSigner
    checks: CheckCache
    templates: Jinja2Templates
    profiles: SavedProfiles

    @property
    def ledger(self) -> Path:
        return self.config.ledger_path(self.settings)

    def purge(self) -> list[str]:
        """Delete the uploads older than the keep time, and forget their checks."""
        removed = self.storage.purge()
        for upload_id in removed:
            self.checks.forget(upload_id)
        return removed

    def local_user(self, request: Request) -> User | None:
        """With no users configured, the person at this machine, as an admin: for requests from loopback only."""
        client = request.client.host if request.client else ""
        if self.users.names() or not is_loopback(client):
            return None
        return User(getpass.getuser(), Role.ADMIN)


class Forbidden(Exception):
    """The signed-in user may not do this (or the request failed its CSRF / origin check)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SignInNeeded(Exception):
    """No one is signed in: the page answers with the sign-in form."""


def create_app(settings: Settings | None = None, config: ServerConfig | None = None) -> FastAPI:
    """The app for these settings (default: the config file the CLI reads, and its ``[server]`` table)."""
    settings = settings or load_settings()
    config = config or load_server_config()
    state = _state(settings, config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        state.runner.shutdown(wait=True)
        state.jobs.close()

    app = FastAPI(title="order-importer", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.server = state
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.middleware("http")(_session_cookie)
    _add_error_pages(app)
    from .routes import auth, runs, uploads

    for router in (auth.router, uploads.router, runs.router):
        app.include_router(router)
    return app


def _state(settings: Settings, config: ServerConfig) -> ServerState:
    storage = Storage(config.data_dir, config.keep_days)
    storage.purge()
    jobs = JobStore(private_file(private_dir(config.data_dir) / "jobs.sqlite"))
    ledger = config.ledger_path(settings)
    if ledger.parent == config.data_dir:  # the ledger and its lock, made before the first run opens them
        private_file(ledger)
        private_file(ledger.with_name(f"{ledger.name}.lock"))
    jobs.mark_interrupted()
    templates = Jinja2Templates(directory=HERE / "templates")
    profiles = SavedProfiles(config.data_dir)
    return ServerState(
        settings=settings,
        config=config,
        users=UserFile(config.users_file),
        storage=storage,
        jobs=jobs,
        runner=JobRunner(jobs),
        signer=SessionSigner(session_key(config.data_dir), int(config.session_hours * 3600)),
        checks=CheckCache(storage, settings, profiles),
        templates=templates,
        profiles=profiles,
    )


async def _session_cookie(request: Request, call_next: RequestResponseEndpoint) -> Response:
    """Every browser gets a signed session cookie (with its CSRF token) before it is signed in."""
    state: ServerState = request.app.state.server
    too_big = _too_big(request, state.settings.limits.max_file_mb)
    if too_big:
        return HTMLResponse(f"<!doctype html><title>Too big</title><p>{too_big}</p>", status_code=413)
    session = state.signer.load(request.cookies.get(SESSION_COOKIE))
    request.state.session = session or Session.anonymous()
    request.state.new_session = None
    response = await call_next(request)
    replaced: Session | None = request.state.new_session
    if replaced is not None or session is None:
        cookie = state.signer.dump(replaced or request.state.session)
        secure = request.url.scheme == "https"
        response.set_cookie(
            SESSION_COOKIE, cookie, max_age=state.signer.max_age, httponly=True, samesite="strict", secure=secure
        )
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


_FORM_MARGIN_BYTES = 1 << 16


def _too_big(request: Request, max_file_mb: float) -> str:
    """The size limit's message for a request body far above ``[limits] max_file_mb``, before it is read.

    A body just above the limit is read and kept cut short, so the reader gives the command line's message.
    """
    try:
        length = int(request.headers.get("content-length", "0"))
    except ValueError:
        return "the request's Content-Length is not a number"
    if length <= max_file_mb * 1024 * 1024 + _FORM_MARGIN_BYTES:
        return ""
    return (
        f"the file is {length / 1024 / 1024:.0f} MB, above the limit of {max_file_mb:g} MB "
        "(max_file_mb in the [limits] table of importer.toml)"
    )


def _add_error_pages(app: FastAPI) -> None:
    @app.exception_handler(SignInNeeded)
    async def sign_in(request: Request, error: SignInNeeded) -> Response:
        if request.method == "GET":
            return RedirectResponse(f"/signin?next={request.url.path}", status_code=303)
        return render(request, "signin.html", {"message": "sign in first"}, status_code=401)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, error: Forbidden) -> Response:
        return render(request, "error.html", {"message": error.message}, status_code=403)

    @app.exception_handler(ImporterError)
    async def importer_error(request: Request, error: ImporterError) -> Response:
        return render(request, "error.html", {"message": str(error)}, status_code=400)


def render(request: Request, name: str, context: Mapping[str, object], status_code: int = 200) -> HTMLResponse:
    """A page, with the signed-in user and the CSRF token every form needs."""
    state: ServerState = request.app.state.server
    session: Session = request.state.new_session or request.state.session
    local = state.local_user(request)
    user = state.users.find(session.user) if session.user else local
    page = {"user": user, "csrf_token": session.csrf, "local_mode": local is not None, **context}
    return state.templates.TemplateResponse(request, name, page, status_code=status_code)
