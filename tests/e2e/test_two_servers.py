"""A library that outgrew one process: two `serve` processes on one PostgreSQL database
(as on two hosts) keep the limit of 10 (R3), give a returned copy to exactly one
reservation (R22), and every queued mail is one row delivered once."""

from __future__ import annotations

import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import select, update

from tests.conftest import bin_path, clock_env, free_port, make_database, start_live_server
from tests.server.conftest import login_token, queued_library

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    class Collector:
        def __init__(self):
            self.recipients: list[str] = []

        async def handle_DATA(self, server, session, envelope):
            self.recipients.extend(envelope.rcpt_tos)
            return "250 OK"

    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield collector, controller.port
    controller.stop()


@pytest.fixture
def two_servers(tmp_path, clock, smtp):
    """Two servers on one fresh PostgreSQL database, both mailing through `smtp`."""
    url, cleanup = make_database("postgres", tmp_path)
    mail = {"LIBCLI_SERVER_SMTP_HOST": "127.0.0.1", "LIBCLI_SERVER_SMTP_PORT": str(smtp[1])}
    servers = []
    try:
        for n in range(2):
            folder = tmp_path / f"host{n}"
            folder.mkdir()
            servers.append(start_live_server(url, folder, clock, **mail))
        yield servers
    finally:
        for server in servers:
            server.stop()
        cleanup()


def _reserve(url: str, headers: dict, title_id: str, **extra) -> requests.Response:
    body = {"title_ids": [title_id], "pickup": "main", "contact": "phone", **extra}
    return requests.post(f"{url}/api/v1/reservations", json=body, headers=headers, timeout=120)


def test_r3_thirty_reserves_over_two_servers_yield_exactly_ten(two_servers):
    first, second = two_servers
    _settings, db, cards = queued_library(
        first.database_url, patrons=1, titles=30, clock=first.clock
    )
    try:
        urls = [first.url, second.url]
        tokens = [login_token(url, cards[0]) for url in urls]  # one patron, two sessions
        start = threading.Barrier(30)

        def reserve(n: int) -> requests.Response:
            start.wait()
            return _reserve(urls[n % 2], tokens[n % 2], f"R-{n:02d}")

        with ThreadPoolExecutor(30) as pool:
            answers = list(pool.map(reserve, range(30)))
        assert all(a.status_code in (200, 503) for a in answers), [a.text for a in answers]
        reserved = [a for a in answers if a.status_code == 200 and a.json()["reserved"]]
        refused = [a for a in answers if a.status_code == 200 and a.json()["skipped"]]
        assert len(reserved) == 10
        assert {a.json()["skipped"][0]["reason"] for a in refused} <= {"limit_reached"}
        for url, headers in zip(urls, tokens, strict=True):
            status = requests.get(f"{url}/api/v1/status", headers=headers, timeout=60).json()
            assert len(status["reservations"]) == 10
    finally:
        db.dispose()


def test_r22_a_copy_returned_at_two_counters_at_once_goes_to_one_reservation(two_servers):
    first, second = two_servers
    _settings, db, cards = queued_library(
        first.database_url, patrons=12, titles=1, clock=first.clock
    )
    try:
        urls = [first.url, second.url]
        patrons = [(urls[n % 2], login_token(urls[n % 2], c)) for n, c in enumerate(cards)]
        with ThreadPoolExecutor(len(patrons)) as pool:
            answers = list(pool.map(lambda p: _reserve(*p, "R-00"), patrons))
        assert all(len(a.json()["reserved"]) == 1 for a in answers), [a.text for a in answers]
        # The same copy checked in at each host's counter at once.
        runs = [
            subprocess.Popen(
                [bin_path("libcli-server"), "checkin", "R-00-1", "--at", "main"],
                env={**server.env, **clock_env(server.clock)},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for server in two_servers
        ]
        outputs = [run.communicate(timeout=120)[0] for run in runs]
        assert all(run.returncode == 0 for run in runs), outputs
        statuses = []
        for url, headers in patrons:
            got = requests.get(f"{url}/api/v1/status", headers=headers, timeout=60).json()
            statuses += got["reservations"]
        assert [r["status"] for r in statuses].count("ready") == 1
        waiting = sorted(r["position"] for r in statuses if r["status"] == "waiting")
        assert waiting == list(range(1, 12))
    finally:
        db.dispose()


def test_each_queued_mail_is_one_row_delivered_once(two_servers, smtp):
    from libcli.server.db.models import Mail, Patron

    collector, _port = smtp
    first, second = two_servers
    _settings, db, cards = queued_library(
        first.database_url, patrons=10, titles=1, clock=first.clock
    )
    try:
        emails = {card: f"p{card}@example.com" for card in cards}
        with db.write() as s:
            for card, address in emails.items():
                s.execute(update(Patron).where(Patron.card == card).values(email=address))
        urls = [first.url, second.url]
        patrons = [(urls[n % 2], login_token(urls[n % 2], c)) for n, c in enumerate(cards)]
        with ThreadPoolExecutor(len(patrons)) as pool:
            answers = list(
                pool.map(
                    lambda p: _reserve(*p, "R-00", contact="email", email_confirmation=True),
                    patrons,
                )
            )
        assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
        # Two deliverers at once, one per host, besides what the servers send themselves.
        runs = [
            subprocess.Popen(
                [bin_path("libcli-server"), "mail", "deliver"],
                env={**server.env, **clock_env(server.clock)},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for server in two_servers
        ]
        outputs = [run.communicate(timeout=120)[0] for run in runs]
        assert all(run.returncode == 0 for run in runs), outputs
        # A server's own delivery may still be finishing what it claimed.
        deadline = time.monotonic() + 60
        while True:
            with db.read() as s:
                rows = s.execute(select(Mail.to_addr, Mail.sent_at)).all()
            unsent = sum(1 for _to, sent in rows if sent is None)
            if unsent == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert sorted(to for to, _sent in rows) == sorted(emails.values())  # one row each
        assert unsent == 0
        assert sorted(collector.recipients) == sorted(emails.values())  # delivered once each
    finally:
        db.dispose()
