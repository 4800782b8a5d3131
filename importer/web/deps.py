"""Typed dependencies of the routes: the server state, the signed-in user by role, the POST checks."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from .app import Forbidden, ServerState, SignInNeeded
from .security import CSRF_FIELD, Session, cross_site_reason, csrf_matches
from .users import Role, User


def server_state(request: Request) -> ServerState:
    """The state :func:`create_app` built."""
    state: ServerState = request.app.state.server
    return state


StateDep = Annotated[ServerState, Depends(server_state)]


def current_session(request: Request) -> Session:
    """This browser's session (anonymous until sign-in)."""
    session: Session = request.state.session
    return session


SessionDep = Annotated[Session, Depends(current_session)]


def current_user(request: Request, state: StateDep, session: SessionDep) -> User:
    """The signed-in user (or the local user when no users are configured); else the sign-in page."""
    user = state.users.find(session.user) if session.user else state.local_user(request)
    if user is None:
        raise SignInNeeded
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def _needs(role: Role) -> object:
    def check(user: CurrentUser) -> User:
        if not user.can(role):
            raise Forbidden(f"{user.name} is a {user.role}; this needs a {role}")
        return user

    return check


BuyerUser = Annotated[User, Depends(_needs(Role.BUYER))]
AdminUser = Annotated[User, Depends(_needs(Role.ADMIN))]


async def same_site_post(request: Request, session: SessionDep) -> None:
    """Every POST: from this site (Origin, Sec-Fetch-Site) and with this browser's CSRF token."""
    reason = cross_site_reason(request)
    if reason:
        raise Forbidden(f"refused: {reason}")
    form = await request.form()
    if not csrf_matches(session, form.get(CSRF_FIELD) if isinstance(form.get(CSRF_FIELD), str) else None):  # type: ignore[arg-type]
        raise Forbidden("refused: the form's security token is missing or wrong; reload the page and try again")


CheckedPost = Depends(same_site_post)
