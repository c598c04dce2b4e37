"""The counter: checkout, checkin (R22) and recording a phone contact (R13, R14)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from libcli.server.db.models import Copy, Loan, Reservation
from libcli.server.errors import LibraryError
from libcli.server.i18n import N_
from libcli.server.rules.holds import ASSIGNED
from libcli.server.service import holds, loans
from libcli.server.service.accounts import get_patron
from libcli.server.settings import Settings


def _copy(session: DbSession, barcode: str) -> Copy:
    # The global lock order (holds.lock_titles): the title, then the copy, then reservations.
    holds.lock_titles(session, select(Copy.title_id).where(Copy.barcode == barcode))
    copy = session.scalars(select(Copy).where(Copy.barcode == barcode).with_for_update()).first()
    if copy is None:
        raise LibraryError(
            "not_found", N_("no copy with barcode {barcode}"), about={"barcode": barcode}
        )
    return copy


def _holding_reservation(session: DbSession, barcode: str) -> Reservation | None:
    return session.scalars(
        select(Reservation)
        .where(Reservation.copy_barcode == barcode, Reservation.status.in_(ASSIGNED))
        .with_for_update()
    ).first()


def checkout(
    session: DbSession, settings: Settings, card: str, barcode: str, today: dt.date | None = None
) -> Loan:
    """Lend a copy: from the shelf, or the hold shelf when it waits for this patron."""
    today = today or settings.today()
    get_patron(session, card, lock=True)
    copy = _copy(session, barcode)
    if not copy.loanable:
        raise LibraryError(
            "reference_only",
            N_("{barcode} is reference only (禁帯出)"),
            about={"barcode": barcode},
        )
    if copy.state == "on_loan":
        raise LibraryError(
            "conflict", N_("{barcode} is already on loan"), about={"barcode": barcode}
        )
    if copy.state in ("held", "in_transit"):
        hold = _holding_reservation(session, barcode)
        if hold is None or hold.card != card or hold.status != "ready":
            raise LibraryError(
                "conflict",
                N_("{barcode} is held for another reservation"),
                about={"barcode": barcode},
            )
        hold.status, hold.closed_on = "collected", today
    else:
        # A reservation of this title the patron still waits for is met by this loan.
        waiting = session.scalars(
            select(Reservation).where(
                Reservation.card == card,
                Reservation.title_id == copy.title_id,
                Reservation.status == "waiting",
            )
        ).first()
        if waiting is not None:
            waiting.status, waiting.closed_on = "collected", today
    loan = Loan(
        barcode=barcode,
        card=card,
        checked_out_on=today,
        due_on=loans.due_date(session, settings, copy.location, today),
    )
    copy.state = "on_loan"
    session.add(loan)
    session.flush()
    return loan


def checkin(
    session: DbSession,
    settings: Settings,
    barcode: str,
    at: str | None = None,
    today: dt.date | None = None,
) -> dict:
    """A copy comes back (or arrives by transit) at a service point (R22).

    Returned: it goes to the first waiting reservation, ready if picked up here, in
    transit otherwise; with nobody waiting it goes back on the shelf. Arriving in
    transit at its pickup point: the hold becomes ready.
    """
    today = today or settings.today()
    copy = _copy(session, barcode)
    at = at or copy.point
    if at not in settings.profile.point_codes:
        raise LibraryError(
            "invalid_request", N_("unknown service point {point}"), about={"point": repr(at)}
        )
    if copy.state == "on_loan":
        loan = session.scalars(
            select(Loan).where(Loan.barcode == barcode, Loan.returned_on.is_(None))
        ).first()
        if loan is not None:
            loan.returned_on = today
        copy.location = at
        session.flush()
        holds.assign_copies(session, settings, [barcode], today)
    elif copy.state == "in_transit":
        hold = _holding_reservation(session, barcode)
        copy.location = at
        session.flush()
        if hold is None:
            holds.assign_copies(session, settings, [barcode], today)
        elif hold.pickup == at:
            holds.make_ready(session, settings, hold, today)
    session.flush()
    session.refresh(copy)
    hold = _holding_reservation(session, barcode)
    return {
        "barcode": barcode,
        "state": copy.state,
        "location": copy.location,
        "reservation_id": hold.id if hold else None,
        "reservation_status": hold.status if hold else None,
        "pickup": hold.pickup if hold else None,
    }


def contacted(
    session: DbSession, settings: Settings, reservation_id: int, today: dt.date | None = None
) -> Reservation:
    """Staff made the phone / ring / voicemail contact: the R14 count starts the day after."""
    today = today or settings.today()
    query = select(Reservation).where(Reservation.id == reservation_id)
    holds.lock_titles(session, query.with_only_columns(Reservation.title_id))
    hold = session.scalars(query.with_for_update()).first()
    if hold is None or hold.status != "ready":
        raise LibraryError(
            "not_found",
            N_("no ready reservation {reservation}"),
            about={"reservation": reservation_id},
        )
    if hold.ready_since is not None and today < hold.ready_since:
        raise LibraryError(
            "invalid_request",
            N_(
                "reservation {reservation} became ready on {day}: the contact cannot be"
                " before that day"
            ),
            about={"reservation": reservation_id, "day": hold.ready_since.isoformat()},
            ready_since=hold.ready_since.isoformat(),
        )
    hold.contacted_on = today
    hold.pickup_deadline = holds.DeadlineBook(session, settings.profile.hold_days).deadline(
        hold.pickup, today
    )
    session.flush()
    return hold


def loan_list(
    session: DbSession,
    *,
    card: str | None = None,
    overdue_on: dt.date | None = None,
) -> list[dict]:
    """Open loans (貸出中), oldest due first; only those overdue on `overdue_on` if given."""
    from libcli.server.db.models import Patron, Title

    query = (
        select(Loan, Copy, Title, Patron)
        .join(Copy, Copy.barcode == Loan.barcode)
        .join(Title, Title.id == Copy.title_id)
        .join(Patron, Patron.card == Loan.card)
        .where(Loan.returned_on.is_(None))
        .order_by(Loan.due_on, Loan.id)
    )
    if card is not None:
        query = query.where(Loan.card == card)
    if overdue_on is not None:
        query = query.where(Loan.due_on < overdue_on)
    return [
        {
            "barcode": loan.barcode,
            "id": title.id,
            "title": title.title,
            "card": loan.card,
            "name": patron.name,
            "point": copy.point,
            "checked_out_on": loan.checked_out_on.isoformat(),
            "due_date": loan.due_on.isoformat(),
            "days_overdue": max((overdue_on - loan.due_on).days, 0) if overdue_on else None,
        }
        for loan, copy, title, patron in session.execute(query)
    ]
