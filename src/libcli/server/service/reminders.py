"""Reminder mails (opt-in): a loan due soon, a loan overdue (rules/reminders.py).

`queue_batch` is one transaction of the daily job: up to `size` patrons, each with one
mail per kind listing their loans, and on each loan the due date it was mailed for, so
the mail goes once per loan and due date whatever runs again (R19: only a patron with a
password and an address gets mail).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import case, or_, select, text, update
from sqlalchemy.orm import Session as DbSession

from libcli.server import mail
from libcli.server.db.models import Copy, Loan, Patron, Title
from libcli.server.db.session import Database
from libcli.server.rules.reminders import DUE_SOON, OVERDUE, due_soon_sql, overdue_sql
from libcli.server.service.accounts import get_patron
from libcli.server.settings import Settings

_ADVISORY_LOCK = 0x11B_C12  # one reminder batch at a time across every server


def set_reminders(session: DbSession, settings: Settings, card: str, on: bool) -> dict:
    patron = get_patron(session, card, lock=True)
    patron.reminders = on
    return {"reminders": on, "days": settings.profile.reminder_days, "email": patron.email}


def queue_batch(db: Database, settings: Settings, today: dt.date, size: int) -> int:
    """One transaction: the reminder and overdue mails of up to `size` patrons; returns
    how many patrons got mail (0: nothing left to send today)."""
    days = settings.profile.reminder_days
    soon = due_soon_sql(Loan.due_on, Loan.reminded_due_on, today, days)
    late = overdue_sql(Loan.due_on, Loan.overdue_mailed_on, today)
    mailable = (
        Patron.reminders.is_(True),
        Patron.email.is_not(None),
        Patron.password_hash.is_not(None),
        Patron.deactivated_at.is_(None),
    )
    with db.write() as session:
        if not db.is_sqlite:
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK})
        cards = session.scalars(
            select(Patron.card)
            .where(*mailable)
            .where(
                select(Loan.id)
                .where(Loan.card == Patron.card, Loan.returned_on.is_(None), or_(soon, late))
                .exists()
            )
            .order_by(Patron.card)
            .limit(size)
            .with_for_update()  # the patron first (lock order), then their loans
        ).all()
        if not cards:
            return 0
        loans = session.execute(
            update(Loan)
            .where(Loan.card.in_(cards), Loan.returned_on.is_(None), or_(soon, late))
            .values(
                reminded_due_on=case((soon, Loan.due_on), else_=Loan.reminded_due_on),
                overdue_mailed_on=case((soon, Loan.overdue_mailed_on), else_=Loan.due_on),
            )
            .returning(Loan.card, Loan.barcode, Loan.due_on, Loan.due_on >= today)
            .execution_options(synchronize_session=False)
        ).all()
        titles = dict(
            session.execute(
                select(Copy.barcode, Title.title)
                .join(Title, Title.id == Copy.title_id)
                .where(Copy.barcode.in_([barcode for _, barcode, _, _ in loans]))
            ).all()
        )
        mails: dict[tuple[str, str], list[dict]] = defaultdict(list)
        for card, barcode, due_on, not_late in loans:
            kind = DUE_SOON if not_late else OVERDUE
            mails[card, kind].append({"title": titles[barcode], "due_on": due_on})
        patrons = {p.card: p for p in session.scalars(select(Patron).where(Patron.card.in_(cards)))}
        for (card, kind), items in sorted(mails.items()):
            patron = patrons[card]
            items.sort(key=lambda item: (item["due_on"], item["title"]))
            mail.queue(
                session, settings, to=patron.email, kind=kind, patron_name=patron.name, items=items
            )
    return len(cards)
