"""The daily hold-shelf job: R14 expiry, then the next in each queue (R22)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, text, update

from libcli.server.db.models import Reservation
from libcli.server.db.session import Database
from libcli.server.service import holds
from libcli.server.settings import Settings

_ADVISORY_LOCK = 0x11B_C11  # one run-daily at a time across every server on the database


def run_daily(db: Database, settings: Settings, today: dt.date) -> dict:
    """Idempotent: a second run on the same day finds nothing left to do.

    Two servers running it at once are serialised (SQLite: BEGIN IMMEDIATE;
    PostgreSQL: a transaction-scoped advisory lock)."""
    with db.write() as session:
        if not db.is_sqlite:
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK})
        holds.lock_titles(
            session,
            select(Reservation.title_id).where(
                Reservation.status == "ready", Reservation.pickup_deadline < today
            ),
        )
        expired = (
            session.execute(
                update(Reservation)
                .where(Reservation.status == "ready", Reservation.pickup_deadline < today)
                .values(status="expired", closed_on=today)
                .returning(Reservation.copy_barcode)
                .execution_options(synchronize_session=False)
            )
            .scalars()
            .all()
        )
        freed = [b for b in expired if b]
        promoted = holds.assign_copies(session, settings, freed, today)
    return {"date": today.isoformat(), "expired": len(expired), "promoted": len(promoted)}
