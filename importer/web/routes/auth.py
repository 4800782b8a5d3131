"""Sign-in and sign-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from ..app import render
from ..deps import CheckedPost, StateDep
from ..security import Session

router = APIRouter(tags=["auth"])


def _safe_next(target: str) -> str:
    """Only a path on this site: never an address elsewhere (``//evil`` included)."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


@router.get("/signin")
def signin_page(request: Request, next: str = "/") -> Response:
    """The sign-in form."""
    return render(request, "signin.html", {"next": _safe_next(next)})


@router.post("/signin", dependencies=[CheckedPost])
def signin(
    request: Request,
    state: StateDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the name and password; a new session (and CSRF token) on success."""
    user = state.users.verify(username, password)
    if user is None:
        context = {"message": "wrong name or password", "next": _safe_next(next), "username": username}
        return render(request, "signin.html", context, status_code=401)
    request.state.new_session = Session(user=user.name, csrf=Session.anonymous().csrf)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/signout", dependencies=[CheckedPost])
def signout(request: Request) -> Response:
    """End the session."""
    request.state.new_session = Session.anonymous()
    return RedirectResponse("/signin", status_code=303)
