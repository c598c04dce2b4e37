"""Loans between visits: due dates off closed days, and renewal (延長)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from libcli.server import calendar
from libcli.server.db.models import Copy, Loan, Reservation, Title
from libcli.server.rules import loans as rules
from libcli.server.service import holds
from libcli.server.service.accounts import get_patron
from libcli.server.settings import Settings


def due_date(session: DbSession, settings: Settings, point: str, start: dt.date) -> dt.date:
    """The due date of a loan made (or renewed) at `point` on `start`."""
    return rules.due_date(
        start, settings.profile.loan_days, calendar.closed_checker(session, point)
    )


def loan_facts(settings: Settings, due_on: dt.date, renewals: int, today: dt.date) -> dict:
    """What status adds to a loan: overdue (延滞) and the renewals left."""
    return {
        "overdue": rules.is_overdue(due_on, today),
        "renewals_left": rules.renewals_left(renewals, settings.profile.renewals),
    }


def renew(
    session: DbSession,
    settings: Settings,
    card: str,
    barcodes: Sequence[str] | None,
    today: dt.date | None = None,
) -> dict:
    """Renew the patron's loans of `barcodes` (every open loan when None), each on its own.

    Lock order: the patron, the titles, the copies; reservations are only read."""
    today = today or settings.today()
    get_patron(session, card, lock=True)
    mine = select(Loan.barcode).where(Loan.card == card, Loan.returned_on.is_(None))
    if barcodes is not None:
        mine = mine.where(Loan.barcode.in_(list(barcodes)))
    holds.lock_titles(session, select(Copy.title_id).where(Copy.barcode.in_(mine)))
    rows = session.execute(
        select(Loan, Copy, Title)
        .join(Copy, Copy.barcode == Loan.barcode)
        .join(Title, Title.id == Copy.title_id)
        .where(Loan.barcode.in_(mine), Loan.returned_on.is_(None))
        .order_by(Loan.due_on, Loan.id)
        .with_for_update(of=Copy)
    ).all()
    waited_for = set(
        session.scalars(
            select(Reservation.title_id).where(
                Reservation.title_id.in_([title.id for _, _, title in rows]),
                Reservation.card != card,
                Reservation.status == "waiting",
            )
        )
    )
    renewed, skipped = [], []
    for loan, copy, title in rows:
        reason = rules.renewal_refusal(
            due_on=loan.due_on,
            today=today,
            renewed=loan.renewals,
            allowed=settings.profile.renewals,
            reserved_by_others=title.id in waited_for,
        )
        if reason:
            skipped.append({"barcode": loan.barcode, "title": title.title, "reason": reason})
            continue
        loan.due_on = due_date(session, settings, copy.location, today)
        loan.renewals += 1
        renewed.append(
            {"barcode": loan.barcode, "title": title.title, "due_date": loan.due_on.isoformat()}
        )
    found = {loan.barcode for loan, _, _ in rows}
    skipped += [
        {"barcode": b, "title": None, "reason": "not_found"}
        for b in dict.fromkeys(barcodes or ())
        if b not in found
    ]
    session.flush()
    return {"renewed": renewed, "skipped": skipped}
