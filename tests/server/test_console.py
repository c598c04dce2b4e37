"""The staff console (libcli-server) on SQLite and PostgreSQL, through Click's runner."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from libcli.exit_codes import ExitCode
from libcli.server.console import main

CATALOG = """title_id,title,author,publisher,year,type,isbn,barcode,point,loanable
B1,吾輩は猫である,夏目漱石,岩波書店,1990,book,,B1-1,main,true
B2,八戸市史,八戸市,八戸市,2010,book,,B2-1,main,false
M1,文藝春秋,,文藝春秋,2026,magazine,,M1-1,nango,true
"""


@pytest.fixture(autouse=True)
def _language_reset():
    """`--lang` sets the process's language for Click's words (libcli.i18n): undo it."""
    from libcli import i18n

    yield
    i18n.reset()


@pytest.fixture
def console(database_url, tmp_path, monkeypatch, clock):
    monkeypatch.setenv("LIBCLI_SERVER_CLOCK_OFFSET", str(clock.offset.total_seconds()))
    monkeypatch.setenv("LIBCLI_SERVER_DATABASE_URL", database_url)
    monkeypatch.setenv("LIBCLI_SERVER_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("LIBCLI_SERVER_SMTP_HOST", raising=False)
    monkeypatch.setenv("LIBCLI_LANG", "en")  # the words the tests read, whatever the locale
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
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr == "The request is not valid: a card number is nine digits\n"


def test_r19_no_email_contact_before_a_password_is_issued(console):
    refused = console(
        "hold", "place", "100000001", "B1", "--pickup", "main", "--contact", "email", ok=False
    )
    assert refused.exit_code == ExitCode.REFUSED
    assert refused.stderr == "Contact by email needs a registered email address.\n"


def test_r5_counter_reservation_of_a_magazine_and_r22_checkin(console):
    day = console.day
    console("checkout", "100000002", "M1-1", "--date", day(0))
    placed = console("hold", "place", "100000001", "M1", "--pickup", "main", "--contact", "none")
    assert "(position 1)" in placed.output
    arrived = console("checkin", "M1-1", "--at", "nango", "--date", day(1))
    assert "in transit for reservation" in arrived.output
    ready = console("checkin", "M1-1", "--at", "main", "--date", day(2))
    assert "ready for reservation" in ready.output
    holds = json.loads(console("hold", "list", "--json").output)
    assert holds[0]["status"] == "ready" and holds[0]["pickup_deadline"] == day(12)


def test_r7_reference_copy_cannot_be_lent_or_reserved_at_the_counter(console):
    assert console("checkout", "100000001", "B2-1", ok=False).exit_code == ExitCode.REFUSED
    refused = console(
        "hold", "place", "100000001", "B2", "--pickup", "main", "--contact", "phone", ok=False
    )
    assert refused.exit_code == ExitCode.REFUSED
    assert refused.stderr == "B2: Reference only: please use it inside the library.\n"


def test_r14_calendar_close_moves_the_deadline_of_ready_holds(console):
    day = console.day
    console("checkout", "100000002", "B1-1", "--date", day(0))
    console("hold", "place", "100000001", "B1", "--pickup", "main", "--contact", "none")
    console("checkin", "B1-1", "--date", day(0))
    before = json.loads(console("hold", "list", "--json").output)[0]["pickup_deadline"]
    moved = console("calendar", "close", "main", day(4), day(5))
    assert "1 hold deadline(s) moved" in moved.output
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
    assert first == again
    assert first.splitlines()[0] == f"{console.day(0)}: 0 expired, 0 promoted"


def test_bad_dates_and_points_are_usage_errors(console):
    assert console("run-daily", "--date", "20261220", ok=False).exit_code == 2
    assert console("calendar", "show", "tokyo", ok=False).exit_code == 2


# -- the frame: one line in the staff's language, tables, JSON, exit codes (issue 10) -------


def test_console_error_is_one_line_in_japanese_with_lang_or_locale(console, monkeypatch):
    by_flag = console("--lang", "ja", "hold", "cancel", "999", ok=False)
    assert by_flag.exit_code == ExitCode.NOT_FOUND
    assert by_flag.stderr == "見つかりません（有効な予約 999 はありません）\n"
    monkeypatch.delenv("LIBCLI_LANG", raising=False)
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    by_locale = console("hold", "cancel", "999", ok=False)
    assert by_locale.stderr == by_flag.stderr


def test_console_refusal_names_the_card_or_copy_in_japanese_too(console):
    """The detail of a refusal (which card, which copy) is translated, not dropped."""
    card = console("--lang", "ja", "patron", "show", "123456789", ok=False)
    assert card.exit_code == ExitCode.NOT_FOUND
    assert card.stderr == "見つかりません（利用者カード 123456789 の利用者はいません）\n"
    reference = console("--lang", "ja", "checkout", "100000001", "B2-1", ok=False)
    assert reference.exit_code == ExitCode.REFUSED
    assert reference.stderr.count("\n") == 1 and "B2-1 は禁帯出です" in reference.stderr
    english = console("--lang", "en", "checkout", "100000001", "B2-1", ok=False)
    assert "B2-1 is reference only" in english.stderr


def test_reservation_status_in_a_table_is_in_the_staffs_language(console, monkeypatch):
    import libcli.output

    console("checkout", "100000002", "M1-1")
    console("hold", "place", "100000001", "M1", "--pickup", "main", "--contact", "none")
    monkeypatch.setattr(libcli.output, "stdout_is_tty", lambda: True)
    assert "予約待ち" in console("--lang", "ja", "hold", "list").output
    assert "waiting" in console("--lang", "en", "hold", "list").output
    shown = console("--lang", "ja", "patron", "show", "100000001").output
    assert "予約待ち" in shown
    assert json.loads(console("hold", "list", "--json").output)[0]["status"] == "waiting"


def test_console_error_in_english_names_what_is_missing_without_a_code(console):
    result = console("--lang", "en", "hold", "cancel", "999", ok=False)
    assert result.exit_code == ExitCode.NOT_FOUND
    assert result.stderr.count("\n") == 1 and "999" in result.stderr
    assert not result.stderr.startswith("not_found")


def test_console_unexpected_error_is_one_line_without_traceback(console, monkeypatch):
    from libcli.server.service import reservations

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr(reservations, "active_list", broken)
    result = console("hold", "list", ok=False)
    assert result.exit_code == ExitCode.UNEXPECTED
    assert result.stderr == "Unexpected error (RuntimeError): disk on fire second line\n"
    assert "Traceback" not in result.output


def test_console_listing_has_headers_on_a_terminal_and_is_tsv_when_piped(console, monkeypatch):
    import libcli.output

    console("checkout", "100000002", "B1-1")
    piped = console("loan", "list").output
    assert piped == "\t".join(["B1-1", "吾輩は猫である", "100000002", "八戸 太郎"]) + (
        f"\t{console.day(0)}\t{console.day(14)}\n"
    )
    monkeypatch.setattr(libcli.output, "stdout_is_tty", lambda: True)
    on_terminal = console("--lang", "ja", "loan", "list").output.splitlines()
    assert on_terminal[0].split() == [
        "バーコード",
        "書名",
        "利用者カード",
        "氏名",
        "貸出日",
        "返却期限",
    ]
    assert on_terminal[1].startswith("-")
    assert "吾輩は猫である" in on_terminal[2]


def test_pickup_and_contact_take_the_japanese_names(console):
    console("checkout", "100000002", "M1-1")
    placed = console(
        "hold", "place", "100000001", "M1", "--pickup", "南郷図書館", "--contact", "電話"
    )
    assert "(position 1)" in placed.output
    hold = json.loads(console("hold", "list", "--json").output)[0]
    assert (hold["pickup"], hold["contact"]) == ("nango", "phone")
    wrong = console(
        "hold", "place", "100000001", "M1", "--pickup", "東京", "--contact", "x", ok=False
    )
    assert wrong.exit_code == ExitCode.USAGE
    assert "'東京' is not a service point of the library: use one of main, nango, center" in (
        wrong.stderr
    )


def test_a_counter_hold_with_a_copy_on_the_shelf_is_ready_not_position_none(console):
    placed = console("hold", "place", "100000001", "M1", "--pickup", "nango", "--contact", "none")
    assert "None" not in placed.output
    assert placed.output.endswith(": 文藝春秋: ready for pickup at Nango Library\n")
    sent = console("hold", "place", "100000002", "B1", "--pickup", "nango", "--contact", "none")
    assert sent.output.endswith(": 吾輩は猫である: a copy is on its way to Nango Library\n")


# -- the counter's daily commands -----------------------------------------------------------


def test_patron_list_show_and_edit(console):
    console("checkout", "100000001", "B1-1")
    console("hold", "place", "100000001", "M1", "--pickup", "main", "--contact", "phone")
    listed = json.loads(console("patron", "list", "--json").output)
    assert [p["card"] for p in listed] == ["100000001", "100000002"]
    found = json.loads(console("patron", "list", "--query", "太郎", "--json").output)
    assert [p["card"] for p in found] == ["100000002"]
    shown = json.loads(console("patron", "show", "100000001", "--json").output)
    assert [loan["barcode"] for loan in shown["loans"]] == ["B1-1"]
    assert [r["id"] for r in shown["reservations"]] == ["M1"]
    assert shown["favorites"] == 0 and shown["active"] is True
    console("patron", "edit", "100000002", "--phone", "0178-00-0000", "--email", "taro@example.jp")
    edited = json.loads(console("patron", "show", "100000002", "--json").output)
    assert (edited["phone"], edited["email"]) == ("0178-00-0000", "taro@example.jp")
    bad = console("patron", "edit", "100000002", "--email", "not-an-address", ok=False)
    assert bad.exit_code == ExitCode.USAGE
    assert console("patron", "show", "999999999", ok=False).exit_code == ExitCode.NOT_FOUND


def test_patron_deactivate_asks_and_then_refuses_reservations(console):
    asked = console("patron", "deactivate", "100000002", ok=False)
    assert asked.exit_code == ExitCode.USAGE and "--yes" in asked.stderr
    console("patron", "deactivate", "100000002", "--yes")
    shown = json.loads(console("patron", "show", "100000002", "--json").output)
    assert shown["active"] is False and shown["deactivated_at"]
    refused = console(
        "hold", "place", "100000002", "B1", "--pickup", "main", "--contact", "none", ok=False
    )
    assert refused.exit_code == ExitCode.AUTH
    assert "no longer in use" in refused.stderr


def test_loan_list_overdue_and_by_patron(console):
    day = console.day
    console("checkout", "100000001", "B1-1", "--date", day(-20))
    console("checkout", "100000002", "M1-1", "--date", day(0))
    everything = json.loads(console("loan", "list", "--json").output)
    assert [loan["barcode"] for loan in everything] == ["B1-1", "M1-1"]
    overdue = json.loads(console("loan", "list", "--overdue", "--json").output)
    assert [(loan["barcode"], loan["days_overdue"]) for loan in overdue] == [("B1-1", 6)]
    mine = json.loads(console("loan", "list", "--patron", "100000002", "--json").output)
    assert [loan["barcode"] for loan in mine] == ["M1-1"]


def test_r14_calendar_open_undoes_a_closed_day_and_moves_the_deadline_back(console):
    day = console.day
    console("checkout", "100000002", "B1-1", "--date", day(0))
    console("hold", "place", "100000001", "B1", "--pickup", "main", "--contact", "none")
    console("checkin", "B1-1", "--date", day(0))
    console("calendar", "close", "main", day(4), day(5))
    opened = console("calendar", "open", "main", day(4), day(5))
    assert "2 day(s) opened; 1 hold deadline(s) moved" in opened.output
    hold = json.loads(console("hold", "list", "--json").output)[0]
    assert hold["pickup_deadline"] == day(10)
    closed = json.loads(console("calendar", "show", "main", "--month", day(4)[:7], "--json").output)
    assert day(4) not in [c["date"] for c in closed]


def test_hold_list_awaiting_contact_is_the_call_list_and_run_daily_counts_it(console):
    day = console.day
    console("checkout", "100000002", "B1-1", "--date", day(0))
    console("hold", "place", "100000001", "B1", "--pickup", "main", "--contact", "phone")
    console("hold", "place", "100000002", "M1", "--pickup", "nango", "--contact", "ring")
    console("checkin", "B1-1", "--date", day(1))
    calls = json.loads(console("hold", "list", "--awaiting-contact", "--json").output)
    assert [(c["id"], c["contact"]) for c in calls] == [("M1", "ring"), ("B1", "phone")]
    assert "2 ready hold(s) await a call" in console("run-daily").output
    console("contacted", calls[0]["reservation_id"], "--date", day(1))
    left = json.loads(console("hold", "list", "--awaiting-contact", "--json").output)
    assert [c["id"] for c in left] == ["B1"]
    assert "1 ready hold(s) await a call" in console("run-daily").output


def test_r14_contacted_refuses_a_day_before_the_hold_became_ready(console):
    day = console.day
    console("checkout", "100000002", "B1-1", "--date", day(0))
    console("hold", "place", "100000001", "B1", "--pickup", "main", "--contact", "phone")
    console("checkin", "B1-1", "--date", day(2))
    rid = json.loads(console("hold", "list", "--json").output)[0]["reservation_id"]
    early = console("contacted", rid, "--date", day(1), ok=False)
    assert early.exit_code == ExitCode.USAGE and day(2) in early.stderr
    assert day(2 + 10) in console("contacted", rid, "--date", day(2)).output


def test_r14_init_calendar_moves_ready_deadlines_and_run_daily_keeps_the_hold(console, tmp_path):
    day = console.day
    console("checkout", "100000002", "M1-1", "--date", day(0))
    console("hold", "place", "100000001", "M1", "--pickup", "nango", "--contact", "none")
    console("checkin", "M1-1", "--date", day(0))
    assert json.loads(console("hold", "list", "--json").output)[0]["pickup_deadline"] == day(10)
    calendar_file = tmp_path / "calendar.toml"
    calendar_file.write_text(f'[nango]\nclosed = ["{day(3)}..{day(9)}"]\n', encoding="utf-8")
    console("init", "--calendar", calendar_file)
    hold = json.loads(console("hold", "list", "--json").output)[0]
    assert hold["pickup_deadline"] == day(17)
    console("run-daily", "--date", day(11))
    assert json.loads(console("hold", "list", "--json").output)[0]["status"] == "ready"


def test_console_speaks_japanese_through_the_real_process(live_server):
    server = live_server
    env_ja = {"LIBCLI_LANG": "ja"}
    server.env.update(env_ja)
    server.console("patron", "add", "100000001", "--name", "青森 花子")
    missing = server.console("hold", "cancel", "999", check=False)
    assert missing.returncode == ExitCode.NOT_FOUND
    assert missing.stderr == "見つかりません（有効な予約 999 はありません）\n"
    wrong = server.console(
        "hold", "place", "100000001", "X", "--pickup", "東京", "--contact", "電話", check=False
    )
    assert wrong.returncode == ExitCode.USAGE
    assert "Traceback" not in wrong.stderr and "東京" in wrong.stderr


def test_a_deactivated_patron_cannot_log_in_through_the_real_server(live_server):
    import requests

    from tests.server.conftest import PASSWORD, login_token

    server = live_server
    server.console("patron", "add", "100000001", "--name", "青森 花子")
    server.console("patron", "issue-password", "100000001", "--password-stdin", input=PASSWORD)
    login_token(server.url, "100000001")  # works before
    server.console("patron", "deactivate", "100000001", "--yes")
    refused = requests.post(
        f"{server.url}/api/v1/auth/login",
        json={"card": "100000001", "password": PASSWORD},
        timeout=60,
    )
    assert refused.status_code == 401


def test_console_help_is_in_japanese_too():
    runner = CliRunner()
    shown = runner.invoke(main, ["--lang", "ja", "hold", "list", "--help"]).output
    assert "有効な予約。" in shown and "毎日の連絡リスト" in shown
    assert "Active reservations" in runner.invoke(main, ["--lang", "en", "hold", "--help"]).output
