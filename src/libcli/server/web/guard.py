"""The cookie session and the CSRF tokens of the patron pages.

The cookie holds the same bearer token the API hands out (`accounts.login`), so a
page login is one more row in the `session` table and ends the way the others do
(logout, password reset, expiry). Forms of a logged-in patron carry an HMAC of that
token: a page of another site can neither read the HttpOnly cookie nor compute it.
The login form, before any session exists, uses a random double-submit cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request, Response

from libcli.server.api.deps import caller_for
from libcli.server.db.session import Database
from libcli.server.errors import LibraryError
from libcli.server.settings import Settings

SESSION_COOKIE = "libcli_session"
LOGIN_CSRF_COOKIE = "libcli_login_csrf"
LANG_COOKIE = "libcli_lang"
_MAX_TOKEN = 128  # tokens are 43 characters; anything far longer is not one of ours
_CSRF_LABEL = b"libcli-web-csrf-v1"


@dataclass(frozen=True)
class PageSession:
    """The patron logged in through the status page."""

    card: str
    name: str
    token_hash: str
    csrf: str


def is_secure(request: Request, settings: Settings) -> bool:
    """Secure cookies when the service is published over HTTPS or this request came so."""
    return settings.public_url.lower().startswith("https://") or request.url.scheme == "https"


def session_csrf(token: str) -> str:
    return hmac.new(token.encode("utf-8"), _CSRF_LABEL, hashlib.sha256).hexdigest()


def same(given: str | None, expected: str | None) -> bool:
    return bool(given and expected) and hmac.compare_digest(given, expected)


def current_session(request: Request, db: Database, settings: Settings) -> PageSession | None:
    """The patron behind the session cookie, or None (no cookie, expired, ended)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > _MAX_TOKEN:
        return None
    try:
        caller = caller_for(db, settings, token)
    except LibraryError:
        return None
    return PageSession(caller.card, caller.name, caller.token_hash, session_csrf(token))


def _set_cookie(response: Response, request: Request, settings: Settings, name: str, value: str):
    response.set_cookie(
        name, value, path="/", httponly=True, secure=is_secure(request, settings), samesite="lax"
    )


def set_session_cookie(response: Response, request: Request, settings: Settings, token: str):
    # A browser-session cookie: the server still ends it on idle and absolute expiry.
    _set_cookie(response, request, settings, SESSION_COOKIE, token)


def clear_session_cookie(response: Response, request: Request, settings: Settings):
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        secure=is_secure(request, settings),
        samesite="lax",
    )


def login_csrf(request: Request) -> tuple[str, bool]:
    """The login form's double-submit token, and whether the cookie must be (re)set."""
    current = request.cookies.get(LOGIN_CSRF_COOKIE)
    if current and len(current) <= _MAX_TOKEN:
        return current, False
    return secrets.token_urlsafe(32), True


def set_login_csrf_cookie(response: Response, request: Request, settings: Settings, value: str):
    _set_cookie(response, request, settings, LOGIN_CSRF_COOKIE, value)


def set_lang_cookie(response: Response, request: Request, settings: Settings, lang: str):
    response.set_cookie(
        LANG_COOKIE,
        lang,
        max_age=365 * 24 * 3600,
        path="/",
        httponly=True,
        secure=is_secure(request, settings),
        samesite="lax",
    )
