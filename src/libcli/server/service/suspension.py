"""Suspending and resuming a waiting reservation (休止); see rules/suspension.py."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from libcli.server.db.models import ACTIVE_RESERVATION, Copy, Reservation
from libcli.server.errors import LibraryError
from libcli.server.rules.suspension import suspend_refusal
from libcli.server.service import holds
from libcli.server.settings import Settings


def _mine(session: DbSession, card: str, reservation_id: int) -> Reservation:
    query = select(Reservation).where(Reservation.id == reservation_id, Reservation.card == card)
    holds.lock_titles(session, query.with_only_columns(Reservation.title_id))
    reservation = session.scalars(query.with_for_update()).first()
    if reservation is None or reservation.status not in ACTIVE_RESERVATION:
        raise LibraryError("not_found", f"no active reservation {reservation_id}")
    return reservation


def suspend(
    session: DbSession,
    settings: Settings,
    card: str,
    reservation_id: int,
    until: dt.date,
    today: dt.date | None = None,
) -> Reservation:
    """The reservation keeps its place; returned copies pass over it until `until`."""
    today = today or settings.today()
    reservation = _mine(session, card, reservation_id)
    if refusal := suspend_refusal(reservation.status, until, today):
        raise LibraryError(refusal)
    reservation.suspended_until = until
    session.flush()
    return reservation


def resume(
    session: DbSession,
    settings: Settings,
    card: str,
    reservation_id: int,
    today: dt.date | None = None,
) -> Reservation:
    """Served again from today; a copy of the title on the shelf is taken for the queue."""
    today = today or settings.today()
    reservation = _mine(session, card, reservation_id)
    reservation.suspended_until = None
    session.flush()
    if reservation.status == "waiting":
        serve_shelf_copies(session, settings, [reservation.title_id], today)
    return reservation


def serve_shelf_copies(
    session: DbSession, settings: Settings, title_ids: list[str], today: dt.date
) -> list[int]:
    """Copies that went back on the shelf while the only waiting patrons were away go to
    the queue once a suspension ends (call while holding the titles' locks)."""
    on_shelf = session.scalars(
        select(Copy.barcode)
        .where(Copy.title_id.in_(title_ids), Copy.state == "on_shelf", Copy.loanable)
        .order_by(Copy.barcode)
        .with_for_update()
    ).all()
    return holds.assign_copies(session, settings, on_shelf, today)


def ending_today(session: DbSession, today: dt.date) -> list[str]:
    """Titles with a suspension that ends today (for the daily job)."""
    return list(
        session.scalars(
            select(Reservation.title_id)
            .where(Reservation.status == "waiting", Reservation.suspended_until == today)
            .distinct()
        )
    )
