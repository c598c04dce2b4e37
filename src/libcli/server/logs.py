"""The server's log on stderr: one line per request and one per security event.

Each line is `key=value` pairs (logfmt); a value with spaces or quotes is in double
quotes. For example (one line each):

    time=2026-12-02T03:04:05.678Z kind=request method=PUT route=/api/v1/me/password
      status=204 ms=41.2 client=203.0.113.7
    time=2026-12-02T03:04:05.690Z kind=security event=password_changed
      card=100000001 client=203.0.113.7

A request line names the route's template (`/api/v1/reservations/{reservation_id}`),
never the path as sent or its query string (the reset page's link carries a token), and
no header or body: no token or password can reach the log. SECURITY.md ("10. Health
and logs") documents the format and lists the events and their fields.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from libcli.server.settings import Settings

log = logging.getLogger("libcli.server")

# The security events and what each means (SECURITY.md shows the same list).
SECURITY_EVENTS = {
    "login_failed": "a login with a wrong password, an unknown or locked card",
    "password_check_failed": "a wrong current password on an account route",
    "card_locked": "too many consecutive wrong passwords: the card is locked for a while",
    "rate_limited": "an attempt refused by a guessing limit (scope: address, service, card)",
    "password_changed": "the patron changed the password",
    "password_issued": "staff issued a password at the counter",
    "email_changed": "the patron set or changed the email address",
    "reset_requested": "a password-reset link was mailed",
    "password_reset": "a password was set through a reset link",
}


def _value(value: Any) -> str:
    text = "-" if value is None else str(value)
    if text == "" or any(ch in text for ch in ' "=\\') or not text.isprintable():
        escaped = text.replace("\\", "\\\\").replace('"', '\\"')
        escaped = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in escaped)
        return f'"{escaped}"'
    return text


def line(settings: Settings, kind: str, **fields: Any) -> str:
    """One log line: the time by the server's clock, the kind, then the fields in order."""
    stamp = settings.now().isoformat(timespec="milliseconds").replace("+00:00", "Z")
    pairs = {"time": stamp, "kind": kind, **fields}
    return " ".join(f"{key}={_value(value)}" for key, value in pairs.items())


def security_event(settings: Settings, event: str, **fields: Any) -> None:
    """Log a security event (one of SECURITY_EVENTS) with who and where."""
    assert event in SECURITY_EVENTS, event
    log.info(line(settings, "security", event=event, **fields))


def configure() -> None:
    """Send the server's lines to stderr, as they are (the server process calls this once)."""
    if any(getattr(h, "_libcli", False) for h in log.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler._libcli = True  # type: ignore[attr-defined]
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def route_template(scope) -> str | None:
    """The template of the route that served the request, prefix included
    (`/api/v1/reservations/{reservation_id}`); None when no route matched.

    A route of an included router knows its template without the router's prefix: the
    prefix is the part of the path before the longest tail the route's pattern matches
    (our prefixes are fixed text, never values)."""
    route = scope.get("route")
    template, pattern = getattr(route, "path", None), getattr(route, "path_regex", None)
    if template is None or pattern is None:
        mounted = scope.get("root_path")  # a mount (the static files) has no route
        return f"{mounted}/{{path}}" if mounted else None
    path = scope["path"]
    for at in (i for i, ch in enumerate(path) if ch == "/"):
        if pattern.match(path[at:]):
            return path[:at] + template
    return template


class RequestLog:
    """ASGI middleware: one line per request once its answer has gone out."""

    def __init__(self, app, settings: Settings):
        self.app = app
        self.settings = settings

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        logged = False

        def write() -> None:
            nonlocal logged
            logged = True
            client = scope.get("client")
            log.info(
                line(
                    self.settings,
                    "request",
                    method=scope["method"],
                    route=route_template(scope) or "-",
                    status=status,
                    ms=f"{(time.perf_counter() - started) * 1000:.1f}",
                    client=client[0] if client else None,
                )
            )

        async def send_and_note(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                write()  # before any background task (mail) runs

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            if not logged:
                write()
