"""Mail to patrons, delivered through a real local SMTP server (aiosmtpd) or the outbox."""

from __future__ import annotations

import datetime as dt
import email
import socket
import threading
from dataclasses import replace
from email import policy

import pytest

from libcli.server import mail
from libcli.server.clock import Clock
from libcli.server.db.session import Database
from libcli.server.settings import load_settings

PATRON = "hanako@example.com"
DOMAIN = "lib.hachinohe.aomori.jp"


class Collector:
    """An aiosmtpd handler that keeps what arrives; `refuse` makes it answer 550."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse = False

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "550 mailbox unavailable"
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield collector, controller.port
    controller.stop()


@pytest.fixture
def base_settings(database_url, tmp_path):
    """Settings on a fresh database, SQLite and PostgreSQL (tests/conftest.py)."""
    return replace(
        load_settings(database_url),
        data_dir=tmp_path,
        outbox_dir=tmp_path / "outbox",
        public_url="https://library.example",
        smtp_host=None,
    )


@pytest.fixture
def db(base_settings):
    database = Database(base_settings.database_url)
    yield database
    database.dispose()


@pytest.fixture
def smtp_settings(base_settings, smtp_server):
    _collector, port = smtp_server
    return replace(base_settings, smtp_host="127.0.0.1", smtp_port=port)


def queue(db, settings, kind, to=PATRON, **context):
    with db.write() as session:
        mail.queue(session, settings, to=to, kind=kind, **context)


def hold_ready(db, settings, **overrides):
    context = dict(
        patron_name="青森 花子",
        title="こころ",
        pickup="nango",
        pickup_deadline=dt.date(2026, 12, 12),
    )
    queue(db, settings, "hold_ready", **{**context, **overrides})


def arrived(smtp_server) -> list[email.message.EmailMessage]:
    collector, _port = smtp_server
    return collector.messages


# -- what the mails say ----------------------------------------------------------------


def test_r10_reservation_confirmation_arrives_by_smtp(db, smtp_settings, smtp_server):
    queue(
        db,
        smtp_settings,
        "reservation_confirmation",
        patron_name="青森 花子",
        items=[{"title": "こころ", "position": 1}, {"title": "人間失格", "position": 3}],
        pickup="center",
        contact="ring",
    )
    assert mail.deliver_due(db, smtp_settings) == 1
    [msg] = arrived(smtp_server)
    body = msg.get_content()
    assert msg["Subject"] == "予約受付のお知らせ / Reservation received"
    assert msg["To"] == PATRON
    assert "こころ" in body and "人間失格" in body and "3" in body
    assert "図書情報センター" in body and "Book Information Center" in body
    assert "着信のみ" in body and "Ring only" in body
    assert body.index("青森 花子 様") < body.index("Dear 青森 花子")  # Japanese first
    assert "0178-22-0266" in body


def test_r15_email_change_mail_is_titled_mail_address_change_completed(
    db, smtp_settings, smtp_server
):
    queue(db, smtp_settings, "email_changed", patron_name="青森 花子", email=PATRON)
    mail.deliver_due(db, smtp_settings)
    [msg] = arrived(smtp_server)
    assert "メールアドレス変更完了のお知らせ" in msg["Subject"]  # decoded from RFC 2047
    assert PATRON in msg.get_content()


def test_email_change_notice_to_the_old_address_shows_the_new_one_masked(db, base_settings):
    queue(
        db,
        base_settings,
        "email_changed_notice",
        to="old@example.com",
        patron_name="青森 花子",
        email="h***@example.org",
    )
    with db.read() as s:
        [m] = mail.list_mail(s)
    assert m["to"] == "old@example.com"
    assert "h***@example.org" in m["body"]


def test_r17_password_reset_mail_holds_the_reset_url(db, smtp_settings, smtp_server):
    queue(
        db,
        smtp_settings,
        "password_reset",
        patron_name="青森 花子",
        token="abc-DEF_123",
        expires_minutes=30,
    )
    mail.deliver_due(db, smtp_settings)
    [msg] = arrived(smtp_server)
    body = msg.get_content()
    assert "https://library.example/reset?token=abc-DEF_123" in body
    assert "30" in body


def test_r18_hold_ready_mail_has_status_url(db, smtp_settings, smtp_server):
    hold_ready(db, smtp_settings)
    mail.deliver_due(db, smtp_settings)
    [msg] = arrived(smtp_server)
    body = msg.get_content()
    assert "https://library.example/status" in body
    assert "南郷図書館" in body and "Nango Library" in body
    assert "2026年12月12日(土)" in body and "Saturday, 12 December 2026" in body


def test_r18_reservation_confirmation_has_status_url(db, base_settings):
    queue(
        db,
        base_settings,
        "reservation_confirmation",
        patron_name="x",
        items=[{"title": "t", "position": 1}],
        pickup="main",
        contact="none",
    )
    with db.read() as s:
        assert "https://library.example/status" in mail.list_mail(s)[0]["body"]


def test_r13_hold_ready_without_deadline_explains_the_hold_days(db, base_settings):
    hold_ready(db, base_settings, pickup_deadline=None)
    with db.read() as s:
        body = mail.list_mail(s)[0]["body"]
    assert "開館日10日間" in body and "10 opening days" in body


def test_r20_mail_comes_from_the_library_domain(db, smtp_settings, smtp_server):
    mail_from = "yoyaku@lib.hachinohe.aomori.jp"
    queue(db, smtp_settings, "password_changed", patron_name="青森 花子")
    mail.deliver_due(db, smtp_settings)
    [msg] = arrived(smtp_server)
    collector, _ = smtp_server
    assert msg["From"].addresses[0].addr_spec == mail_from
    assert msg["From"].addresses[0].display_name == "八戸市立図書館"
    assert collector.envelopes == [(mail_from, [PATRON])]
    assert msg["Message-ID"].endswith("@lib.hachinohe.aomori.jp>")


# -- the outbox and delivery -----------------------------------------------------------


def test_mail_exists_only_if_its_transaction_commits(db, base_settings):
    with pytest.raises(RuntimeError), db.write() as session:
        mail.queue(session, base_settings, to=PATRON, kind="password_changed", patron_name="x")
        raise RuntimeError("the change failed")
    with db.read() as s:
        assert mail.list_mail(s) == []


def test_without_smtp_mail_goes_to_the_outbox_folder(db, base_settings):
    hold_ready(db, base_settings)
    assert mail.deliver_due(db, base_settings) == 1
    [eml] = list(base_settings.outbox_dir.glob("*.eml"))
    msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert msg["To"] == PATRON
    assert "ご用意ができました" in msg["Subject"]
    assert "https://library.example/status" in msg.get_content()
    with db.read() as s:
        [listed] = mail.list_mail(s)
    assert listed["state"] == "sent" and listed["last_error"] is None
    assert listed["kind"] == "hold_ready" and listed["attempts"] == 1
    assert msg["Message-ID"] == listed["message_id"] == f"<mail-{listed['id']}@{DOMAIN}>"
    assert dt.datetime.fromisoformat(listed["created_at"]).tzinfo is not None
    assert dt.datetime.fromisoformat(listed["sent_at"]).tzinfo is not None
    assert mail.deliver_due(db, base_settings) == 0  # nothing twice


def test_a_550_refused_mail_is_failed_with_the_reason_and_not_retried(
    db, smtp_settings, smtp_server
):
    collector, _ = smtp_server
    collector.refuse = True
    hold_ready(db, smtp_settings)
    assert mail.deliver_due(db, smtp_settings) == 0
    with db.read() as s:
        [listed] = mail.list_mail(s)
    assert listed["state"] == "failed" and "550" in listed["last_error"]
    collector.refuse = False
    assert mail.deliver_due(db, smtp_settings) == 0  # a permanent refusal is final
    assert collector.messages == []


def test_an_unreachable_smtp_server_leaves_mail_queued_for_later(db, base_settings):
    settings = replace(base_settings, smtp_host="127.0.0.1", smtp_port=free_port())
    hold_ready(db, settings)
    assert mail.deliver_due(db, settings) == 0
    with db.read() as s:
        [listed] = mail.list_mail(s)
    assert listed["state"] == "queued" and listed["last_error"].startswith("smtp 127.0.0.1")
    wait = dt.datetime.fromisoformat(listed["next_attempt_at"]) - settings.now()
    assert dt.timedelta(seconds=50) < wait <= dt.timedelta(seconds=60)
    assert mail.deliver_due(db, settings) == 0  # not due yet: no second attempt
    with db.read() as s:
        assert mail.list_mail(s)[0]["attempts"] == 1


def test_retry_delay_doubles_from_the_base_and_gives_up_at_the_limit(db, base_settings):
    delays = [mail.retry_delay(base_settings, n).total_seconds() for n in (1, 2, 3, 4)]
    assert delays == [60, 120, 240, 480]
    settings = replace(base_settings, smtp_host="127.0.0.1", smtp_port=free_port())
    settings = replace(settings, mail_retry_seconds=0)
    hold_ready(db, settings)
    for _ in range(mail.MAX_ATTEMPTS):
        mail.deliver_due(db, settings)
    with db.read() as s:
        [listed] = mail.list_mail(s)
    assert listed["state"] == "failed" and listed["attempts"] == mail.MAX_ATTEMPTS
    assert listed["last_error"].startswith(f"gave up after {mail.MAX_ATTEMPTS} attempts")


def test_parallel_deliverers_send_each_mail_exactly_once(db, smtp_settings, smtp_server):
    for n in range(40):
        hold_ready(db, smtp_settings, title=f"本 {n}")
    counts: list[int] = []
    barrier = threading.Barrier(4)

    def deliver():
        own = Database(smtp_settings.database_url)  # each worker its own engine, like a process
        try:
            barrier.wait()
            counts.append(mail.deliver_due(own, smtp_settings))
        finally:
            own.dispose()

    workers = [threading.Thread(target=deliver) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert sum(counts) == 40
    titles = sorted(
        m.get_content().split("資料名: ")[1].split("\n")[0] for m in arrived(smtp_server)
    )
    assert titles == sorted(f"本 {n}" for n in range(40))


def test_a_claimed_mail_is_not_taken_again_before_its_lease_ends(db, base_settings):
    hold_ready(db, base_settings)
    [claimed] = mail._claim(db, base_settings, 0)
    assert mail.deliver_due(db, base_settings) == 0  # the first deliverer holds it
    with db.read() as s:
        assert mail.list_mail(s)[0]["state"] == "sending"
    later = replace(
        base_settings, clock=Clock(base_settings.clock.offset + dt.timedelta(seconds=601))
    )
    assert mail.deliver_due(db, later) == 1  # the lease is over: the next deliverer sends it
    [eml] = list(base_settings.outbox_dir.glob("*.eml"))
    assert f"<mail-{claimed.id}@{DOMAIN}>" in eml.read_text()


def test_a_sent_reset_link_is_no_longer_readable_in_the_outbox_list(db, smtp_settings, smtp_server):
    queue(db, smtp_settings, "password_reset", patron_name="x", token="s3cret", expires_minutes=30)
    with db.read() as s:
        assert "token=s3cret" in mail.list_mail(s)[0]["body"]  # queued: the deliverer needs it
    mail.deliver_due(db, smtp_settings)
    assert "token=s3cret" in arrived(smtp_server)[0].get_content()
    with db.read() as s:
        body = mail.list_mail(s)[0]["body"]
    assert "s3cret" not in body and f"/reset?token={mail.REDACTED}" in body


# -- header injection ------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "a@example.com\r\nBcc: victim@example.com",
        "a@example.com\nBcc: x@example.com",
        "a@example.com\x00",
        "a@example.com, b@example.com",
        "a,b@example.com",
        "Evil <a@example.com>",
        "no-at-sign",
        "",
    ],
)
def test_addresses_with_line_breaks_or_extra_recipients_are_failed_never_sent(
    db, smtp_settings, smtp_server, address
):
    with db.write() as session:  # the change the mail reports still commits
        mail.queue(session, smtp_settings, to=address, kind="password_changed", patron_name="x")
    assert mail.deliver_due(db, smtp_settings) == 0
    assert arrived(smtp_server) == []
    with db.read() as s:
        [failed] = mail.list_mail(s, "failed")
    assert failed["last_error"].startswith("address:")
    assert "\n" not in failed["to"] and "\x00" not in failed["to"]


def test_one_validator_for_every_entry_point():
    from libcli.server import emails

    assert emails.normalized("Hanako@Example.COM") == "Hanako@example.com"
    assert emails.normalized(" x@example.com\n") == "x@example.com"  # the address alone
    for bad in (
        "a,b@example.com",
        "a@b",
        "a b@example.com",
        "x" * 250 + "@a.jp",
    ):
        assert not emails.is_valid(bad), bad


def test_unknown_kind_or_missing_context_is_a_programming_error(db, base_settings):
    with pytest.raises(ValueError), db.write() as session:
        mail.queue(session, base_settings, to=PATRON, kind="newsletter")
    with db.read() as s:
        assert mail.list_mail(s) == []
    with pytest.raises(TypeError), db.write() as session:
        mail.queue(session, base_settings, to=PATRON, kind="hold_ready", patron_name="x")
