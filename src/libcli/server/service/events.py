"""What a patron may want to be told between visits (`libcli news`): holds ready for
pickup, holds cancelled on the 11th day (R14), loans due soon, overdue loans.

A read only: the client remembers what it has already told (per profile), so the
server answers the same question the same way all day.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from libcli.server.db.models import Copy, Loan, Reservation, Title
from libcli.server.rules.loans import is_overdue
from libcli.server.settings import Settings

#: How far back a hold cancelled by R14 is still told: a month of days a patron's cron
#: may have missed (a laptop asleep, a holiday).
EXPIRED_DAYS = 30
#: The widest `due_within` asked for: loans are lent for weeks, not years.
MAX_DUE_WITHIN = 366


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def patron_events(
    session: DbSession, settings: Settings, card: str, *, due_within: int = 2
) -> list[dict]:
    """The patron's events today, oldest date first within each kind: `hold_ready`
    (dated by its pickup deadline, else the day it became ready), `hold_expired` (the day
    R14 cancelled it, in the last EXPIRED_DAYS), `due_soon` (due today or within
    `due_within` days), `overdue` (due before today)."""
    today = settings.today()
    events: list[dict] = []
    holds = session.execute(
        select(Reservation, Title.title)
        .join(Title, Title.id == Reservation.title_id)
        .where(
            Reservation.card == card,
            (Reservation.status == "ready")
            | (
                (Reservation.status == "expired")
                & (Reservation.closed_on >= today - dt.timedelta(days=EXPIRED_DAYS))
            ),
        )
        .order_by(Reservation.status.desc(), Reservation.id)
    ).all()
    for reservation, title in holds:
        ready = reservation.status == "ready"
        events.append(
            {
                "kind": "hold_ready" if ready else "hold_expired",
                "title": title,
                "date": _iso(
                    (reservation.pickup_deadline or reservation.ready_since)
                    if ready
                    else reservation.closed_on
                ),
                "id": reservation.title_id,
                "reservation_id": reservation.id,
                "pickup": reservation.pickup,
                "pickup_deadline": _iso(reservation.pickup_deadline),
                "barcode": None,
            }
        )
    horizon = today + dt.timedelta(days=due_within)
    loans = session.execute(
        select(Loan, Title.id, Title.title)
        .join(Copy, Copy.barcode == Loan.barcode)
        .join(Title, Title.id == Copy.title_id)
        .where(Loan.card == card, Loan.returned_on.is_(None), Loan.due_on <= horizon)
        .order_by(Loan.due_on, Loan.id)
    ).all()
    for loan, title_id, title in loans:
        events.append(
            {
                "kind": "overdue" if is_overdue(loan.due_on, today) else "due_soon",
                "title": title,
                "date": loan.due_on.isoformat(),
                "id": title_id,
                "reservation_id": None,
                "pickup": None,
                "pickup_deadline": None,
                "barcode": loan.barcode,
            }
        )
    return events
