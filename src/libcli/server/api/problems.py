"""Errors as application/problem+json with a stable `code` and words in ja and en."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from libcli.server.errors import MESSAGES, LibraryError, field_messages, message

log = logging.getLogger("libcli.server")

PROBLEM = "application/problem+json"
_TITLES = {
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    503: "Service Unavailable",
    500: "Internal Server Error",
    400: "Bad Request",
}


def problem(
    code: str, status: int | None = None, detail: str | None = None, **extra
) -> JSONResponse:
    status = status or MESSAGES.get(code, (409,))[0]
    errors = extra.get("errors")
    messages = {"ja": message(code, "ja"), "en": message(code, "en")}
    if isinstance(errors, list) and errors:
        # Which field was wrong, and how, in the caller's words too.
        messages = field_messages(errors)
    body = {
        "type": "about:blank",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "code": code,
        "detail": detail or message(code, "en"),
        "messages": messages,
        **extra,
    }
    headers = {}
    if status in (429, 503):
        headers["Retry-After"] = str(extra.get("retry_after", 1))
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _plain(context: dict) -> dict:
    """pydantic's error context, JSON-safe (a pattern stays, an exception becomes text)."""
    return {str(k): v if isinstance(v, int | str) else str(v) for k, v in context.items()}


# PostgreSQL: serialization_failure, deadlock_detected, lock_not_available.
_CONFLICT_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
# SQLite: the write lock was not had within the busy timeout.
_SQLITE_LOCKED = ("database is locked", "database table is locked", "database is busy")


def is_conflict(exc: DBAPIError) -> bool:
    """Whether the database refused only because of a concurrent transaction (a lock or
    serialization conflict), the one database error worth retrying."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in _CONFLICT_SQLSTATES:
        return True
    return type(orig).__module__ == "sqlite3" and str(orig).lower().startswith(_SQLITE_LOCKED)


def install(app: FastAPI) -> None:
    @app.exception_handler(LibraryError)
    async def _library_error(_request: Request, exc: LibraryError):
        return problem(exc.code, exc.status, exc.detail, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError):
        errors = [
            {
                "loc": [str(p) for p in e.get("loc", ())],
                "msg": str(e.get("msg", "")),
                "type": str(e.get("type", "")),
                **({"ctx": _plain(e["ctx"])} if e.get("ctx") else {}),
            }
            for e in exc.errors()
        ]
        return problem(
            "invalid_request",
            422,
            "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors)[:500],
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException):
        code = {404: "not_found", 401: "auth_required"}.get(exc.status_code, "invalid_request")
        return problem(code, exc.status_code, str(exc.detail))

    @app.exception_handler(DBAPIError)
    async def _database(_request: Request, exc: DBAPIError):
        if is_conflict(exc):  # another transaction holds the lock: a retry will pass
            log.warning("database busy: %s", exc.orig)
            return problem("busy", 503, retry_after=1)
        log.error("database error", exc_info=exc)  # down, disk, schema...: not the client's
        return problem("internal_error", 500, "An unexpected error occurred.")

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception):
        log.exception("unexpected error")
        return problem("internal_error", 500, "An unexpected error occurred.")
