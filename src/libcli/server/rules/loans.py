"""Loans and renewal (貸出・延長): due dates and when a loan may be renewed.

The seed rules say nothing of renewal; the library profile decides how many times
(`renewals`, default 1) and the new due date is counted from the renewal day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

# A point closed for longer than this is not waited for (a misconfigured calendar).
MAX_CLOSED_RUN = 366


def due_date(start: dt.date, loan_days: int, is_closed: Callable[[dt.date], bool]) -> dt.date:
    """`loan_days` after `start`, moved to the next open day of the lending point when
    that day is closed (休館日)."""
    day = start + dt.timedelta(days=loan_days)
    for _ in range(MAX_CLOSED_RUN):
        if not is_closed(day):
            return day
        day += dt.timedelta(days=1)
    return day


def is_overdue(due_on: dt.date, today: dt.date) -> bool:
    """Overdue (延滞) from the day after the due date."""
    return today > due_on


def renewals_left(renewed: int, allowed: int) -> int:
    return max(allowed - renewed, 0)


def renewal_refusal(
    *, due_on: dt.date, today: dt.date, renewed: int, allowed: int, reserved_by_others: bool
) -> str | None:
    """Why a loan cannot be renewed, or None: an overdue loan must come back first, then
    no renewals left, then another patron waiting for the title."""
    if is_overdue(due_on, today):
        return "overdue"
    if renewals_left(renewed, allowed) == 0:
        return "renewal_limit"
    if reserved_by_others:
        return "reserved_by_others"
    return None
