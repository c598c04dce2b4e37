"""8. Faults on a real server: SIGKILL mid-burst, 20 SQLite writers."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.security.invariants import violations
from tests.server.conftest import login_token, queued_library

pytestmark = pytest.mark.e2e
KILL_AFTER = 16  # answers out of the burst of 96 before SIGKILL


def _reserve(url, headers, title_id):
    try:
        return requests.post(
            f"{url}/api/v1/reservations",
            json={"title_ids": [title_id], "pickup": "main", "contact": "phone"},
            headers=headers,
            timeout=30,
        )
    except requests.RequestException:
        return None  # no answer: the outcome is unknown, and either is allowed


def test_8_sigkill_during_a_burst_of_reservations_loses_no_answered_reservation(live_server_any):
    from sqlalchemy import select

    from libcli.server.db.models import ACTIVE_RESERVATION, Reservation

    server = live_server_any
    settings, db, cards = queued_library(
        server.database_url, patrons=8, titles=12, clock=server.clock
    )
    tokens = {card: login_token(server.url, card) for card in cards}
    jobs = [(card, f"R-{n:02d}") for card in cards for n in range(12)]  # 12 > limit of 10

    answered = threading.Semaphore(0)

    def reserve(job):
        answer = _reserve(server.url, tokens[job[0]], job[1])
        if answer is not None:
            answered.release()
        return answer

    with ThreadPoolExecutor(16) as pool:
        futures = [(job, pool.submit(reserve, job)) for job in jobs]
        for _ in range(KILL_AFTER):  # the kill comes once part of the burst is answered
            assert answered.acquire(timeout=60)
        server.process.kill()
        server.process.wait()
        answers = [(job, future.result()) for job, future in futures]
    server.start()
    # The kill did fall mid-burst: some reservations were answered, some never were.
    assert KILL_AFTER <= sum(a is not None for _job, a in answers) < len(jobs)

    with db.read() as s:
        active = {
            (r.card, r.title_id): r.id
            for r in s.scalars(
                select(Reservation).where(Reservation.status.in_(ACTIVE_RESERVATION))
            )
        }
        broken = violations(s, settings.profile.reservation_limit)
    assert broken == []
    for (card, title), answer in [(job, a) for job, a in answers if a is not None]:
        if answer.status_code == 200 and answer.json()["reserved"]:
            assert active.get((card, title)) == answer.json()["reserved"][0]["reservation_id"]
        else:
            assert (card, title) not in active, answer.text
    # The restarted server answers on the same database with the same sessions.
    status = requests.get(f"{server.url}/api/v1/status", headers=tokens[cards[0]], timeout=30)
    assert status.status_code == 200
    assert len(status.json()["reservations"]) == sum(1 for c, _t in active if c == cards[0])
    db.dispose()


def test_8_twenty_concurrent_sqlite_writers_get_answers_or_503_never_500(live_server):
    _settings, db, cards = queued_library(
        live_server.database_url, patrons=20, titles=6, clock=live_server.clock
    )
    url = live_server.url
    tokens = [login_token(url, card) for card in cards]

    def writer(headers):
        codes = []
        for n in range(6):
            answer = _reserve(url, headers, f"R-{n:02d}")
            codes.append((answer.status_code, answer.headers.get("Retry-After")))
            fav = requests.put(f"{url}/api/v1/favorites/R-{n:02d}", headers=headers, timeout=30)
            codes.append((fav.status_code, fav.headers.get("Retry-After")))
        return codes

    with ThreadPoolExecutor(20) as pool:
        results = [code for codes in pool.map(writer, tokens) for code in codes]
    assert {status for status, _ in results} <= {200, 201, 204, 503}, results
    assert all(retry for status, retry in results if status == 503)
    with db.read() as s:
        assert violations(s, 10) == []
    db.dispose()


class _Killed(BaseException):
    """The job's process ending between two batches: no code of it runs after."""


def test_r14_run_daily_killed_between_batches_then_run_again(live_server_any):
    import datetime as dt

    from sqlalchemy import func, select

    from libcli.server.db.models import Reservation
    from libcli.server.service import reservations
    from libcli.server.service.daily import run_daily

    server = live_server_any
    settings, db, cards = queued_library(
        server.database_url, patrons=6, titles=6, clock=server.clock
    )
    today = settings.today()
    with db.write() as s:
        for n, card in enumerate(cards):
            for who in (card, cards[(n + 1) % 6]):
                reservations.place(s, settings, who, [f"R-{n:02d}"], pickup="main", contact="none")
    for n in range(6):
        server.console("checkin", f"R-{n:02d}-1", "--at", "main", "--date", today.isoformat())
    after_deadline = today + dt.timedelta(days=19)  # 10 open days and any closed ones

    def kill(_count):
        raise _Killed

    with pytest.raises(_Killed):
        run_daily(db, settings, after_deadline, batch=2, after_batch=kill)

    def count(status):
        with db.read() as s:
            return s.scalar(select(func.count()).where(Reservation.status == status))

    with db.read() as s:
        assert violations(s, settings.profile.reservation_limit) == []
    assert (count("expired"), count("ready")) == (2, 6)  # one whole batch, no more
    result = run_daily(db, settings, after_deadline, batch=2)
    assert (result["expired"], result["promoted"]) == (4, 4)
    with db.read() as s:
        assert violations(s, settings.profile.reservation_limit) == []
    assert (count("expired"), count("ready"), count("waiting")) == (6, 6, 0)
    db.dispose()
