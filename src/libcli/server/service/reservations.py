"""Placing, listing and cancelling reservations: R3, R5–R13, R21, R22."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import bindparam, case, delete, func, or_, select
from sqlalchemy.orm import Session as DbSession

from libcli.server import mail
from libcli.server.db.models import (
    ACTIVE_RESERVATION,
    Copy,
    Favorite,
    Loan,
    Reservation,
    Title,
)
from libcli.server.errors import LibraryError
from libcli.server.i18n import N_
from libcli.server.rules.holds import can_cancel_online
from libcli.server.rules.patron import contact_refusal
from libcli.server.rules.reservability import counter_refusal, is_available, online_refusal
from libcli.server.service import catalog, holds
from libcli.server.service.accounts import get_patron
from libcli.server.service.catalog import copy_states
from libcli.server.service.loans import loan_facts
from libcli.server.settings import Settings


def check_choice(settings: Settings, pickup: str, contact: str) -> None:
    """The pickup point and contact method must be ones this library's profile offers (R4, R13)."""
    if pickup not in settings.profile.point_codes:
        raise LibraryError(
            "invalid_request", N_("unknown service point {point}"), about={"point": repr(pickup)}
        )
    if contact not in settings.profile.contact_methods:
        raise LibraryError(
            "invalid_request",
            N_("unknown contact method {contact}"),
            about={"contact": repr(contact)},
        )


def place(
    session: DbSession,
    settings: Settings,
    card: str,
    title_ids: Sequence[str],
    *,
    pickup: str,
    contact: str,
    email_confirmation: bool = False,
    via: str = "online",
    today: dt.date | None = None,
    now: dt.datetime | None = None,
) -> dict:
    """Reserve each title on its own; one refusal does not stop the others (R9).

    The patron's row is locked first, so parallel requests of one patron are decided
    one after another and the limit (R3) and one-per-title (R21) hold. Each new
    reservation takes its title's next queue number while the title is locked, so the
    positions told are 1..n in the order the reservations are accepted (R22).
    """
    check_choice(settings, pickup, contact)
    patron = get_patron(session, card, lock=True)
    if patron.deactivated_at is not None:
        raise LibraryError("card_deactivated")
    if refusal := contact_refusal(
        contact=contact,
        email_confirmation=email_confirmation,
        has_password=patron.password_hash is not None,
        email=patron.email,
    ):
        raise LibraryError(refusal)

    holdings = catalog.patron_holdings(session, card)
    reserved, skipped, new_rows = [], [], []
    wanted = list(dict.fromkeys(title_ids))  # once each, in the order given
    holds.lock_titles(session, wanted)
    now = now or settings.now()
    today = today or settings.profile.day_of(now)
    titles = {t.id: t for t in session.scalars(select(Title).where(Title.id.in_(wanted)))}
    for title_id in wanted:
        title = titles.get(title_id)
        if title is None:
            skipped.append({"id": title_id, "title": None, "reason": "not_found"})
            continue
        copies = session.scalars(select(Copy).where(Copy.title_id == title_id)).all()
        states = copy_states(copies)
        reason = (
            online_refusal(title.type, states, settings.profile.online_types)
            if via == "online"
            else counter_refusal(states)
        ) or holdings.refusal(title_id, settings.profile.reservation_limit)
        if reason:
            skipped.append({"id": title_id, "title": title.title, "reason": reason})
            continue
        row = Reservation(
            card=card,
            title_id=title_id,
            pickup=pickup,
            contact=contact,
            status="waiting",
            via=via,
            placed_at=now,
            queue_number=holds.next_queue_number(session, title_id),
        )
        session.add(row)
        session.flush()
        holdings = replace(holdings, reserved=holdings.reserved | {title_id})
        new_rows.append((row, title))
        # At the counter a copy on the shelf is taken for the patron straight away.
        on_shelf = [c.barcode for c in copies if is_available(c)]
        if via == "counter" and on_shelf:
            holds.assign_copies(session, settings, on_shelf[:1], today)

    if new_rows:
        # R10: reserved titles leave the favorites.
        session.execute(
            delete(Favorite).where(
                Favorite.card == card, Favorite.title_id.in_([t.id for _, t in new_rows])
            )
        )
    session.flush()
    positions = holds.queue_positions(session, [r.id for r, _ in new_rows])
    for row, title in new_rows:
        reserved.append(
            {
                "reservation_id": row.id,
                "id": title.id,
                "title": title.title,
                "position": positions.get(row.id),
            }
        )
    if email_confirmation and reserved:
        mail.queue(
            session,
            settings,
            to=patron.email,
            kind="reservation_confirmation",
            patron_name=patron.name,
            items=[{"title": r["title"], "position": r["position"]} for r in reserved],
            pickup=pickup,
            contact=contact,
        )
    return {"reserved": reserved, "skipped": skipped}


# The status read (R11) as two Core statements built once: the columns it answers with,
# no ORM objects. A key added to the answer is a column here and a line in status().
_loan, _copy, _title = Loan.__table__, Copy.__table__, Title.__table__
_mine, _ahead = Reservation.__table__.alias("mine"), Reservation.__table__.alias("ahead")
_STATUS_LOANS = (
    select(
        _loan.c.barcode,
        _title.c.id,
        _title.c.title,
        _copy.c.point,
        _loan.c.checked_out_on,
        _loan.c.due_on,
        _loan.c.renewals,
    )
    .join_from(_loan, _copy, _copy.c.barcode == _loan.c.barcode)
    .join(_title, _title.c.id == _copy.c.title_id)
    .where(_loan.c.card == bindparam("card"), _loan.c.returned_on.is_(None))
    .order_by(_loan.c.due_on, _loan.c.id)
)
_QUEUE_POSITION = (  # R22: place in the title's queue (1 = next) of a waiting reservation
    select(func.count())
    .where(
        _ahead.c.title_id == _mine.c.title_id,
        _ahead.c.status == "waiting",
        _ahead.c.queue_number <= _mine.c.queue_number,
    )
    .scalar_subquery()
)
_STATUS_RESERVATIONS = (
    select(
        _mine.c.id,
        _title.c.id.label("title_id"),
        _title.c.title,
        _mine.c.status,
        _mine.c.pickup,
        _mine.c.contact,
        _mine.c.via,
        case((_mine.c.status == "waiting", _QUEUE_POSITION)).label("position"),
        _mine.c.placed_at,
        _mine.c.ready_since,
        _mine.c.pickup_deadline,
        _mine.c.suspended_until,
    )
    .join_from(_mine, _title, _title.c.id == _mine.c.title_id)
    .where(
        _mine.c.card == bindparam("card"),
        # One equality per state rather than IN: an IN list is re-rendered per execution.
        or_(*(_mine.c.status == state for state in ACTIVE_RESERVATION)),
    )
    .order_by(_mine.c.placed_at, _mine.c.id)
)


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def status(session: DbSession, settings: Settings, card: str) -> dict:
    """R11: current loans and current reservations (利用状況参照), read as plain rows."""
    today = settings.today()
    connection = session.connection()
    loans = connection.execute(_STATUS_LOANS, {"card": card}).all()
    reservations = connection.execute(_STATUS_RESERVATIONS, {"card": card}).all()
    return {
        "loans": [
            {
                "barcode": barcode,
                "id": title_id,
                "title": title,
                "point": point,
                "checked_out_on": checked_out_on.isoformat(),
                "due_date": due_on.isoformat(),
                **loan_facts(settings, due_on, renewals, today),
            }
            for barcode, title_id, title, point, checked_out_on, due_on, renewals in loans
        ],
        "reservations": [
            {
                "reservation_id": r.id,
                "id": r.title_id,
                "title": r.title,
                "status": r.status,
                "pickup": r.pickup,
                "contact": r.contact,
                "via": r.via,
                "position": r.position,
                "placed_at": r.placed_at.isoformat(),
                "ready_since": _iso(r.ready_since),
                "pickup_deadline": _iso(r.pickup_deadline),
                "suspended_until": _iso(r.suspended_until),
            }
            for r in reservations
        ],
    }


def cancel(
    session: DbSession,
    settings: Settings,
    card: str | None,
    reservation_id: int,
    *,
    by_staff: bool = False,
    today: dt.date | None = None,
) -> Reservation:
    """R12: a patron cancels until the hold is ready; after that only the library can
    (the patron phones). A copy the reservation held goes to the next in the queue."""
    today = today or settings.today()
    query = select(Reservation).where(Reservation.id == reservation_id)
    if card is not None:
        query = query.where(Reservation.card == card)
    title_id = session.scalar(query.with_only_columns(Reservation.title_id))
    holds.lock_titles(session, [title_id] if title_id else [])  # title before reservation
    reservation = session.scalars(query.with_for_update()).first()
    if reservation is not None and reservation.status == "cancelled":
        raise LibraryError(
            "already_cancelled",
            N_("reservation {reservation} is cancelled"),
            about={"reservation": reservation_id},
        )
    if reservation is None or reservation.status not in ACTIVE_RESERVATION:
        raise LibraryError(
            "not_found",
            N_("no active reservation {reservation}"),
            about={"reservation": reservation_id},
        )
    if not by_staff and not can_cancel_online(reservation.status):
        raise LibraryError("ready_cannot_cancel", phone=settings.profile.phone)
    reservation.status = "cancelled"
    reservation.closed_on = today
    session.flush()
    if reservation.copy_barcode:
        holds.assign_copies(session, settings, [reservation.copy_barcode], today)
    return reservation


def add_favorite(session: DbSession, settings: Settings, card: str, title_id: str) -> bool:
    """True when the title was added, False when it was a favorite already."""
    if session.get(Title, title_id) is None:
        raise LibraryError("not_found", N_("no title {title}"), about={"title": title_id})
    if session.get(Favorite, (card, title_id)) is not None:
        return False
    session.add(Favorite(card=card, title_id=title_id, added_at=settings.now()))
    return True


def remove_favorite(session: DbSession, card: str, title_id: str) -> None:
    favorite = session.get(Favorite, (card, title_id))
    if favorite is None:
        raise LibraryError("not_found", f"{title_id} is not a favorite")
    session.delete(favorite)


def favorite_titles(session: DbSession, card: str) -> list[Title]:
    return list(
        session.scalars(
            select(Title)
            .join(Favorite, Favorite.title_id == Title.id)
            .where(Favorite.card == card)
            .order_by(Favorite.added_at, Title.id)
        )
    )


def active_list(session: DbSession, *, point: str | None = None, status: str | None = None) -> list:
    """Active reservations for staff: the hold shelf of a point, calls still to make."""
    query = (
        select(Reservation)
        .where(Reservation.status.in_((status,) if status else ACTIVE_RESERVATION))
        .order_by(Reservation.pickup, Reservation.status, Reservation.placed_at, Reservation.id)
    )
    if point:
        query = query.where(Reservation.pickup == point)
    return [
        {
            "reservation_id": r.id,
            "card": r.card,
            "id": r.title_id,
            "status": r.status,
            "pickup": r.pickup,
            "contact": r.contact,
            "via": r.via,
            "contacted_on": r.contacted_on.isoformat() if r.contacted_on else None,
            "pickup_deadline": r.pickup_deadline.isoformat() if r.pickup_deadline else None,
            "suspended_until": r.suspended_until.isoformat() if r.suspended_until else None,
        }
        for r in session.scalars(query)
    ]
