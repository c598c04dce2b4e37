"""The daily job: R14 expiry, then the next in each queue (R22), then reminder mails."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from sqlalchemy import select, text, update

from libcli.server.db.models import Reservation
from libcli.server.db.session import Database
from libcli.server.rules.holds import expired
from libcli.server.service import holds, reminders, suspension
from libcli.server.settings import Settings

_ADVISORY_LOCK = 0x11B_C11  # one run-daily batch at a time across every server
BATCH = 1000  # holds per transaction: each commit lets patrons' writes in (SQLite lock)
# SQLite has no queue for its write lock: a waiting writer polls, at most every 100 ms.
# Between batches the job stands back at least that long (and as long as its batch took),
# so patrons' reservations are not starved by a job that takes the lock again at once.
SQLITE_PAUSE_S = 0.1


def run_daily(
    db: Database,
    settings: Settings,
    today: dt.date,
    *,
    batch: int = BATCH,
    after_batch: Callable[[int], None] | None = None,
) -> dict:
    """Idempotent: a second run on the same day finds nothing left to do.

    The job works in short transactions: each batch expires up to `batch` holds and
    gives their copies to the next in the queue, then commits. A batch is whole or
    absent, so a job killed between batches leaves every invariant holding, and running
    it again finishes the work. Two servers running it at once are serialised batch by
    batch (SQLite: BEGIN IMMEDIATE; PostgreSQL: a transaction-scoped advisory lock), and
    each batch re-reads what is still to expire, so a hold is expired once.
    `after_batch` is told the count of each committed batch (progress, tests)."""
    total_expired = total_promoted = 0
    while True:
        started = time.monotonic()
        count, promoted = _expire_batch(db, settings, today, batch)
        if not count:
            break
        total_expired += count
        total_promoted += promoted
        if after_batch:
            after_batch(count)
        if db.is_sqlite and count == batch:  # a full batch: more may follow
            time.sleep(max(SQLITE_PAUSE_S, time.monotonic() - started))
    total_promoted += _serve_suspensions_ending(db, settings, today)
    reminded = 0  # then the reminder mails, in batches of patrons the same way
    while True:
        started = time.monotonic()
        count = reminders.queue_batch(db, settings, today, batch)
        if not count:
            break
        reminded += count
        if db.is_sqlite and count == batch:
            time.sleep(max(SQLITE_PAUSE_S, time.monotonic() - started))
    return {
        "date": today.isoformat(),
        "expired": total_expired,
        "promoted": total_promoted,
        "reminded": reminded,
    }


def _expire_batch(db: Database, settings: Settings, today: dt.date, size: int) -> tuple[int, int]:
    """One transaction: up to `size` holds past their deadline expire (R14) and their
    copies go to the next in each queue (R22)."""
    due = expired(Reservation.status, Reservation.pickup_deadline, today)
    with db.write() as session:
        if not db.is_sqlite:
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK})
        ids = session.scalars(
            select(Reservation.id).where(due).order_by(Reservation.id).limit(size)
        ).all()
        if not ids:
            return 0, 0
        holds.lock_titles(session, select(Reservation.title_id).where(Reservation.id.in_(ids)))
        barcodes = (
            session.execute(
                update(Reservation)
                .where(Reservation.id.in_(ids), due)
                .values(status="expired", closed_on=today)
                .returning(Reservation.copy_barcode)
                .execution_options(synchronize_session=False)
            )
            .scalars()
            .all()
        )
        promoted = holds.assign_copies(session, settings, [b for b in barcodes if b], today)
    return len(barcodes), len(promoted)


def _serve_suspensions_ending(db: Database, settings: Settings, today: dt.date) -> int:
    """One transaction: for each 休止 that ends today, a copy that went back on the shelf
    meanwhile goes to the queue (R22)."""
    with db.write() as session:
        if not db.is_sqlite:
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK})
        resumed = suspension.ending_today(session, today)
        holds.lock_titles(session, resumed)
        return len(suspension.serve_shelf_copies(session, settings, resumed, today))
