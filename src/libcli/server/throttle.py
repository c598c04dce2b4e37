"""Fixed-window counters in the `throttle` table: guessing limits per address and overall.

A counter is one row keyed by what it limits (`login:addr:203.0.113.7`, `login:all`,
`reset:addr:...`). `hit` adds one in a single INSERT ... ON CONFLICT DO UPDATE, so
parallel requests never lose a count on SQLite or PostgreSQL; a window that has run
out starts again at the next hit. `retry_after` reads a counter before the expensive
work (argon2), so a throttled guess costs the server almost nothing.

Between a read and a hit other requests may pass, so under heavy parallelism a limit
can be overshot by the number of requests in flight; the limits are set with room.
"""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import case, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from libcli.server import logs
from libcli.server.db.models import Throttle
from libcli.server.errors import LibraryError
from libcli.server.settings import Settings

GLOBAL_LOGIN = "login:all"


def address_key(kind: str, address: str | None) -> str:
    return f"{kind}:addr:{(address or 'unknown')[:100]}"


def hit(session: Session, key: str, window: dt.timedelta, now: dt.datetime) -> int:
    """Count one event for `key`; returns the count in the current window."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(Throttle).values(key=key, window_start=now, count=1)
    expired = Throttle.window_start <= now - window
    stmt = stmt.on_conflict_do_update(
        index_elements=[Throttle.key],
        set_={
            "count": case((expired, 1), else_=Throttle.count + 1),
            "window_start": case(
                (expired, stmt.excluded.window_start), else_=Throttle.window_start
            ),
        },
    ).returning(Throttle.count)
    return session.execute(stmt).scalar_one()


def retry_after(
    session: Session, key: str, limit: int, window: dt.timedelta, now: dt.datetime
) -> int | None:
    """Seconds until `key` may be tried again, or None when it is under its limit."""
    row = session.execute(
        select(Throttle.count, Throttle.window_start).where(Throttle.key == key)
    ).first()
    if row is None or row.count < limit:
        return None
    ends = row.window_start + window
    if ends <= now:
        return None
    return max(1, math.ceil((ends - now).total_seconds()))


def _login_limits(settings: Settings, address: str | None) -> list[tuple[str, int, dt.timedelta]]:
    limits = [
        (
            GLOBAL_LOGIN,
            settings.global_failed_logins,
            dt.timedelta(seconds=settings.global_window_seconds),
        )
    ]
    if address:  # an unknown address is no key: callers without one would share a limit
        window = dt.timedelta(seconds=settings.address_window_seconds)
        limits.append((address_key("login", address), settings.address_failed_logins, window))
    return limits


def check_login(
    session: Session, settings: Settings, address: str | None, now: dt.datetime
) -> None:
    """Refuse a login attempt (429 rate_limited) while its address or the service is over
    the failed-login limit; says nothing about the card."""
    waits = {
        "service" if key == GLOBAL_LOGIN else "address": wait
        for key, limit, window in _login_limits(settings, address)
        if (wait := retry_after(session, key, limit, window, now)) is not None
    }
    if waits:
        logs.security_event(
            settings, "rate_limited", scope=",".join(waits), what="login", client=address
        )
        raise LibraryError("rate_limited", retry_after=max(waits.values()))


def count_failed_login(
    session: Session, settings: Settings, address: str | None, now: dt.datetime
) -> None:
    for key, _limit, window in _login_limits(settings, address):
        hit(session, key, window, now)


def check_and_count_reset(
    session: Session, settings: Settings, address: str | None, now: dt.datetime
) -> None:
    """Password-reset requests per address: counted before the card is looked at, so the
    answer is the same whatever the card and address were."""
    key = address_key("reset", address)
    window = dt.timedelta(seconds=settings.address_window_seconds)
    wait = retry_after(session, key, settings.address_reset_requests, window, now)
    if wait is not None:
        logs.security_event(settings, "rate_limited", scope="address", what="reset", client=address)
        raise LibraryError("rate_limited", retry_after=wait)
    hit(session, key, window, now)
