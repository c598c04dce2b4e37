"""Shared route dependencies: the database, the settings and the patron behind the token."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Row
from starlette.concurrency import run_in_threadpool

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


def _lookup(db: Database, settings: Settings, token: str | None, now: dt.datetime) -> Row:
    """The token lookup: one indexed read (accounts.authenticate) on a plain connection;
    on PostgreSQL in autocommit, so no BEGIN and ROLLBACK round trips around it."""
    with db.engine.connect() as connection:
        if not db.is_sqlite:
            connection.execution_options(isolation_level="AUTOCOMMIT")
        return accounts.authenticate(connection, settings, token, now)


def _touch(db: Database, row: Row, now: dt.datetime) -> None:
    """The idle clock, moved at most once a minute: one guarded UPDATE, so requests of
    one session that race here write it once."""
    with db.engine.execution_options(write=True).begin() as connection:
        accounts.touch_session(connection, row.token_hash, now, unless_since=now - TOUCH_EVERY)


def _caller(row: Row) -> Caller:
    return Caller(row.card, row.name, row.email, row.phone, row.token_hash, row.expires_at)


def caller_for(db: Database, settings: Settings, token: str | None) -> Caller:
    """The patron behind a session token (API bearer or page cookie); raises
    `auth_required`. The idle clock is moved at most once a minute, so a reader does not
    write on every request."""
    now = settings.now()
    row = _lookup(db, settings, token, now)
    if row.last_used_at + TOUCH_EVERY < now:
        _touch(db, row, now)
    return _caller(row)


async def caller_async(db: Database, settings: Settings, token: str | None) -> Caller:
    """caller_for for coroutines: the lookup is a short indexed read that waits for no
    lock (WAL snapshot, MVCC), so it runs on the event loop without a hop to the thread
    pool; the rare touch is a write that may wait for SQLite's lock, so it hops."""
    now = settings.now()
    row = _lookup(db, settings, token, now)
    if row.last_used_at + TOUCH_EVERY < now:
        await run_in_threadpool(_touch, db, row, now)
    return _caller(row)


async def current_patron(
    db: Db,
    settings: Config,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    return await caller_async(db, settings, credentials.credentials if credentials else None)


CurrentPatron = Annotated[Caller, Depends(current_patron)]


async def optional_patron(db: Db, settings: Config, request: Request) -> Caller | None:
    """The patron when a valid token comes along (public routes then answer for them).

    The header is read directly: the schema keeps these routes public, where a missing
    or stale token is no error, just an anonymous reader."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        return await caller_async(db, settings, token.strip())
    except LibraryError:
        return None


OptionalPatron = Annotated[Caller | None, Depends(optional_patron)]
