"""Patrons at the counter: find, show, correct and deactivate a card (R1, R2)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session as DbSession

from libcli.server.db.models import (
    ACTIVE_RESERVATION,
    Favorite,
    LoginSession,
    Patron,
    Reservation,
)
from libcli.server.errors import LibraryError
from libcli.server.i18n import N_
from libcli.server.service import accounts
from libcli.server.settings import Settings

#: How many patrons `patron list` shows at most (a counter looks for one person).
LIST_LIMIT = 200


def _summary(patron: Patron) -> dict:
    return {
        "card": patron.card,
        "name": patron.name,
        "email": patron.email,
        "phone": patron.phone,
        "password_issued_on": _iso(patron.password_issued_on),
        "active": patron.deactivated_at is None,
    }


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def list_patrons(session: DbSession, query: str | None = None) -> list[dict]:
    """Patrons by card; `query` matches part of the card, name, email or phone."""
    statement = select(Patron).order_by(Patron.card).limit(LIST_LIMIT)
    if query and query.strip():
        like = f"%{query.strip().casefold()}%"
        statement = statement.where(
            or_(
                Patron.card.like(like),
                func.lower(Patron.name).like(like),
                func.lower(Patron.email).like(like),
                Patron.phone.like(like),
            )
        )
    return [_summary(p) for p in session.scalars(statement)]


def show(session: DbSession, card: str) -> dict:
    """A patron with their open loans, active reservations and how many favorites."""
    from libcli.server.service import circulation

    patron = accounts.get_patron(session, card)
    reservations = session.scalars(
        select(Reservation)
        .where(Reservation.card == card, Reservation.status.in_(ACTIVE_RESERVATION))
        .order_by(Reservation.placed_at, Reservation.id)
    ).all()
    favorites = session.scalar(
        select(func.count()).select_from(Favorite).where(Favorite.card == card)
    )
    return {
        **_summary(patron),
        "created_at": _iso(patron.created_at),
        "deactivated_at": _iso(patron.deactivated_at),
        "loans": circulation.loan_list(session, card=card),
        "reservations": [
            {
                "reservation_id": r.id,
                "id": r.title_id,
                "status": r.status,
                "pickup": r.pickup,
                "contact": r.contact,
                "pickup_deadline": _iso(r.pickup_deadline),
            }
            for r in reservations
        ],
        "favorites": favorites or 0,
    }


def edit(
    session: DbSession,
    card: str,
    *,
    name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
) -> dict:
    """Correct a patron's name, email or phone; an empty email or phone removes it."""
    patron = accounts.get_patron(session, card, lock=True)
    if name is not None:
        if not name.strip():
            raise LibraryError("invalid_request", N_("a name cannot be empty"), about={})
        patron.name = name.strip()
    if email is not None:
        email = email.strip() or None
        # the one email check of the service (emails.py), as in add_patron
        patron.email = accounts._checked_email(email) if email is not None else None
    if phone is not None:
        patron.phone = phone.strip() or None
    session.flush()
    return _summary(patron)


def deactivate(session: DbSession, settings: Settings, card: str) -> dict:
    """The card is no longer in use: no login, no reservation; open sessions end.

    Loans and reservations already made stay as they are for the counter to settle."""
    patron = accounts.get_patron(session, card, lock=True)
    if patron.deactivated_at is None:
        patron.deactivated_at = settings.now()
        session.execute(delete(LoginSession).where(LoginSession.card == card))
    session.flush()
    return _summary(patron)
