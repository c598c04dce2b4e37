"""Every command through Click (CliRunner), against a mocked server and an in-memory keyring."""

from __future__ import annotations

import json
import os
import stat

import pytest
from responses import matchers

from libcli import views
from libcli.exit_codes import ExitCode
from tests.cli.conftest import API, CARD, SERVER, TOKEN, problem, title

ME = {
    "card": CARD,
    "name": "八戸 太郎",
    "email": "taro@example.jp",
    "phone": None,
    "session_expires_at": "2030-01-01T00:00:00+09:00",
}


# -- login / logout / whoami ------------------------------------------------------------------


def test_login_keeps_the_token_in_the_keyring_and_the_card_in_the_config(
    run, http, memory_keyring, isolated
):
    http.post(
        API + "/auth/login",
        json={
            "token": TOKEN,
            "expires_at": "2030-01-01",
            "patron": {"card": CARD, "name": "八戸 太郎"},
        },
        match=[matchers.json_params_matcher({"card": CARD, "password": "secret"})],
    )
    result = run("login", CARD, "--password-stdin", input="secret\n")
    assert result.exit_code == 0, result.stderr
    assert "八戸 太郎" in result.stdout
    assert memory_keyring.store[("libcli", f"{CARD}@{SERVER}")] == TOKEN
    config = isolated / "config.toml"
    assert stat.S_IMODE(os.stat(config).st_mode) == 0o600
    assert CARD in config.read_text() and TOKEN not in config.read_text()


def test_invalid_credentials_answer_exits_4_with_one_line_and_the_fix(run, http, memory_keyring):
    http.post(API + "/auth/login", **problem("invalid_credentials", 401))
    result = run("login", CARD, "--password-stdin", input="nope\n")
    assert result.exit_code == ExitCode.AUTH
    assert result.stderr.count("\n") == 1
    assert "libcli passwd --forgot" in result.stderr
    assert memory_keyring.store == {}


def test_login_without_terminal_or_stdin_flag_is_a_usage_error(run, memory_keyring):
    result = run("login", CARD)
    assert result.exit_code == ExitCode.USAGE
    assert "--password-stdin" in result.stderr


def test_login_refuses_null_keyring_before_asking_the_password(run, http, isolated):
    import keyring
    from keyring.backends import null

    previous = keyring.get_keyring()
    keyring.set_keyring(null.Keyring())
    try:
        result = run("login", CARD, "--password-stdin", input="secret\n")
    finally:
        keyring.set_keyring(previous)
    assert result.exit_code == ExitCode.AUTH
    assert "--insecure-storage" in result.stderr
    assert len(http.calls) == 0
    assert not (isolated / "tokens.toml").exists()


def test_login_insecure_storage_warns_and_writes_0600_file(run, http, isolated):
    http.post(API + "/auth/login", json={"token": TOKEN, "patron": {"name": "N"}})
    result = run("login", CARD, "--password-stdin", "--insecure-storage", input="pw\n")
    assert result.exit_code == 0, result.stderr
    assert "plain text" in result.stderr
    assert stat.S_IMODE(os.stat(isolated / "tokens.toml").st_mode) == 0o600


def test_whoami_shows_where_the_token_is_masked(run, http, logged_in):
    http.get(API + "/me", json=ME)
    result = run("whoami", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["card"] == CARD and data["server"] == SERVER
    assert data["token_source"] == "keyring"
    assert TOKEN not in result.stdout and data["token"].startswith(TOKEN[:4])


def test_whoami_logged_out_exits_4(run, memory_keyring):
    result = run("whoami")
    assert result.exit_code == ExitCode.AUTH
    assert "libcli login" in result.stderr


def test_expired_session_exits_4(run, http, logged_in):
    http.get(API + "/me", **problem("auth_required", 401))
    assert run("whoami").exit_code == ExitCode.AUTH


def test_env_token_beats_the_keyring(run, http, logged_in):
    http.get(
        API + "/me", json=ME, match=[matchers.header_matcher({"Authorization": "Bearer envtok"})]
    )
    result = run("whoami", "--json", env={"LIBCLI_TOKEN": "envtok"})
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["token_source"] == "env"


def test_logout_revokes_and_forgets(run, http, logged_in):
    http.post(API + "/auth/logout", status=204)
    result = run("logout")
    assert result.exit_code == 0
    assert logged_in.store == {}
    assert run("logout").stdout.strip() == "You were not logged in."


# -- catalogue -----------------------------------------------------------------------------


def test_search_json_has_the_keys_of_its_view(run, http, memory_keyring):
    item = title("T1", reservable=False, reason="on_shelf", available=1, shelf_mark="913.6")
    http.get(API + "/catalog/search", json={"items": [item], "total": 1})
    result = run("search", "ノルウェイ", "--json")
    assert result.exit_code == 0
    (printed,) = json.loads(result.stdout)
    assert list(printed) == list(views.SEARCH.fields)  # a key the view lacks is not printed
    assert printed == {k: item[k] for k in views.SEARCH.fields}


def test_search_with_no_results_exits_0(run, http, memory_keyring):
    http.get(API + "/catalog/search", json={"items": [], "total": 0})
    result = run("search", "nothing")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "No titles found." in result.stderr


def test_search_piped_is_tab_separated_without_headers(run, http, memory_keyring):
    http.get(API + "/catalog/search", json={"items": [title("T1"), title("T2")], "total": 2})
    lines = run("search", "x").stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].split("\t")[:2] == ["T1", "Title T1"]


def test_search_on_a_terminal_is_a_table_with_headers(run, http, memory_keyring, tty):
    http.get(
        API + "/catalog/search", json={"items": [title("T1", title="ノルウェイの森")], "total": 1}
    )
    out = run("--lang", "ja", "search", "x").stdout
    assert "資料名" in out and "ノルウェイの森" in out and "\t" not in out


def test_refused_titles_are_red_on_a_terminal_and_not_with_no_color(run, http, memory_keyring, tty):
    http.get(
        API + "/catalog/search",
        json={"items": [title("T1", reservable=False, reason="reference_only")], "total": 1},
    )
    assert "\x1b[31m" in run("search", "x", color=True).stdout
    assert "\x1b[" not in run("search", "x", color=True, env={"NO_COLOR": "1"}).stdout


def test_server_text_is_neutralised(run, http, memory_keyring):
    http.get(
        API + "/catalog/search",
        json={"items": [title("T1", title="evil\x1b[2J\x07title\u202e")], "total": 1},
    )
    out = run("search", "x").stdout
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "\\x1b[2J" in out


def test_show_json_lists_copies(run, http, memory_keyring):
    copies = [
        {
            "barcode": "B1",
            "point": "main",
            "loanable": True,
            "state": "on_loan",
            "due_date": "2025-01-10",
        },
        {
            "barcode": "B2",
            "point": "nango",
            "loanable": False,
            "state": "on_shelf",
            "due_date": None,
        },
    ]
    http.get(API + "/catalog/titles/T1", json=title("T1", copies=copies))
    data = json.loads(run("show", "T1", "--json").stdout)
    assert list(data) == list(views.SHOW.fields)
    assert data["copies"] == copies
    assert data["reservable"] is True


def test_show_labels_use_the_librarys_terms_in_japanese(run, http, memory_keyring):
    copies = [
        {
            "barcode": "B1",
            "point": "main",
            "loanable": True,
            "state": "on_loan",
            "due_date": "2025-01-10",
        },
        {
            "barcode": "B2",
            "point": "nango",
            "loanable": False,
            "state": "on_shelf",
            "due_date": None,
        },
    ]
    http.get(
        API + "/catalog/titles/T1",
        json=title("T1", copies=copies, reservable=False, reason="on_shelf"),
    )
    out = run("--lang", "ja", "show", "T1").stdout
    for term in ("貸出中", "帯出可", "禁帯出", "貸出可", "八戸市立図書館", "南郷図書館"):
        assert term in out


def test_show_unknown_title_exits_6(run, http, memory_keyring):
    http.get(API + "/catalog/titles/NOPE", **problem("not_found", 404))
    assert run("show", "NOPE").exit_code == ExitCode.NOT_FOUND


# -- favorites -----------------------------------------------------------------------------


def test_fav_add_list_remove(run, http, logged_in):
    http.put(API + "/favorites/T1", status=204)
    http.put(API + "/favorites/T2", status=204)
    http.get(
        API + "/favorites",
        json={"items": [title("T1"), title("T2", reservable=False, reason="not_a_book")]},
    )
    assert run("fav", "add", "T1", "T2").exit_code == 0
    data = json.loads(run("fav", "list", "--json").stdout)
    assert [list(item) for item in data] == [list(views.FAV_LIST.fields)] * 2
    assert [(i["id"], i["reservable"], i["reason"]) for i in data] == [
        ("T1", True, None),
        ("T2", False, "not_a_book"),
    ]
    http.delete(API + "/favorites/T1", status=204)
    http.delete(API + "/favorites/T9", **problem("not_found", 404))
    result = run("fav", "remove", "T1", "T9")
    assert result.exit_code == ExitCode.NOT_FOUND
    assert "T9" in result.stderr


def test_fav_list_empty_exits_0(run, http, logged_in):
    http.get(API + "/favorites", json={"items": []})
    assert run("fav", "list").exit_code == 0


# -- reserve ---------------------------------------------------------------------------------


TITLES = {
    "T1": title("T1"),
    "T2": title("T2", reservable=False, reason="on_shelf"),
    "T3": title("T3", reservable=False, reason="reference_only"),
}


def _reserve_mocks(http, *title_ids: str, post: bool = True):
    """The titles the command asks about and, when it gets that far, the reservation of T1
    at nango by phone (every registered answer must be asked for)."""
    for title_id in title_ids:
        http.get(API + f"/catalog/titles/{title_id}", json=TITLES[title_id])
    if not post:
        return
    http.post(
        API + "/reservations",
        json={
            "reserved": [{"reservation_id": 11, "id": "T1", "title": "Title T1", "position": 2}],
            "skipped": [],
        },
        match=[
            matchers.json_params_matcher(
                {
                    "title_ids": ["T1"],
                    "pickup": "nango",
                    "contact": "phone",
                    "email_confirmation": False,
                }
            )
        ],
    )


def test_reserve_sends_only_the_titles_the_server_calls_reservable(run, http, logged_in):
    _reserve_mocks(http, "T1", "T2", "T3")
    result = run(
        "reserve",
        "T1",
        "T2",
        "T3",
        "--pickup",
        "南郷図書館",
        "--contact",
        "phone",
        "--yes",
        "--json",
    )
    assert result.exit_code == ExitCode.REFUSED
    data = json.loads(result.stdout)
    assert data["reserved"] == [
        {"reservation_id": 11, "id": "T1", "title": "Title T1", "position": 2}
    ]
    assert [(s["id"], s["reason"]) for s in data["skipped"]] == [
        ("T2", "on_shelf"),
        ("T3", "reference_only"),
    ]


def test_reserve_without_terminal_and_without_yes_is_a_usage_error(run, http, logged_in):
    _reserve_mocks(http, "T1", post=False)
    result = run("reserve", "T1", "--pickup", "nango", "--contact", "phone")
    assert result.exit_code == ExitCode.USAGE
    assert "--yes" in result.stderr
    assert not [c for c in http.calls if c.request.method == "POST"]


def test_reserve_asks_on_a_terminal_and_shows_the_choices(run, http, logged_in, tty):
    _reserve_mocks(http, "T1", "T2")
    result = run(
        "--lang",
        "ja",
        "reserve",
        "T1",
        "T2",
        "--pickup",
        "nango",
        "--contact",
        "phone",
        input="n\ny\n",  # no confirmation mail (R9: asked on a terminal), then reserve
    )
    assert result.exit_code == ExitCode.REFUSED
    assert "予約確認メールを送りますか？" in result.stderr
    assert "受取館: 南郷図書館" in result.stdout and "連絡方法: 電話" in result.stdout
    assert "1 件を予約しますか?" in result.stderr
    assert "予約中止" in result.stdout and "予約しました（予約順位 2）" in result.stdout


def test_reserve_declined_sends_nothing(run, http, logged_in, tty):
    _reserve_mocks(http, "T1", post=False)
    result = run("reserve", "T1", "--pickup", "nango", "--contact", "phone", input="n\nn\n")
    assert result.exit_code == 0
    assert not [c for c in http.calls if c.request.method == "POST"]


def test_reserve_with_every_title_refused_sends_nothing_and_exits_5(run, http, logged_in):
    _reserve_mocks(http, "T2", "T3", post=False)
    result = run("reserve", "T2", "T3", "--yes", "--json")
    assert result.exit_code == ExitCode.REFUSED
    assert json.loads(result.stdout)["reserved"] == []
    assert not [c for c in http.calls if c.request.method == "POST"]


def test_reserve_defaults_come_from_the_config(run, http, logged_in):
    _reserve_mocks(http, "T1")
    assert run("config", "set", "pickup", "nango").exit_code == 0
    assert run("config", "set", "contact", "phone").exit_code == 0
    assert run("reserve", "T1", "--yes").exit_code == 0


def test_reserve_without_pickup_anywhere_is_a_usage_error(run, http, logged_in):
    _reserve_mocks(http, "T1", post=False)
    result = run("reserve", "T1", "--yes", "--contact", "phone")
    assert result.exit_code == ExitCode.USAGE
    assert "--pickup" in result.stderr


def test_reserve_favorites_sends_the_reservable_favorites_and_lists_server_refusals(
    run, http, logged_in
):
    http.get(
        API + "/favorites",
        json={"items": [title("T1"), title("T4", reservable=False, reason="not_a_book")]},
    )
    http.post(
        API + "/reservations",
        json={
            "reserved": [],
            "skipped": [{"id": "T1", "title": "Title T1", "reason": "limit_reached"}],
        },
        match=[
            matchers.json_params_matcher(
                {
                    "title_ids": ["T1"],
                    "pickup": "main",
                    "contact": "none",
                    "email_confirmation": True,
                },
                strict_match=True,
            )
        ],
    )
    result = run(
        "reserve",
        "--favorites",
        "--pickup",
        "main",
        "--contact",
        "none",
        "--email-confirmation",
        "--yes",
        "--json",
    )
    assert result.exit_code == ExitCode.REFUSED
    reasons = {s["id"]: s["reason"] for s in json.loads(result.stdout)["skipped"]}
    assert reasons == {"T4": "not_a_book", "T1": "limit_reached"}


def test_email_required_answer_exits_5_with_the_fix(run, http, logged_in):
    http.get(API + "/catalog/titles/T1", json=title("T1"))
    http.post(API + "/reservations", **problem("email_required", 422))
    result = run("reserve", "T1", "--pickup", "main", "--contact", "email", "--yes")
    assert result.exit_code == ExitCode.REFUSED
    assert "libcli email set" in result.stderr


def test_reserve_with_nothing_is_a_usage_error(run, logged_in):
    assert run("reserve", "--yes").exit_code == ExitCode.USAGE


def test_reserve_rejects_unknown_point(run, logged_in):
    result = run("reserve", "T1", "--pickup", "tokyo", "--yes")
    assert result.exit_code == ExitCode.USAGE


# -- status and cancel ---------------------------------------------------------------------

STATUS = {
    "loans": [
        {
            "barcode": "B1",
            "id": "T9",
            "title": "貸出本",
            "point": "main",
            "checked_out_on": "2025-01-01",
            "due_date": "2025-01-15",
            "overdue": False,
            "renewals_left": 1,
        }
    ],
    "reservations": [
        {
            "reservation_id": 11,
            "id": "T1",
            "title": "待ち",
            "status": "waiting",
            "pickup": "nango",
            "contact": "phone",
            "via": "online",
            "position": 3,
            "placed_at": "2025-01-02T10:00:00+09:00",
            "ready_since": None,
            "pickup_deadline": None,
            "suspended_until": None,
        },
        {
            "reservation_id": 12,
            "id": "T2",
            "title": "受取",
            "status": "ready",
            "pickup": "main",
            "contact": "email",
            "via": "counter",
            "position": None,
            "placed_at": "2025-01-03T11:00:00+09:00",
            "ready_since": "2025-01-05",
            "pickup_deadline": "2025-01-16",
            "suspended_until": None,
        },
    ],
}


def test_status_json_has_the_keys_of_its_view(run, http, logged_in):
    http.get(API + "/status", json=STATUS)
    data = json.loads(run("status", "--json").stdout)
    assert list(data) == list(views.STATUS.parts)
    loans, reservations = views.STATUS.parts["loans"], views.STATUS.parts["reservations"]
    assert data["loans"] == [{k: loan[k] for k in loans.keys} for loan in STATUS["loans"]]
    assert data["reservations"] == [
        {k: r[k] for k in reservations.keys} for r in STATUS["reservations"]
    ]
    # what a patron needs and the server says: where a loan is from, how a reservation
    # was placed and when
    assert {"point", "checked_out_on"} <= set(loans.keys)
    assert {"pickup", "via", "placed_at"} <= set(reservations.keys)


def test_status_in_japanese_shows_queue_and_deadline(run, http, logged_in, tty):
    http.get(API + "/status", json=STATUS)
    out = run("--lang", "ja", "status").stdout
    assert "予約待ち（3 番目）" in out and "受取可（受取期限 2025-01-16）" in out
    assert "返却期限" in out and "2025-01-15" in out


def test_status_piped_rows_start_with_their_kind(run, http, logged_in):
    http.get(API + "/status", json=STATUS)
    kinds = [line.split("\t")[0] for line in run("status").stdout.splitlines()]
    assert kinds == ["loan", "reservation", "reservation"]


def test_ready_cannot_cancel_answer_exits_5_with_the_phone_number(run, http, logged_in):
    http.delete(API + "/reservations/11", status=204)
    http.delete(
        API + "/reservations/12", **problem("ready_cannot_cancel", 409, phone="0178-22-0266")
    )
    result = run("cancel", "11", "12", "--yes", "--json")
    assert result.exit_code == ExitCode.REFUSED
    assert json.loads(result.stdout) == {
        "cancelled": [11],
        "refused": [{"reservation_id": 12, "reason": "ready_cannot_cancel"}],
    }
    assert "0178-22-0266" in result.stderr


def test_cancel_refusal_without_a_phone_number_takes_it_from_the_library(run, http, logged_in):
    http.delete(API + "/reservations/12", **problem("ready_cannot_cancel", 409))
    http.get(API + "/library", json={"phone": "0178-22-0266"})
    result = run("--lang", "ja", "cancel", "12", "--yes")
    assert result.exit_code == ExitCode.REFUSED
    # the server's words (its pages' and mails'), then the number from /library
    assert "ready_cannot_cancel（日本語）図書館の電話番号: 0178-22-0266" in result.stdout


def test_cancel_unknown_reservation_exits_6(run, http, logged_in):
    http.delete(API + "/reservations/99", **problem("not_found", 404))
    assert run("cancel", "99", "--yes").exit_code == ExitCode.NOT_FOUND


def test_cancel_needs_confirmation_without_terminal(run, http, logged_in):
    result = run("cancel", "11")
    assert result.exit_code == ExitCode.USAGE
    assert len(http.calls) == 0


# -- account -------------------------------------------------------------------------------


def test_passwd_reads_current_then_new_from_stdin(run, http, logged_in):
    http.put(
        API + "/me/password",
        status=204,
        match=[
            matchers.json_params_matcher({"current_password": "old", "new_password": "new-pass-1"})
        ],
    )
    result = run("passwd", "--password-stdin", input="old\nnew-pass-1\n")
    assert result.exit_code == 0, result.stderr


def test_wrong_password_answer_to_passwd_exits_4(run, http, logged_in):
    http.put(API + "/me/password", **problem("wrong_password", 403))
    assert run("passwd", "--password-stdin", input="bad\nnew\n").exit_code == ExitCode.AUTH


def test_weak_password_answer_exits_5_and_shows_the_servers_rule(run, http, logged_in):
    http.put(API + "/me/password", **problem("weak_password", 422))
    result = run("passwd", "--password-stdin", input="old\n1\n")
    assert result.exit_code == ExitCode.REFUSED
    assert "weak_password (English)" in result.stderr  # the server's words state its rule


def test_passwd_forgot_sends_card_and_email(run, http, memory_keyring):
    http.post(
        API + "/password-reset",
        status=202,
        json={"status": "accepted"},
        match=[matchers.json_params_matcher({"card": CARD, "email": "a@example.jp"})],
    )
    result = run("passwd", "--forgot", "--card", CARD, "--email", "a@example.jp")
    assert result.exit_code == 0
    assert "--reset" in result.stdout


def test_passwd_reset_takes_the_token_from_the_mailed_url(run, http, logged_in):
    http.post(
        API + "/password-reset/confirm",
        status=204,
        match=[matchers.json_params_matcher({"token": "abc123", "new_password": "brand-new-9"})],
    )
    result = run(
        "passwd",
        "--reset",
        "https://lib.example/reset?token=abc123",
        "--password-stdin",
        input="brand-new-9\n",
    )
    assert result.exit_code == 0, result.stderr
    assert logged_in.store == {}  # every session ended; the dead token is dropped too


def test_invalid_token_answer_to_reset_exits_4(run, http, memory_keyring):
    http.post(API + "/password-reset/confirm", **problem("invalid_token", 400))
    result = run("passwd", "--reset", "abc", "--password-stdin", input="x-long-pass\n")
    assert result.exit_code == ExitCode.AUTH
    assert "--forgot" in result.stderr


def test_passwd_forgot_and_reset_conflict(run):
    assert run("passwd", "--forgot", "--reset", "x").exit_code == ExitCode.USAGE


def test_email_set_sends_the_current_password(run, http, logged_in):
    http.put(
        API + "/me/email",
        json={**ME, "email": "new@example.jp"},
        match=[matchers.json_params_matcher({"email": "new@example.jp", "current_password": "pw"})],
    )
    result = run("email", "set", "new@example.jp", "--password-stdin", input="pw\n")
    assert result.exit_code == 0, result.stderr
    assert "new@example.jp" in result.stdout


# -- config and global options -------------------------------------------------------------


def test_config_set_get_list_path(run, isolated):
    assert run("config", "set", "pickup", "図書情報センター").stdout.startswith("pickup = center")
    assert run("config", "get", "pickup").stdout.strip() == "center"
    listed = json.loads(run("config", "list", "--json").stdout)
    assert listed["pickup"] == {"value": "center", "source": "file:[default]"}
    assert listed["server"]["source"] == "default"
    assert run("config", "path").stdout.strip() == str(isolated / "config.toml")
    assert stat.S_IMODE(os.stat(isolated / "config.toml").st_mode) == 0o600


def test_config_flag_beats_env_beats_file(run):
    run("config", "set", "server", "https://file.example")
    listed = json.loads(
        run("config", "list", "--json", env={"LIBCLI_SERVER": "https://env.example"}).stdout
    )
    assert listed["server"] == {"value": "https://env.example", "source": "env:LIBCLI_SERVER"}
    listed = json.loads(run("--server", "https://flag.example", "config", "list", "--json").stdout)
    assert listed["server"] == {"value": "https://flag.example", "source": "flag"}


def test_config_profiles_are_separate(run):
    run("config", "set", "server", "https://lib.example")
    run("--profile", "hanako", "config", "set", "card", "987654321")
    assert (
        run("--profile", "hanako", "config", "get", "server").stdout.strip()
        == "https://lib.example"
    )
    assert run("config", "get", "card").exit_code == ExitCode.NOT_FOUND


def test_config_rejects_bad_values(run):
    result = run("config", "set", "contact", "pigeon")
    assert result.exit_code == ExitCode.USAGE
    assert "phone" in result.stderr
    assert run("config", "set", "colour", "red").exit_code == ExitCode.USAGE


def test_broken_config_file_is_one_line(run, isolated):
    isolated.mkdir(parents=True, exist_ok=True)
    (isolated / "config.toml").write_text("[default\n")
    result = run("config", "list")
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_plain_http_to_a_remote_server_is_refused_unless_insecure(run, http, memory_keyring):
    login = ("--server", "http://library.example", "login", CARD, "--password-stdin")
    result = run(*login, input="pw\n")
    assert result.exit_code == ExitCode.USAGE
    assert "card number and password" in result.stderr and "--insecure" in result.stderr
    http.post("http://library.example/api/v1/auth/login", json={"token": TOKEN, "patron": {}})
    http.get("http://library.example/api/v1/library", json={})
    assert run(login[0], login[1], "--insecure", *login[2:], input="pw\n").exit_code == 0


def test_plain_http_to_a_remote_server_is_fine_for_an_anonymous_search(run, http, memory_keyring):
    http.get("http://library.example/api/v1/catalog/search", json={"items": [], "total": 0})
    assert run("--server", "http://library.example", "search", "x").exit_code == 0


def test_unreachable_server_exits_3(run, memory_keyring):
    result = run("--server", "http://127.0.0.1:9", "search", "x")
    assert result.exit_code == ExitCode.UNREACHABLE
    assert "127.0.0.1:9" in result.stderr


def test_messages_follow_the_locale(run, memory_keyring):
    result = run("whoami", env={"LANG": "ja_JP.UTF-8"})
    assert "ログインしていません" in result.stderr
    result = run("--lang", "en", "whoami", env={"LANG": "ja_JP.UTF-8"})
    assert "not logged in" in result.stderr


def test_lang_from_the_config_file(run, memory_keyring):
    run("config", "set", "lang", "ja")
    assert "ログインしていません" in run("whoami").stderr


def test_unexpected_error_is_one_line_and_debug_shows_traceback(run, http, logged_in):
    http.get(API + "/status", body=RuntimeError("boom"))
    result = run("status")
    assert result.exit_code == ExitCode.UNEXPECTED
    assert "Traceback" not in result.stderr and "--debug" in result.stderr
    result = run("--debug", "status")
    assert "Traceback" in result.stderr


def test_version(run):
    result = run("--version")
    assert result.exit_code == 0 and result.stdout.startswith("libcli ")


@pytest.mark.parametrize("exc", [KeyboardInterrupt])
def test_interrupt_exits_130(run, http, logged_in, exc, monkeypatch):
    from libcli.client import LibraryClient

    def interrupted(self):
        raise exc()

    monkeypatch.setattr(LibraryClient, "status", interrupted)
    assert run("status").exit_code == ExitCode.INTERRUPTED


def test_login_on_a_terminal_prompts_for_card_and_hidden_password(run, http, memory_keyring, tty):
    http.post(
        API + "/auth/login",
        json={"token": TOKEN, "patron": {"name": "N"}},
        match=[matchers.json_params_matcher({"card": CARD, "password": "secret"})],
    )
    result = run("login", input=f"{CARD}\nsecret\n")
    assert result.exit_code == 0, result.stderr
    assert "secret" not in result.stdout + result.stderr


def test_reserve_on_a_terminal_asks_for_a_missing_pickup_point(run, http, logged_in, tty):
    _reserve_mocks(http, "T1")
    result = run("reserve", "T1", "--contact", "phone", input="南郷図書館\nn\ny\n")
    assert result.exit_code == 0, result.stderr


def test_ctrl_c_during_start_up_exits_130(monkeypatch):
    import builtins

    from libcli import __main__

    real_import = builtins.__import__

    def interrupted(name, *args, **kwargs):
        if name == "libcli.cli.main":
            raise KeyboardInterrupt
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", interrupted)
    with pytest.raises(SystemExit) as info:
        __main__.main()
    assert info.value.code == ExitCode.INTERRUPTED
