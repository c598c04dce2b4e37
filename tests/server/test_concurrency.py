"""Limits and queues hold under parallel requests to a running server (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.conftest import bin_path, clock_env, start_live_server
from tests.server.conftest import login_token, queued_library

pytestmark = pytest.mark.e2e


def _reserve(url: str, headers: dict, title_id: str, tries: int = 1) -> requests.Response:
    """POST /reservations; a 503 (a busy database, nothing written) is asked again after
    its Retry-After, as a client does, up to `tries` times in all."""
    for _ in range(tries):
        answer = requests.post(
            f"{url}/api/v1/reservations",
            json={"title_ids": [title_id], "pickup": "main", "contact": "phone"},
            headers=headers,
            timeout=60,
        )
        if answer.status_code != 503:
            break
        time.sleep(float(answer.headers["Retry-After"]))
    return answer


def test_r3_thirty_parallel_reservations_yield_exactly_ten(live_server_any):
    url = live_server_any.url
    _settings, db, cards = queued_library(
        live_server_any.database_url, patrons=1, titles=30, clock=live_server_any.clock
    )
    headers = login_token(url, cards[0])
    with ThreadPoolExecutor(30) as pool:
        answers = list(pool.map(lambda n: _reserve(url, headers, f"R-{n:02d}"), range(30)))
    assert all(a.status_code in (200, 503) for a in answers), [a.text for a in answers]
    reserved = [a for a in answers if a.status_code == 200 and a.json()["reserved"]]
    refused = [a for a in answers if a.status_code == 200 and a.json()["skipped"]]
    assert len(reserved) == 10
    assert {a.json()["skipped"][0]["reason"] for a in refused} <= {"limit_reached"}
    status = requests.get(f"{url}/api/v1/status", headers=headers, timeout=30).json()
    assert len(status["reservations"]) == 10
    db.dispose()


def _positions(url: str, headers: dict) -> dict[int, int | None]:
    status = requests.get(f"{url}/api/v1/status", headers=headers, timeout=30).json()
    return {r["reservation_id"]: r["position"] for r in status["reservations"]}


def test_r22_thirty_patrons_over_two_servers_are_told_1_to_30_and_keep_their_place(
    live_server_any, tmp_path
):
    """Two `serve` processes on one database, 30 patrons reserving one title at once:
    the positions told are exactly 1..30, none changes without a cancellation, and the
    copy goes to whoever was told 1 (R22: first come, first served)."""
    first = live_server_any
    _settings, db, cards = queued_library(
        first.database_url, patrons=30, titles=1, clock=first.clock
    )
    second = start_live_server(first.database_url, tmp_path, first.clock)
    try:
        urls = [first.url, second.url]
        patrons = [(urls[n % 2], login_token(urls[n % 2], card)) for n, card in enumerate(cards)]
        start = threading.Barrier(len(patrons))

        def reserve(patron):
            start.wait()
            return _reserve(*patron, "R-00", tries=5)

        with ThreadPoolExecutor(len(patrons)) as pool:
            answers = list(pool.map(reserve, patrons))
        assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
        told = [a.json()["reserved"][0] for a in answers]
        assert sorted(r["position"] for r in told) == list(range(1, 31))

        now = {}
        for url, headers in patrons:
            now |= _positions(url, headers)
        assert now == {r["reservation_id"]: r["position"] for r in told}

        # One cancellation: everyone behind moves up by exactly one place.
        gone = next(r for r in told if r["position"] == 10)
        owner = patrons[told.index(gone)]
        cancel = requests.delete(
            f"{owner[0]}/api/v1/reservations/{gone['reservation_id']}",
            headers=owner[1],
            timeout=30,
        )
        assert cancel.status_code == 204, cancel.text
        after = {}
        for url, headers in patrons:
            after |= _positions(url, headers)
        expected = {
            r["reservation_id"]: r["position"] - (r["position"] > 10) for r in told if r is not gone
        }
        assert after == expected

        # The returned copy goes to the one told position 1.
        first.console("checkin", "R-00-1", "--at", "main")
        head = patrons[next(n for n, r in enumerate(told) if r["position"] == 1)]
        status = requests.get(f"{head[0]}/api/v1/status", headers=head[1], timeout=30).json()
        assert [r["status"] for r in status["reservations"]] == ["ready"]
    finally:
        second.stop()
        db.dispose()


def test_r22_twenty_patrons_racing_for_one_returned_copy_yield_one_assignment(live_server_any):
    """The first patron waits before the race, so whichever check-in wins, the returned
    copy has someone to go to; 19 more reserve while 4 check-ins of it run."""
    from libcli.server.service import circulation

    url = live_server_any.url
    settings, db, cards = queued_library(
        live_server_any.database_url, patrons=20, titles=1, clock=live_server_any.clock
    )
    tokens = [login_token(url, card) for card in cards]
    first = _reserve(url, tokens[0], "R-00")
    assert [r["position"] for r in first.json()["reserved"]] == [1], first.text

    def checkin(_):
        with db.write() as s:
            return circulation.checkin(s, settings, "R-00-1", "main")

    with ThreadPoolExecutor(24) as pool:
        reserves = [pool.submit(_reserve, url, h, "R-00", 5) for h in tokens[1:]]
        checkins = [pool.submit(checkin, n) for n in range(4)]
        answers = [f.result() for f in reserves]
        for f in checkins:
            f.result()
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    # The copy is held for the first patron, never on the shelf, so no one is refused.
    assert all(len(a.json()["reserved"]) == 1 for a in answers), [a.text for a in answers]
    held = {}
    for card, h in zip(cards, tokens, strict=True):
        status = requests.get(f"{url}/api/v1/status", headers=h, timeout=30).json()
        held[card] = status["reservations"]
    assert all(len(rows) == 1 for rows in held.values()), held
    rows = {card: rows[0] for card, rows in held.items()}
    assigned = [card for card, r in rows.items() if r["status"] in ("ready", "in_transit")]
    assert assigned == [cards[0]]
    waiting = sorted(r["position"] for r in rows.values() if r["status"] == "waiting")
    assert waiting == list(range(1, 20))
    db.dispose()


def test_r22_parallel_checkins_of_one_copy_assign_it_once(live_server_any):
    from libcli.server.service import circulation

    url = live_server_any.url
    settings, db, cards = queued_library(
        live_server_any.database_url, patrons=20, titles=1, clock=live_server_any.clock
    )
    tokens = [login_token(url, card) for card in cards]
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda h: _reserve(url, h, "R-00", 5), tokens))
    assert all(len(a.json()["reserved"]) == 1 for a in answers)

    def checkin(_):
        with db.write() as s:
            return circulation.checkin(s, settings, "R-00-1", "main")

    with ThreadPoolExecutor(10) as pool:
        list(pool.map(checkin, range(10)))
    statuses = []
    for h in tokens:
        statuses += requests.get(f"{url}/api/v1/status", headers=h, timeout=30).json()[
            "reservations"
        ]
    assert len([r for r in statuses if r["status"] == "ready"]) == 1
    assert sorted(r["position"] for r in statuses if r["status"] == "waiting") == list(range(1, 20))
    db.dispose()


def test_r14_two_daily_jobs_at_once_expire_each_hold_once(live_server_any):
    import subprocess

    from sqlalchemy import func, select

    from libcli.server.db.models import Reservation
    from libcli.server.service import reservations

    settings, db, cards = queued_library(
        live_server_any.database_url, patrons=6, titles=6, clock=live_server_any.clock
    )
    today = settings.today()
    with db.write() as s:
        for n, card in enumerate(cards):
            reservations.place(
                s, settings, card, [f"R-{n:02d}"], pickup="main", contact="none", today=today
            )
            reservations.place(
                s, settings, cards[(n + 1) % 6], [f"R-{n:02d}"], pickup="main", contact="none"
            )
    for n in range(6):
        live_server_any.console(
            "checkin", f"R-{n:02d}-1", "--at", "main", "--date", today.isoformat()
        )
    env = {**live_server_any.env, **clock_env(live_server_any.clock)}
    after_deadline = today + dt.timedelta(days=19)  # 10 open days and any closed ones
    cmd = [str(bin_path("libcli-server")), "run-daily", "--date", after_deadline.isoformat()]
    jobs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [job.communicate(timeout=120)[0] for job in jobs]
    assert all(job.returncode == 0 for job in jobs), outputs
    expired = sum(int(out.split(": ")[1].split(" expired")[0]) for out in outputs)
    assert expired == 6, outputs
    with db.read() as s:
        ready = s.scalar(select(func.count()).where(Reservation.status == "ready"))
        assert ready == 6  # the second in each queue got the copy, exactly once
    db.dispose()
