"""Suspending a reservation (休止) while the patron is away.

The seed rules are silent; the library's choice: only a waiting reservation can be
suspended (a copy on its way or on the hold shelf is already the patron's); it keeps
its place in the queue (R22) and counts toward the limit (R3); a returned copy passes
over it to the next one until the date given, from which it is served again.
"""

from __future__ import annotations

import datetime as dt

# How far ahead a suspension may reach (a year: a typo should not park a place for ever).
MAX_SUSPENSION = dt.timedelta(days=366)


def suspend_refusal(status: str, until: dt.date, today: dt.date) -> str | None:
    """Why the reservation cannot be suspended until `until`, or None."""
    if status != "waiting":
        return "not_suspendable"
    if not today < until <= today + MAX_SUSPENSION:
        return "invalid_suspension"
    return None


def served_sql(suspended_until, today: dt.date):
    """SQL over the `suspended_until` column (assign_copies): a reservation is served
    unless suspended; a suspended one is passed over until the day it ends and is served
    again on that day."""
    from sqlalchemy import or_

    return or_(suspended_until.is_(None), suspended_until <= today)
