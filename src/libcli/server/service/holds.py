"""Copies meeting reservations: the queue (R22) and the hold shelf (R13, R14).

One set-based step serves a single returned copy and the daily job's thousands alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import Integer, and_, func, select, update
from sqlalchemy.orm import Session as DbSession

from libcli.server import calendar, mail
from libcli.server.db.models import Copy, Patron, Reservation, Title
from libcli.server.rules.holds import arrival_status, contact_day_on_ready, pickup_deadline
from libcli.server.rules.patron import can_receive_mail
from libcli.server.rules.suspension import served_sql
from libcli.server.settings import Settings


class DeadlineBook:
    """R14 deadlines per pickup point and contact day, each computed once."""

    def __init__(self, session: DbSession, hold_days: int):
        self.session, self.hold_days = session, hold_days
        self._closed: dict = {}
        self._deadlines: dict = {}

    def deadline(self, point: str, contact_day: dt.date | None) -> dt.date | None:
        if contact_day is None:
            return None
        key = (point, contact_day)
        if key not in self._deadlines:
            if point not in self._closed:
                self._closed[point] = calendar.closed_checker(self.session, point)
            self._deadlines[key] = pickup_deadline(contact_day, self._closed[point], self.hold_days)
        return self._deadlines[key]


def lock_titles(session: DbSession, title_ids) -> None:
    """Lock titles in one global order: whoever changes a title's queue or copies goes
    one at a time (SQLite: the write transaction already holds the database).

    The lock order of every path, staff and patron alike: the patron, then titles by
    id, then copies, then reservations. FOR NO KEY UPDATE, so rows that merely refer to
    a title (a favorite, a new reservation's foreign key) do not wait for it."""
    session.execute(
        select(Title.id)
        .where(Title.id.in_(title_ids))
        .order_by(Title.id)
        .with_for_update(key_share=True)
    )


def next_queue_number(session: DbSession, title_id: str) -> int:
    """The queue number (R22) a new reservation of `title_id` gets: one past the last
    ever given. Call it only while holding the title's lock (lock_titles)."""
    last = session.scalar(
        select(func.max(Reservation.queue_number)).where(Reservation.title_id == title_id)
    )
    return (last or 0) + 1


def assign_copies(
    session: DbSession, settings: Settings, barcodes: Sequence[str], today: dt.date
) -> list[int]:
    """Give each freed copy to the first waiting reservation of its title (R22).

    A copy whose reservation is picked up where the copy stands is ready (受取可) at
    once; otherwise it is sent (回送中). Copies nobody waits for go back on the shelf.
    Returns the ids of the reservations that got a copy.
    """
    if not barcodes:
        return []
    lock_titles(session, select(Copy.title_id).where(Copy.barcode.in_(barcodes)))
    freed = (
        select(
            Copy.barcode,
            Copy.title_id,
            Copy.location,
            func.row_number().over(partition_by=Copy.title_id, order_by=Copy.barcode).label("rank"),
        )
        .where(Copy.barcode.in_(barcodes))
        .subquery()
    )
    queue = (
        select(
            Reservation.id,
            Reservation.title_id,
            Reservation.pickup,
            Reservation.contact,
            Reservation.card,
            func.row_number()
            .over(partition_by=Reservation.title_id, order_by=Reservation.queue_number)
            .label("rank"),
        )
        .where(
            Reservation.status == "waiting",
            served_sql(Reservation.suspended_until, today),  # 休止: passed over until the day
            Reservation.title_id.in_(select(freed.c.title_id)),
        )
        .subquery()
    )
    matches = session.execute(
        select(freed.c.barcode, freed.c.location, queue.c.id, queue.c.pickup, queue.c.contact).join(
            queue, and_(freed.c.title_id == queue.c.title_id, freed.c.rank == queue.c.rank)
        )
    ).all()

    book = DeadlineBook(session, settings.profile.hold_days)
    reservation_rows, copy_rows, ready_ids = [], [], []
    for barcode, location, reservation_id, pickup, contact in matches:
        status = arrival_status(pickup, location)
        row = {"id": reservation_id, "status": status, "copy_barcode": barcode}
        if status == "ready":
            contact_day = contact_day_on_ready(contact, today)
            row |= {
                "ready_since": today,
                "contacted_on": contact_day,
                "pickup_deadline": book.deadline(pickup, contact_day),
            }
            ready_ids.append(reservation_id)
        else:
            row |= {"ready_since": None, "contacted_on": None, "pickup_deadline": None}
        reservation_rows.append(row)
        copy_rows.append(
            {
                "barcode": barcode,
                "state": "held" if status == "ready" else "in_transit",
                "location": pickup if status == "ready" else location,
            }
        )
    assigned = {r["barcode"] for r in copy_rows}
    copy_rows += [{"barcode": b, "state": "on_shelf"} for b in barcodes if b not in assigned]
    if reservation_rows:
        session.execute(update(Reservation), reservation_rows)
    _update_copies(session, copy_rows)
    notify_ready(session, settings, ready_ids)
    return [r["id"] for r in reservation_rows]


def _update_copies(session: DbSession, rows: list[dict]) -> None:
    # Bulk UPDATE by primary key needs the same keys in every row.
    for keys in {tuple(sorted(r)) for r in rows}:
        batch = [r for r in rows if tuple(sorted(r)) == keys]
        session.execute(update(Copy), batch)


def make_ready(session: DbSession, settings: Settings, reservation: Reservation, today: dt.date):
    """An in-transit copy arrived at its pickup point: the hold is on the shelf (受取可)."""
    contact_day = contact_day_on_ready(reservation.contact, today)
    reservation.status = "ready"
    reservation.ready_since = today
    reservation.contacted_on = contact_day
    reservation.pickup_deadline = DeadlineBook(session, settings.profile.hold_days).deadline(
        reservation.pickup, contact_day
    )
    session.execute(
        update(Copy)
        .where(Copy.barcode == reservation.copy_barcode)
        .values(state="held", location=reservation.pickup)
    )
    session.flush()
    notify_ready(session, settings, [reservation.id])


def notify_ready(session: DbSession, settings: Settings, reservation_ids: Sequence[int]) -> None:
    """R13: the pickup point mails the patrons who chose email (and can receive mail, R19)."""
    if not reservation_ids:
        return
    rows = session.execute(
        select(Reservation, Patron, Title)
        .join(Patron, Patron.card == Reservation.card)
        .join(Title, Title.id == Reservation.title_id)
        .where(Reservation.id.in_(reservation_ids), Reservation.contact == "email")
    ).all()
    for reservation, patron, title in rows:
        if can_receive_mail(has_password=patron.password_hash is not None, email=patron.email):
            mail.queue(
                session,
                settings,
                to=patron.email,
                kind="hold_ready",
                patron_name=patron.name,
                title=title.title,
                pickup=reservation.pickup,
                pickup_deadline=reservation.pickup_deadline,
            )


def queue_positions(session: DbSession, reservation_ids: Sequence[int]) -> dict[int, int]:
    """Place in its title's queue (1 = next) of each waiting reservation given."""
    if not reservation_ids:
        return {}
    mine = select(Reservation).where(Reservation.id.in_(reservation_ids)).subquery()
    ahead = (
        select(mine.c.id, func.count(Reservation.id).cast(Integer))
        .join(
            Reservation,
            and_(
                Reservation.title_id == mine.c.title_id,
                Reservation.status == "waiting",
                Reservation.queue_number <= mine.c.queue_number,
            ),
        )
        .where(mine.c.status == "waiting")
        .group_by(mine.c.id)
    )
    return {rid: n for rid, n in session.execute(ahead).all()}


def recompute_deadlines(session: DbSession, hold_days: int, points: Iterable[str]) -> int:
    """R14: the one path by which ready holds get their deadline anew after the calendar of
    their pickup point changed (server/calendar.py calls it on every change); returns how
    many deadlines moved."""
    points = list(points)
    if not points:
        return 0
    book = DeadlineBook(session, hold_days)
    affected = select(Reservation).where(
        Reservation.status == "ready",
        Reservation.pickup.in_(points),
        Reservation.contacted_on.is_not(None),
    )
    lock_titles(session, affected.with_only_columns(Reservation.title_id))
    moved = 0
    for hold in session.scalars(affected.order_by(Reservation.id).with_for_update()):
        deadline = book.deadline(hold.pickup, hold.contacted_on)
        if deadline != hold.pickup_deadline:
            hold.pickup_deadline = deadline
            moved += 1
    session.flush()
    return moved


#: The contact methods by which staff make the R13 contact themselves (`contacted`).
STAFF_CONTACTS = ("phone", "ring", "voicemail")


def awaiting_contact(session: DbSession, point: str | None = None) -> list[dict]:
    """Ready holds whose patron staff must still phone, oldest first: the daily call list."""
    query = (
        select(Reservation, Patron, Title)
        .join(Patron, Patron.card == Reservation.card)
        .join(Title, Title.id == Reservation.title_id)
        .where(
            Reservation.status == "ready",
            Reservation.contact.in_(STAFF_CONTACTS),
            Reservation.contacted_on.is_(None),
        )
        .order_by(Reservation.ready_since, Reservation.id)
    )
    if point:
        query = query.where(Reservation.pickup == point)
    return [
        {
            "reservation_id": r.id,
            "card": r.card,
            "name": patron.name,
            "phone": patron.phone,
            "id": r.title_id,
            "title": title.title,
            "pickup": r.pickup,
            "contact": r.contact,
            "ready_since": r.ready_since.isoformat() if r.ready_since else None,
        }
        for r, patron, title in session.execute(query)
    ]


def count_awaiting_contact(session: DbSession) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Reservation)
            .where(
                Reservation.status == "ready",
                Reservation.contact.in_(STAFF_CONTACTS),
                Reservation.contacted_on.is_(None),
            )
        )
        or 0
    )


def statuses(session: DbSession, reservation_ids: Sequence[int]) -> dict[int, str]:
    """The status of each reservation given (a counter hold may be ready at once)."""
    if not reservation_ids:
        return {}
    rows = session.execute(
        select(Reservation.id, Reservation.status).where(Reservation.id.in_(reservation_ids))
    )
    return {rid: status for rid, status in rows}
