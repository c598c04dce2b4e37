"""The staff console (libcli-server) on SQLite and PostgreSQL, through Click's runner."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from libcli.server.console import main

CATALOG = """title_id,title,author,publisher,year,type,isbn,barcode,point,loanable
B1,吾輩は猫である,夏目漱石,岩波書店,1990,book,,B1-1,main,true
B2,八戸市史,八戸市,八戸市,2010,book,,B2-1,main,false
M1,文藝春秋,,文藝春秋,2026,magazine,,M1-1,nango,true
"""


@pytest.fixture
def console(database_url, tmp_path, monkeypatch, clock):
    monkeypatch.setenv("LIBCLI_SERVER_CLOCK_OFFSET", str(clock.offset.total_seconds()))
    monkeypatch.setenv("LIBCLI_SERVER_DATABASE_URL", database_url)
    monkeypatch.setenv("LIBCLI_SERVER_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("LIBCLI_SERVER_SMTP_HOST", raising=False)
    runner = CliRunner()

    def run(*args, input=None, ok=True):
        result = runner.invoke(main, [str(a) for a in args], input=input)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    def day(n: int = 0) -> str:
        """The day `n` days from today (by the clock), as the console takes it."""
        return (clock.today("Asia/Tokyo") + dt.timedelta(days=n)).isoformat()

    run.day = day
    (tmp_path / "catalog.csv").write_text(CATALOG, encoding="utf-8")
    run("import-catalog", tmp_path / "catalog.csv")
    run("patron", "add", "100000001", "--name", "青森 花子", "--email", "hanako@example.com")
    run("patron", "add", "100000002", "--name", "八戸 太郎")
    return run


def test_every_console_command_has_help_text():
    def walk(command, path):
        assert command.help, f"{' '.join(path)} has no help"
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(main, ["libcli-server"])


def test_r2_issue_password_prints_a_generated_one_or_takes_stdin(console):
    generated = console("patron", "issue-password", "100000001").output.strip()
    assert len(generated) >= 12
    given = console(
        "patron", "issue-password", "100000002", "--password-stdin", input="a long given password\n"
    )
    assert "a long given password" not in given.output


def test_r1_patron_add_refuses_a_card_that_is_not_nine_digits(console):
    result = console("patron", "add", "12345678", "--name", "x", ok=False)
    assert result.exit_code == 1 and "invalid_request" in result.output


def test_r19_no_email_contact_before_a_password_is_issued(console):
    refused = console(
        "hold", "place", "100000001", "B1", "--pickup", "main", "--contact", "email", ok=False
    )
    assert "email_required" in refused.output


def test_r5_counter_reservation_of_a_magazine_and_r22_checkin(console):
    day = console.day
    console("checkout", "100000002", "M1-1", "--date", day(0))
    placed = console("hold", "place", "100000001", "M1", "--pickup", "main", "--contact", "none")
    assert "position 1" in placed.output
    arrived = console("checkin", "M1-1", "--at", "nango", "--date", day(1))
    assert "in_transit" in arrived.output
    ready = console("checkin", "M1-1", "--at", "main", "--date", day(2))
    assert "ready" in ready.output
    holds = json.loads(console("hold", "list", "--json").output)
    assert holds[0]["status"] == "ready" and holds[0]["pickup_deadline"] == day(12)


def test_r7_reference_copy_cannot_be_lent_or_reserved_at_the_counter(console):
    assert console("checkout", "100000001", "B2-1", ok=False).exit_code == 1
    refused = console(
        "hold", "place", "100000001", "B2", "--pickup", "main", "--contact", "phone", ok=False
    )
    assert "reference_only" in refused.output


def test_r14_calendar_close_moves_the_deadline_of_ready_holds(console):
    day = console.day
    console("checkout", "100000002", "B1-1", "--date", day(0))
    console("hold", "place", "100000001", "B1", "--pickup", "main", "--contact", "none")
    console("checkin", "B1-1", "--date", day(0))
    before = json.loads(console("hold", "list", "--json").output)[0]["pickup_deadline"]
    moved = console("calendar", "close", "main", day(4), day(5))
    assert "1 hold deadline" in moved.output
    after = json.loads(console("hold", "list", "--json").output)[0]["pickup_deadline"]
    assert (before, after) == (day(10), day(12))
    shown = console("calendar", "show", "main", "--month", day(4)[:7]).output
    assert day(4) in shown
    assert day(5) in console("calendar", "show", "main", "--month", day(5)[:7]).output


def test_r13_phone_contact_recorded_by_staff_starts_the_count(console):
    day = console.day
    console("checkout", "100000002", "B1-1", "--date", day(0))
    console("hold", "place", "100000001", "B1", "--pickup", "main", "--contact", "phone")
    console("checkin", "B1-1", "--date", day(0))
    rid = json.loads(console("hold", "list", "--json").output)[0]["reservation_id"]
    assert day(12) in console("contacted", rid, "--date", day(2)).output


def test_r12_staff_cancel_a_ready_hold_for_a_patron_who_phoned(console):
    console("checkout", "100000002", "B1-1")
    console("hold", "place", "100000001", "B1", "--pickup", "main", "--contact", "phone")
    console("checkin", "B1-1")
    rid = json.loads(console("hold", "list", "--json").output)[0]["reservation_id"]
    console("hold", "cancel", rid)
    assert json.loads(console("hold", "list", "--json").output) == []


def test_mail_list_shows_the_outbox(console):
    console("checkout", "100000002", "B1-1")
    console("patron", "issue-password", "100000001")
    console("hold", "place", "100000001", "B1", "--pickup", "main", "--contact", "email")
    console("checkin", "B1-1")
    mails = json.loads(console("mail", "list", "--json").output)
    assert mails[0]["to"] == "hanako@example.com"
    assert {"to", "subject", "created_at", "body", "state"} <= set(mails[0])
    assert mails[0]["state"] == "queued"  # the console only queues; the deliverer sends


def test_run_daily_reports_and_is_idempotent(console):
    first = console("run-daily").output
    again = console("run-daily").output
    assert first == again == f"{console.day(0)}: 0 expired, 0 promoted\n"


def test_bad_dates_and_points_are_usage_errors(console):
    assert console("run-daily", "--date", "20261220", ok=False).exit_code == 2
    assert console("calendar", "show", "tokyo", ok=False).exit_code == 2
