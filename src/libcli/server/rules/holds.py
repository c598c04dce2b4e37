"""The queue and the hold shelf: R12, R14, R22."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import ColumnElement, and_

# A reservation's statuses while it lasts: 予約待ち, 回送中, 受取可; a copy is assigned
# in the last two.
ACTIVE = ("waiting", "in_transit", "ready")
ASSIGNED = ("in_transit", "ready")
# Contact methods where the contact day is the day the hold becomes ready; for the
# others it is the day staff record the call (`libcli-server contacted`).
CONTACT_ON_READY = ("email", "none")


def can_cancel_online(status: str) -> bool:
    """R12: online cancelling ends once the reservation is ready (受取可)."""
    return status in ("waiting", "in_transit")


def arrival_status(pickup: str, copy_location: str) -> str:
    """R22: a copy assigned to a reservation is ready where it stands, else it travels."""
    return "ready" if pickup == copy_location else "in_transit"


def contact_day_on_ready(contact: str, ready_day: dt.date) -> dt.date | None:
    """The contact day known when a hold becomes ready (None: waiting for the call)."""
    return ready_day if contact in CONTACT_ON_READY else None


def pickup_deadline(
    contact_day: dt.date, is_closed: Callable[[dt.date], bool], hold_days: int
) -> dt.date:
    """R14: the last of `hold_days` open days of the pickup point after the contact day."""
    day, counted = contact_day, 0
    while counted < hold_days:
        day += dt.timedelta(days=1)
        if not is_closed(day):
            counted += 1
    return day


def expired(status: ColumnElement, deadline: ColumnElement, today: dt.date) -> ColumnElement:
    """R14: a ready hold not collected by its deadline is cancelled on the day after (the
    11th open day). A condition over reservation columns: the daily job runs it in SQL."""
    return and_(status == "ready", deadline < today)
