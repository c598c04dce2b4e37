"""End to end: reminder mails (issue 14). A patron opts in with the real `libcli`; the
clock moves on; the real `libcli-server run-daily` queues and `mail deliver` sends, to the
outbox, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import email
from email import policy

import pytest

from tests.e2e.test_cli_flow import HEADER, LENDER, TARO, Patron, add_patron

pytestmark = pytest.mark.e2e

DAY = dt.timedelta(days=1)
REMINDER_DAYS = 2  # the profile's reminder_days


def outbox(server, kind: str) -> list[tuple[str, str]]:
    """(To, body) of each delivered mail of `kind`."""
    mails = []
    for path in sorted(server.outbox.glob(f"*-{kind}.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        mails.append((str(msg["To"]), msg.get_content()))
    return mails


def next_day(server, days: int = 1) -> None:
    """The clock moves on; that day's job runs and its mail goes out (twice each: once)."""
    server.clock.advance(days * DAY)
    for _ in range(2):
        server.console("run-daily")
        server.console("mail", "deliver")


@pytest.fixture
def borrowers(live_server_any, tmp_path):
    """Taro (opted in) and the lender (mail address, not opted in) each borrow a book today."""
    server = live_server_any
    csv = tmp_path / "catalogue.csv"
    rows = ["B003,雪国,川端康成,新潮社,1947,book,,C003,main,true"]
    rows += ["B005,こころ,夏目漱石,岩波書店,1914,book,,C007,main,true"]
    csv.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    server.console("import-catalog", str(csv), "--format", "csv")
    add_patron(server, TARO, "八戸 太郎", "taro@example.jp")
    add_patron(server, LENDER, "貸出 次郎", "jiro@example.jp")
    today = server.today().isoformat()
    server.console("checkout", TARO, "C003", "--date", today)
    server.console("checkout", LENDER, "C007", "--date", today)
    taro = Patron(server.url, tmp_path / "taro", TARO)
    taro.login()
    return server, taro


def test_reminder_before_the_due_date_and_on_the_first_overdue_day_each_once(borrowers):
    server, taro = borrowers
    ja = taro.run("email", "reminders", "on", lang="ja_JP.UTF-8")
    assert "2日前" in ja.stdout
    (loan,) = taro.json("status")["loans"]
    due = dt.date.fromisoformat(loan["due_date"])

    next_day(server, (due - server.today()).days - REMINDER_DAYS - 1)
    assert outbox(server, "due_reminder") == []  # three days before: not yet

    next_day(server)  # two days before the due date
    ((to, body),) = outbox(server, "due_reminder")
    assert to == "taro@example.jp"  # the lender did not opt in
    assert "雪国" in body and "返却期限" in body and "due back soon" in body
    assert f"{due.year}年{due.month}月{due.day}日" in body
    assert f"{server.url}/status" in body  # R18

    next_day(server, REMINDER_DAYS)  # the due day itself: already reminded
    assert len(outbox(server, "due_reminder")) == 1
    assert outbox(server, "overdue_notice") == []

    next_day(server)  # the first overdue day
    ((to, body),) = outbox(server, "overdue_notice")
    assert to == "taro@example.jp"
    assert "雪国" in body and "返却期限を過ぎています" in body and "past their due date" in body
    next_day(server)
    assert len(outbox(server, "overdue_notice")) == 1
    assert len(outbox(server, "due_reminder")) == 1


def test_reminders_off_sends_nothing(borrowers):
    server, taro = borrowers
    taro.run("email", "reminders", "on")
    assert "off" in taro.run("email", "reminders", "off").stdout
    (loan,) = taro.json("status")["loans"]
    due = dt.date.fromisoformat(loan["due_date"])
    next_day(server, (due - server.today()).days)
    next_day(server)
    assert outbox(server, "due_reminder") == outbox(server, "overdue_notice") == []
    taro.run("email", "reminders", "maybe", code=2)
