"""One lock order for every staff and patron path: racing operations never deadlock
(SQLite and PostgreSQL; on PostgreSQL a deadlock is an error the caller sees)."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.exc import DBAPIError

from tests.security.invariants import violations
from tests.server.conftest import add_title

TRIALS = 40
LENDER = "399999999"


def _cards(n: int) -> list[str]:
    return [f"2{i:08d}" for i in range(n)]


def _ready_holds(settings, db, trials: int) -> list[tuple[str, str, int]]:
    """`trials` titles with one copy each, every copy on the hold shelf (ready) for its own
    patron: (card, barcode, reservation id) per trial."""
    from libcli.server.service import accounts, circulation, reservations

    cards = _cards(trials)
    with db.write() as s:
        accounts.add_patron(s, settings, LENDER, "貸出中の人")
        for card in cards:
            accounts.add_patron(s, settings, card, f"利用者 {card}")
        for n in range(trials):
            add_title(s, f"DL-{n:02d}", f"取り合いの本 {n}")
        s.flush()
        for n in range(trials):
            circulation.checkout(s, settings, LENDER, f"DL-{n:02d}-1")
    holds = []
    for n, card in enumerate(cards):
        with db.write() as s:
            placed = reservations.place(
                s, settings, card, [f"DL-{n:02d}"], pickup="main", contact="phone"
            )
            circulation.checkin(s, settings, f"DL-{n:02d}-1", "main")
        holds.append((card, f"DL-{n:02d}-1", placed["reserved"][0]["reservation_id"]))
    return holds


def _race(first, second) -> list[BaseException]:
    """Start two pieces of work at the same moment; the database errors they met."""
    from libcli.server.errors import LibraryError

    start = threading.Barrier(2)

    def run(work):
        start.wait()
        try:
            work()
        except LibraryError:
            return None  # a refusal (the other one won): an answer, not a failure
        except DBAPIError as exc:
            return exc
        return None

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(run, (first, second)))
    return [e for e in outcomes if e is not None]


@pytest.mark.parametrize("rival", ["staff_hold_cancel", "run_daily_expiry"])
def test_checkout_of_a_ready_hold_and_its_rival_never_deadlock_in_40_trials(settings, db, rival):
    """The patron collects a hold at one desk while staff cancel it at another (the
    patron phoned), or while the daily job expires it: 40 trials, no deadlock."""
    from sqlalchemy import update

    from libcli.server.db.models import Reservation
    from libcli.server.service import circulation, reservations
    from libcli.server.service.daily import run_daily

    holds = _ready_holds(settings, db, TRIALS)
    today = settings.today()
    failures = []
    for card, barcode, reservation_id in holds:

        def checkout(card=card, barcode=barcode):
            with db.write() as s:
                circulation.checkout(s, settings, card, barcode, today)

        def cancel(reservation_id=reservation_id):
            with db.write() as s:
                reservations.cancel(s, settings, None, reservation_id, by_staff=True, today=today)

        def expire():
            run_daily(db, settings, today)

        if rival == "run_daily_expiry":  # the hold's last day was yesterday
            with db.write() as s:
                s.execute(
                    update(Reservation)
                    .where(Reservation.id == reservation_id)
                    .values(pickup_deadline=today - dt.timedelta(days=1))
                )
        failures += _race(checkout, cancel if rival == "staff_hold_cancel" else expire)
    assert failures == [], f"{len(failures)} of {TRIALS} trials failed: {failures[0]}"
    with db.read() as s:
        assert violations(s, settings.profile.reservation_limit) == []
