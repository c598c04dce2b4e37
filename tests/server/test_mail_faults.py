"""Mail that cannot be sent never aborts a circulation step; delivery under SMTP faults.

Real SMTP servers (aiosmtpd, in this process) that refuse, drop, hang up or answer QUIT
with 421; real deliverer processes (`libcli-server mail deliver`) killed mid-batch and run
side by side. SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import json
import os
import signal
import subprocess
import time
from dataclasses import replace
from email import policy

import pytest
from sqlalchemy import update

from libcli.server import mail
from libcli.server.clock import Clock
from libcli.server.db.models import Patron
from tests.conftest import bin_path, clock_env, free_port

BAD = "a,b@example.com"  # passed the old account check, failed the old mail check
A, B = "100000001", "100000002"


def moved(settings, **delta):
    """The same settings on a clock moved `delta` further (the lease, the retry delay)."""
    return replace(settings, clock=Clock(settings.clock.offset + dt.timedelta(**delta)))


def set_email(db, card: str, address: str) -> None:
    """As a row written before the one validator: straight into the table."""
    with db.write() as s:
        s.execute(update(Patron).where(Patron.card == card).values(email=address))


# -- a bad address never aborts a circulation step -------------------------------------


def test_checkin_commits_when_the_next_patron_has_a_bad_address(library):
    set_email(library.db, B, BAD)
    library.reserve(library.login(B), "T-NEKO", contact="email")
    result = library.checkin("T-NEKO-1", at="main")
    assert result["reservation_id"]
    assert library.status(library.login(B))["reservations"][0]["status"] == "ready"
    [failed] = [m for m in library.mails() if m["kind"] == "hold_ready"]
    assert failed["state"] == "failed" and failed["to"] == BAD
    assert failed["last_error"].startswith("address:")


def test_run_daily_commits_when_a_promoted_patron_has_a_bad_address(library):
    from libcli.server.service.daily import run_daily

    set_email(library.db, B, BAD)
    library.reserve(library.login(A), "T-NEKO", contact="email")
    library.reserve(library.login(B), "T-NEKO", contact="email")
    library.checkin("T-NEKO-1", at="main")
    day = library.today + dt.timedelta(days=40)
    assert run_daily(library.db, library.settings, day)["promoted"] == 1
    assert library.status(library.login(B))["reservations"][0]["status"] == "ready"
    mails = {m["to"]: m for m in library.mails() if m["kind"] == "hold_ready"}
    assert mails["hanako@example.com"]["state"] == "queued"
    assert mails[BAD]["state"] == "failed"


def test_the_api_refuses_an_address_the_mail_could_not_be_sent_to(library):
    response = library.api.put(
        "/api/v1/me/email",
        json={"email": BAD, "current_password": "correct horse battery"},
        headers=library.login(A),
    )
    assert response.status_code == 422, response.text  # not 500
    assert response.json()["code"] == "invalid_request"


# -- SMTP servers that misbehave -------------------------------------------------------


class Handler:
    """Keeps what arrives; optional faults: slow DATA, refused recipients, one dropped reply."""

    def __init__(self, delay: float = 0.0, refuse: frozenset[str] = frozenset()):
        self.messages: list[email.message.EmailMessage] = []
        self.delay, self.refuse, self.drop_next_reply = delay, set(refuse), False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        if self.drop_next_reply:  # accepted, but the client never hears so
            self.drop_next_reply = False
            server.transport.abort()
        return "250 OK"

    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.messages]


class QuitWith421(Handler):
    async def handle_QUIT(self, server, session, envelope):
        return "421 4.3.0 closing, try later"


@pytest.fixture
def smtp_port():
    return free_port()


def start_smtp(handler: Handler, port: int):
    from aiosmtpd.controller import Controller

    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


@pytest.fixture
def settings_smtp(settings, smtp_port):
    return replace(settings, smtp_host="127.0.0.1", smtp_port=smtp_port)


def queue_many(db, settings, n: int, to: str = "hanako@example.com") -> None:
    with db.write() as session:
        for i in range(n):
            mail.queue(session, settings, to=to, kind="password_changed", patron_name=f"p{i}")


def states(db, state: str | None = None) -> list[dict]:
    with db.read() as session:
        return mail.list_mail(session, state)


def test_smtp_down_then_up_every_mail_arrives_once(db, settings_smtp, smtp_port):
    settings = replace(settings_smtp, mail_retry_seconds=1)
    queue_many(db, settings, 5)
    assert mail.deliver_due(db, settings) == 0  # nothing listens yet
    assert {m["state"] for m in states(db)} == {"queued"}
    handler = Handler()
    controller = start_smtp(handler, smtp_port)
    try:
        later = moved(settings, seconds=2)
        assert mail.deliver_due(db, later) == 5
        assert mail.deliver_due(db, later) == 0
    finally:
        controller.stop()
    assert sorted(handler.message_ids()) == sorted(m["message_id"] for m in states(db))
    assert len(set(handler.message_ids())) == 5
    assert {(m["state"], m["attempts"]) for m in states(db)} == {("sent", 2)}


def test_421_on_quit_after_data_accepted_records_sent_and_sends_nothing_again(
    db, settings_smtp, smtp_port
):
    handler = QuitWith421()
    controller = start_smtp(handler, smtp_port)
    try:
        queue_many(db, settings_smtp, 3)
        assert mail.deliver_due(db, settings_smtp) == 3
        later = moved(settings_smtp, hours=1)
        assert mail.deliver_due(db, later) == 0
    finally:
        controller.stop()
    assert len(handler.messages) == 3
    assert {m["state"] for m in states(db)} == {"sent"}


def test_a_connection_dropped_after_data_is_retried_with_the_same_message_id(
    db, settings_smtp, smtp_port
):
    handler = Handler()
    handler.drop_next_reply = True
    controller = start_smtp(handler, smtp_port)
    try:
        queue_many(db, settings_smtp, 1)
        assert mail.deliver_due(db, settings_smtp) == 0
        [waiting] = states(db)
        assert waiting["state"] == "queued" and waiting["last_error"].startswith("smtp:")
        later = moved(settings_smtp, seconds=61)
        assert mail.deliver_due(db, later) == 1
    finally:
        controller.stop()
    first, second = handler.message_ids()
    assert first == second == waiting["message_id"]  # a receiver can drop the copy


def test_550_on_rcpt_is_failed_listed_and_sent_after_staff_retry(
    database_url, settings_smtp, smtp_port, db, tmp_path
):
    handler = Handler(refuse=frozenset({"hanako@example.com"}))
    controller = start_smtp(handler, smtp_port)
    env = {
        **os.environ,
        "LIBCLI_SERVER_DATABASE_URL": database_url,
        "LIBCLI_SERVER_DATA_DIR": str(tmp_path),
        "LIBCLI_SERVER_SMTP_HOST": "127.0.0.1",
        "LIBCLI_SERVER_SMTP_PORT": str(smtp_port),
        **clock_env(settings_smtp.clock),
    }

    def console(*args):
        done = subprocess.run(
            [bin_path("libcli-server"), *args], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    try:
        queue_many(db, settings_smtp, 1)
        assert console("mail", "deliver") == "0 mail(s) delivered\n"
        assert console("mail", "deliver") == "0 mail(s) delivered\n"  # never retried
        [failed] = json.loads(console("mail", "list", "--state", "failed", "--json"))
        assert failed["attempts"] == 1 and "550" in failed["last_error"]
        header, row = console("mail", "list", "--state", "failed").splitlines()
        assert header.split("\t")[:2] == ["id", "state"]
        assert row.split("\t")[:3] == [str(failed["id"]), "failed", "1"]
        handler.refuse.clear()  # the mailbox exists again
        assert console("mail", "retry", str(failed["id"])) == "1 mail(s) queued again\n"
        assert console("mail", "deliver") == "1 mail(s) delivered\n"
    finally:
        controller.stop()
    assert len(handler.messages) == 1
    assert json.loads(console("mail", "list", "--json"))[0]["state"] == "sent"


def deliverer(database_url, tmp_path, settings, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [bin_path("libcli-server"), "mail", "deliver", *args],
        env={
            **os.environ,
            "LIBCLI_SERVER_DATABASE_URL": database_url,
            "LIBCLI_SERVER_DATA_DIR": str(tmp_path),
            "LIBCLI_SERVER_SMTP_HOST": "127.0.0.1",
            "LIBCLI_SERVER_SMTP_PORT": str(settings.smtp_port),
            **clock_env(settings.clock),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_deliverer_killed_mid_batch_leaves_the_rest_to_the_next_after_the_lease(
    database_url, db, settings_smtp, smtp_port, tmp_path
):
    handler = Handler(delay=0.3)
    controller = start_smtp(handler, smtp_port)
    try:
        queue_many(db, settings_smtp, 10)
        first = deliverer(database_url, tmp_path, settings_smtp)
        deadline = time.monotonic() + 60
        while len(handler.messages) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        stranded = states(db, "sending")
        assert stranded  # claimed by the dead deliverer
        assert mail.deliver_due(db, settings_smtp) == 0  # its lease still runs
        after_lease = moved(settings_smtp, seconds=601)
        assert mail.deliver_due(db, after_lease) == len(stranded)
    finally:
        controller.stop()
    assert {m["state"] for m in states(db)} == {"sent"}
    ids = handler.message_ids()
    assert set(ids) == {m["message_id"] for m in states(db)}  # nothing lost
    assert len(ids) - len(set(ids)) <= 1  # only the mail in hand at the kill, same Message-ID


def test_two_deliverers_at_once_over_500_mails_send_each_exactly_once(
    database_url, db, settings_smtp, smtp_port, tmp_path
):
    handler = Handler()
    controller = start_smtp(handler, smtp_port)
    try:
        queue_many(db, settings_smtp, 500)
        both = [deliverer(database_url, tmp_path, settings_smtp) for _ in range(2)]
        outputs = [p.communicate(timeout=300)[0] for p in both]
    finally:
        controller.stop()
    assert sum(int(out.split()[0]) for out in outputs) == 500
    ids = handler.message_ids()
    assert len(ids) == len(set(ids)) == 500
    assert {m["state"] for m in states(db)} == {"sent"}


# -- serve delivers in one thread of its own -------------------------------------------


def states_of(server) -> set[str]:
    return {m["state"] for m in server.mails()}


def test_a_hanging_smtp_server_does_not_slow_requests_of_serve(tmp_path, clock):
    """The deliverer of `serve` is one thread off the request pool: while it waits on an
    SMTP server that never greets (30 s timeout), search and a reset request answer."""
    import socket
    import urllib.request

    from tests.conftest import make_database, start_live_server

    hanging = socket.socket()  # listens, never accepts: the connection opens, no greeting
    hanging.bind(("127.0.0.1", 0))
    hanging.listen(16)
    url, cleanup = make_database("sqlite", tmp_path)
    server = start_live_server(
        url,
        tmp_path,
        clock,
        LIBCLI_SERVER_SMTP_HOST="127.0.0.1",
        LIBCLI_SERVER_SMTP_PORT=str(hanging.getsockname()[1]),
    )
    try:
        server.console("patron", "add", A, "--name", "青森 花子", "--email", "hanako@example.com")
        server.console("patron", "issue-password", A, "--password-stdin", input="x" * 16 + "\n")
        request = urllib.request.Request(
            f"{server.url}/api/v1/password-reset",
            data=json.dumps({"card": A, "email": "hanako@example.com"}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "sending" not in states_of(server):
            time.sleep(0.2)
        assert "sending" in states_of(server)  # the deliverer waits on SMTP now
        for _ in range(3):
            started = time.monotonic()
            search = f"{server.url}/api/v1/catalog/search?q=%E3%81%93%E3%81%93%E3%82%8D"
            with urllib.request.urlopen(search, timeout=30) as response:
                assert response.status == 200
            assert time.monotonic() - started < 5  # generous: the SMTP hang is 30 s
        started = time.monotonic()
        with urllib.request.urlopen(request, timeout=30) as response:  # queues one more
            assert response.status == 202
        assert time.monotonic() - started < 5
    finally:
        server.stop()
        hanging.close()
        cleanup()
