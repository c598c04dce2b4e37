"""Shared route dependencies: the database, the settings and the patron behind the token."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from libcli.server.db.session import Database
from libcli.server.errors import LibraryError
from libcli.server.service import accounts
from libcli.server.settings import Settings

_bearer = HTTPBearer(auto_error=False)
TOUCH_EVERY = dt.timedelta(minutes=1)  # idle-expiry bookkeeping without a write per request


# Dependencies that never block are coroutines: FastAPI runs a plain `def` dependency in
# its thread pool, a hand-off that costs more than the work here.
async def get_db(request: Request) -> Database:
    return request.app.state.db


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def client_address(request: Request) -> str | None:
    """The address guessing limits count against: the peer of the connection. Behind a
    reverse proxy listed in LIBCLI_SERVER_TRUSTED_PROXIES, uvicorn has already put the
    client that proxy saw in its place (X-Forwarded-For); from anyone else the header
    is ignored."""
    return request.client.host if request.client else None


Db = Annotated[Database, Depends(get_db)]
Config = Annotated[Settings, Depends(get_settings)]
ClientAddress = Annotated[str | None, Depends(client_address)]


@dataclass(frozen=True)
class Caller:
    """The logged-in patron making the request."""

    card: str
    name: str
    email: str | None
    phone: str | None
    token_hash: str
    session_expires_at: dt.datetime


async def refuse_malformed_input(request: Request) -> None:
    """A NUL byte in a path or query value is refused as 422 up front: PostgreSQL text
    cannot hold it, and the answer must never be a 500."""
    values = [*request.path_params.values(), *request.query_params.values()]
    if any("\x00" in str(value) for value in values):
        raise LibraryError("invalid_request", "NUL characters are not allowed")


def caller_for(db: Database, settings: Settings, token: str | None) -> Caller:
    """The patron behind a session token (API bearer or page cookie); raises
    `auth_required`. The idle clock is moved at most once a minute, so a reader does not
    write on every request."""
    now = settings.now()
    with db.read() as session:
        patron, row = accounts.authenticate(session, settings, token, now)
        caller = Caller(
            patron.card, patron.name, patron.email, patron.phone, row.token_hash, row.expires_at
        )
        stale = row.last_used_at + TOUCH_EVERY < now
    if stale:
        with db.write() as session:
            accounts.touch_session(session, caller.token_hash, now)
    return caller


def current_patron(
    db: Db,
    settings: Config,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    return caller_for(db, settings, credentials.credentials if credentials else None)


CurrentPatron = Annotated[Caller, Depends(current_patron)]


def optional_patron(db: Db, settings: Config, request: Request) -> Caller | None:
    """The patron when a valid token comes along (public routes then answer for them).

    The header is read directly: the schema keeps these routes public, where a missing
    or stale token is no error, just an anonymous reader."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        return caller_for(db, settings, token.strip())
    except LibraryError:
        return None


OptionalPatron = Annotated[Caller | None, Depends(optional_patron)]
