"""Issue 17: every mistake a patron makes gets the message that fixes it.

The installed `libcli` in a subprocess against a real `libcli-server serve` (one module-wide
server on SQLite, `library`), or a fault server from tests/security/test_cli.py for the
transport cases. Each test is a mistake people actually make and the line they get.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import pty
import select
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import bin_path, free_port, make_database, start_live_server
from tests.security.test_cli import (
    RETRIES,
    SLOW,
    TITLE,
    FakeServer,
    clean_env,
    healthy,
    keyring_file,
    libcli,
    one_line_error,
    reply,
    seed_home,
)
from tests.security.test_cli import TOKEN as SEEDED_TOKEN

pytestmark = pytest.mark.e2e

TARO = "100000001"
LENDER = "100000009"
PASSWORD = "Kabu-Sennin-2468"
HEADER = "title_id,title,author,publisher,year,type,isbn,barcode,point,loanable"
#: twelve titles on loan, for the limit of 10 (R3)
CATALOGUE = [
    f"L{n:03d},八戸の本 第{n}巻,八戸太郎,八戸出版,2020,book,,LC{n:03d},main,true"
    for n in range(1, 13)
]


@pytest.fixture(scope="module")
def library(tmp_path_factory, module_clock):
    """A real server: twelve titles on loan to the lender; Taro has a password and a mail."""
    tmp = tmp_path_factory.mktemp("mistakes")
    url, cleanup = make_database("sqlite", tmp)
    server = start_live_server(url, tmp, module_clock)
    try:
        catalogue = tmp / "catalogue.csv"
        catalogue.write_text("\n".join([HEADER, *CATALOGUE]) + "\n", encoding="utf-8")
        server.console("import-catalog", str(catalogue), "--format", "csv")
        server.console("patron", "add", TARO, "--name", "八戸 太郎", "--email", "taro@example.jp")
        server.console("patron", "issue-password", TARO, "--password-stdin", input=PASSWORD + "\n")
        server.console("patron", "add", LENDER, "--name", "貸出 次郎")
        week_ago = (server.today() - dt.timedelta(days=7)).isoformat()
        for n in range(1, 13):
            server.console("checkout", LENDER, f"LC{n:03d}", "--date", week_ago)
        yield server
    finally:
        server.stop()
        cleanup()


@pytest.fixture
def fake_server():
    """Start FakeServers (tests/security/test_cli.py) that stop with the test."""
    servers: list[FakeServer] = []

    def start(behaviour, **kw) -> FakeServer:
        servers.append(FakeServer(behaviour, **kw))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def token_of(library) -> str:
    answer = requests.post(
        f"{library.url}/api/v1/auth/login", json={"card": TARO, "password": PASSWORD}, timeout=30
    )
    answer.raise_for_status()
    return answer.json()["token"]


def patron_env(home: Path, library, **extra: str) -> dict[str, str]:
    return clean_env(home, library.url, **extra)


# -- 1. check before asking ----------------------------------------------------------------


@pytest.mark.parametrize("card", ["12345", "1234567890", "abcdefghi"])
def test_login_with_a_card_that_is_not_nine_digits_says_so_before_the_password(
    card, library, tmp_path
):
    done = libcli("login", card, "--password-stdin", env=patron_env(tmp_path, library), input="")
    assert done.returncode == 2, done.stderr
    line = one_line_error(done)
    assert "9 digits" in line, line
    assert "Nothing was read" not in line  # the card was refused before the password was read


@pytest.mark.parametrize(
    "card", ["１０００００００１", "100 000 001", "100-000-001", "１００ー０００ー００１"]
)
def test_login_normalises_full_width_digits_spaces_and_hyphens(card, library, tmp_path):
    done = libcli(
        "login", card, "--password-stdin", env=patron_env(tmp_path, library), input=PASSWORD + "\n"
    )
    assert done.returncode == 0, done.stderr
    assert f"card {TARO}" in done.stdout


@pytest.mark.parametrize("query", ["", "   ", "\u3000"])
def test_search_for_nothing_is_refused_before_a_request(query, tmp_path):
    # No server listens at this address: the check must come first.
    done = libcli("search", query, env=clean_env(tmp_path, "http://127.0.0.1:9"))
    assert done.returncode == 2, done.stderr
    assert "Give words to search for" in one_line_error(done)


def test_cancel_of_a_reservation_number_that_is_not_one_is_refused_locally(tmp_path):
    env = clean_env(tmp_path, "http://127.0.0.1:9", LIBCLI_TOKEN="some-token")
    done = libcli("cancel", "abc", "--yes", env=env)
    assert done.returncode == 2, done.stderr
    assert "'abc' is not a reservation number" in done.stderr
    assert "Traceback" not in done.stderr


# -- 2. the server's reason ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("C.UTF-8", "search words must have at most 200 characters."), ("ja_JP.UTF-8", "検索語")],
)
def test_a_422_shows_the_field_and_the_servers_words_in_the_patrons_language(
    lang, expected, library, tmp_path
):
    env = patron_env(tmp_path, library, LANG=lang)
    done = libcli("search", "猫" * 201, env=env)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr
    assert expected in done.stderr, done.stderr
    assert "not valid" not in done.stderr


def test_email_set_with_no_address_shows_which_field_was_wrong(library, tmp_path):
    env = patron_env(tmp_path, library, LIBCLI_TOKEN=token_of(library))
    done = libcli(
        "email", "set", "not-an-email", "--password-stdin", env=env, input=PASSWORD + "\n"
    )
    assert done.returncode == 2, done.stderr
    assert "email address is not an email address." in one_line_error(done)


# -- 3. libcli token -----------------------------------------------------------------------


def test_token_prints_the_profiles_token_and_it_works_as_libcli_token(library, tmp_path):
    home = tmp_path / "home"
    env = patron_env(home, library)
    login = libcli("login", TARO, "--password-stdin", env=env, input=PASSWORD + "\n")
    assert login.returncode == 0, login.stderr
    done = libcli("token", env=env)
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert len(done.stdout.splitlines()) == 1 and len(token) > 20
    stored = (home / "data" / "python_keyring" / "keyring_pass.cfg").read_bytes()
    assert base64.b64encode(token.encode()) in stored  # the keyring's token, not a new one
    cron = patron_env(tmp_path / "cron", library, LIBCLI_TOKEN=token)
    status = libcli("status", "--json", env=cron)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout) == {"loans": [], "reservations": []}


def test_token_when_logged_out_exits_4(library, tmp_path):
    done = libcli("token", env=patron_env(tmp_path, library))
    assert done.returncode == 4
    assert "libcli login" in one_line_error(done)
    assert done.stdout == ""


def test_login_without_a_keyring_names_the_three_ways_out(library, tmp_path):
    env = patron_env(tmp_path, library, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    done = libcli("login", TARO, "--password-stdin", env=env, input=PASSWORD + "\n")
    assert done.returncode == 4
    line = one_line_error(done)
    for way in ("keyring", "LIBCLI_TOKEN", "libcli token", "--insecure-storage"):
        assert way in line, line
    assert "keyring.backends" not in line and "Keyring" not in line.split("(")[0], line


# -- 5. logout offline ---------------------------------------------------------------------


def test_logout_with_the_server_down_forgets_the_token_and_warns(tmp_path):
    down = f"http://127.0.0.1:{free_port()}"  # nobody listens there
    home = tmp_path / "home"
    seed_home(home, down)
    env = clean_env(home, down, LIBCLI_TIMEOUT="2")
    done = libcli("logout", env=env)
    assert done.returncode == 0, done.stderr
    assert "Logged out." in done.stdout
    assert "session there was not ended" in done.stderr
    assert SEEDED_TOKEN.encode() not in keyring_file(home).read_bytes()
    after = libcli("token", env=env)
    assert after.returncode == 4, after.stdout


def test_logout_with_libcli_token_and_the_server_down_keeps_exit_3(tmp_path):
    down = f"http://127.0.0.1:{free_port()}"
    done = libcli("logout", env=clean_env(tmp_path, down, LIBCLI_TOKEN="a-token-from-cron"))
    assert done.returncode == 3
    assert down in one_line_error(done)


# -- 6. accurate errors --------------------------------------------------------------------


def many_titles(h) -> None:
    """A search answered with 100 titles; everything else as a healthy server."""
    if h.path.split("?")[0].endswith("/catalog/search"):
        items = [{**TITLE, "id": f"B{n:03d}", "title": f"猫の本 第{n}巻"} for n in range(100)]
        reply(h, 200, {"items": items, "total": 100})
    else:
        healthy(h)


def test_https_spoken_to_a_plain_http_server_says_so(fake_server, tmp_path):
    server = fake_server(healthy)
    url = server.url.replace("http://", "https://")
    done = libcli("search", "x", env=clean_env(tmp_path, url))
    assert done.returncode == 3
    line = one_line_error(done)
    assert "does not speak https" in line and "certificate" not in line, line


UNROUTED = "http://192.0.2.1:9"  # TEST-NET-1: plain http to a machine that is not this one


def test_plain_http_refusal_names_what_the_request_would_carry(tmp_path):
    login = libcli(
        "login", TARO, "--password-stdin", env=clean_env(tmp_path, UNROUTED), input=PASSWORD
    )
    assert login.returncode == 2
    assert "Refusing to send your card number and password" in one_line_error(login)
    status = libcli("status", env=clean_env(tmp_path, UNROUTED, LIBCLI_TOKEN="a-token"))
    assert status.returncode == 2
    assert "Refusing to send your session token" in one_line_error(status)


def test_plain_http_is_not_refused_for_an_anonymous_search(tmp_path):
    done = libcli("search", "x", env=clean_env(tmp_path, UNROUTED, LIBCLI_TIMEOUT="1"))
    assert done.returncode == 3, done.stderr  # it went out (nobody answers there)
    assert "Refusing" not in one_line_error(done)


@pytest.mark.parametrize("attempt", range(5))
def test_a_closed_pipe_ends_quietly_with_exit_0(attempt, fake_server, tmp_path):
    server = fake_server(many_titles)
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before libcli writes: EPIPE on every run
    try:
        done = subprocess.run(
            [bin_path("libcli"), "search", "の", "--limit", "100"],
            stdin=subprocess.DEVNULL,
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=clean_env(tmp_path, server.url),
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""


def test_head_after_libcli_keeps_pipefail_scripts_working(fake_server, tmp_path):
    server = fake_server(many_titles)
    script = (
        "set -o pipefail; for i in 1 2 3 4 5 6; do"
        " libcli search の --limit 100 | head -1 || exit $?; done"
    )
    env = clean_env(tmp_path, server.url)
    env["PATH"] = os.pathsep.join([os.path.dirname(bin_path("libcli")), env["PATH"]])
    done = subprocess.run(["bash", "-c", script], capture_output=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    assert len(done.stdout.splitlines()) == 6


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
def test_a_full_disk_is_one_line_naming_the_output(fake_server, tmp_path):
    server = fake_server(many_titles)
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [bin_path("libcli"), "search", "猫"],
            stdin=subprocess.DEVNULL,
            stdout=full,
            stderr=subprocess.PIPE,
            env=clean_env(tmp_path, server.url),
            timeout=60,
        )
    assert done.returncode == 1
    err = done.stderr.decode()
    assert err.splitlines() == [
        "Error: Cannot write the output to /dev/full: No space left on device."
    ], err


# -- 4. time bounds ------------------------------------------------------------------------


def slow(h) -> None:
    time.sleep(SLOW)
    healthy(h)


def test_libcli_timeout_bounds_the_whole_wait_retries_included(fake_server, tmp_path):
    server = fake_server(slow)
    started = time.monotonic()
    done = libcli("search", "x", env=clean_env(tmp_path, server.url, LIBCLI_TIMEOUT="1.5"))
    elapsed = time.monotonic() - started
    assert done.returncode == 3
    assert "did not answer in time" in one_line_error(done)  # and no notice: not a terminal
    assert server.count("GET") == 1, "a GET was tried again after LIBCLI_TIMEOUT was spent"
    assert elapsed < 1.5 * (1 + RETRIES), "the retries waited beyond LIBCLI_TIMEOUT"


def test_a_terminal_is_told_that_the_server_is_slow(fake_server, tmp_path):
    server = fake_server(slow)
    master, slave = pty.openpty()
    env = clean_env(tmp_path, server.url, LIBCLI_TIMEOUT="3")
    proc = subprocess.Popen(
        [bin_path("libcli"), "search", "x"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    proc.wait(60)
    shown = b""
    while select.select([master], [], [], 0.2)[0]:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    proc.stdout.close()
    assert proc.returncode == 3
    text = shown.decode()
    assert "still waiting for the library's server…" in text, text
    assert "did not answer in time" in text, text


# -- 7. one vocabulary ---------------------------------------------------------------------


def logged_in(library, home: Path, **extra: str) -> dict[str, str]:
    env = patron_env(home, library, **extra)
    done = libcli("login", TARO, "--password-stdin", env=env, input=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    return env


@pytest.mark.parametrize(
    ("key", "typed", "stored"),
    [
        ("pickup", "南郷", "nango"),
        ("pickup", "南郷図書館", "nango"),
        ("pickup", "Nango", "nango"),
        ("pickup", "ＮＡＮＧＯ", "nango"),
        ("contact", "メール", "email"),
        ("contact", "電話", "phone"),
        ("contact", "email", "email"),
        ("contact", "留守電", "voicemail"),
    ],
)
def test_config_set_takes_codes_japanese_names_and_short_forms(
    key, typed, stored, library, tmp_path
):
    env = logged_in(library, tmp_path)  # login keeps the library's names, short forms too
    done = libcli("config", "set", key, typed, env=env)
    assert done.returncode == 0, done.stderr
    assert libcli("config", "get", key, env=env).stdout.strip() == stored


def test_the_short_forms_come_from_the_library_profile(library):
    info = requests.get(f"{library.url}/api/v1/library", timeout=30).json()
    nango = next(p for p in info["points"] if p["code"] == "nango")
    assert "南郷" in nango["short_names"]


def test_reserve_options_take_the_same_words_as_config_set(library, tmp_path):
    env = logged_in(library, tmp_path)
    done = libcli(
        "reserve", "L012", "--pickup", "南郷", "--contact", "電話", "--yes", "--json", env=env
    )
    assert done.returncode == 0, done.stderr
    (reserved,) = json.loads(done.stdout)["reserved"]
    status = json.loads(libcli("status", "--json", env=env).stdout)
    (mine,) = [
        r for r in status["reservations"] if r["reservation_id"] == reserved["reservation_id"]
    ]
    assert (mine["pickup"], mine["contact"]) == ("nango", "phone")
    first = libcli("cancel", str(reserved["reservation_id"]), "--yes", env=env)
    assert first.returncode == 0, first.stderr


# -- 8. small ones -------------------------------------------------------------------------


def test_a_mistyped_command_gets_did_you_mean(tmp_path):
    done = libcli("serch", "猫", env=clean_env(tmp_path, "http://127.0.0.1:9"))
    assert done.returncode == 2
    assert "Did you mean 'search'?" in done.stderr, done.stderr


def test_the_weak_password_message_states_the_rule(library, tmp_path):
    env = patron_env(tmp_path, library, LIBCLI_TOKEN=token_of(library))
    done = libcli("passwd", "--password-stdin", env=env, input=f"{PASSWORD}\nshort\n")
    assert done.returncode == 5, done.stderr
    assert "at least 8 characters" in one_line_error(done)


def test_passwd_forgot_uses_the_profiles_card(library, tmp_path):
    env = logged_in(library, tmp_path)
    done = libcli("passwd", "--forgot", "--email", "taro@example.jp", env=env)
    assert done.returncode == 0, done.stderr
    assert "a mail with a link was sent to taro@example.jp" in done.stdout
    without_email = libcli("passwd", "--forgot", env=env)
    assert without_email.returncode == 2
    assert "--email ADDR" in one_line_error(without_email)
    assert "--card" not in one_line_error(without_email)


def test_adding_a_favorite_twice_says_it_is_already_there(library, tmp_path):
    env = patron_env(tmp_path, library, LIBCLI_TOKEN=token_of(library))
    first = libcli("fav", "add", "L001", env=env)
    second = libcli("fav", "add", "L001", env=env)
    assert (first.returncode, second.returncode) == (0, 0), second.stderr
    assert first.stdout.strip() == "Added to favorites: L001"
    assert second.stdout.strip() == "Already in favorites: L001"
    libcli("fav", "remove", "L001", env=env)


def test_cancelling_a_cancelled_reservation_says_so_and_exits_0(library, tmp_path):
    env = patron_env(tmp_path, library, LIBCLI_TOKEN=token_of(library))
    done = libcli(
        "reserve", "L011", "--pickup", "main", "--contact", "phone", "--yes", "--json", env=env
    )
    assert done.returncode == 0, done.stderr
    rid = str(json.loads(done.stdout)["reserved"][0]["reservation_id"])
    assert libcli("cancel", rid, "--yes", env=env).returncode == 0
    again = libcli("cancel", rid, "--yes", env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == f"Reservation {rid} was already cancelled."
    unknown = libcli("cancel", "999999", "--yes", env=env)
    assert unknown.returncode == 6  # not the patron's at all: still "not found"


def on_a_terminal(args: list[str], env: dict[str, str], answers: str) -> tuple[int, str]:
    """`libcli ARGS` with stdin, stdout and stderr on one pseudo-terminal, `answers` typed."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [bin_path("libcli"), *args], stdin=slave, stdout=slave, stderr=slave, env=env
    )
    os.close(slave)
    shown, typed = b"", False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready = select.select([master], [], [], 0.2)[0]
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
            if not typed and b"?" in shown:
                os.write(master, answers.encode())
                typed = True
        elif proc.poll() is not None:
            break
    code = proc.wait(10)
    os.close(master)
    return code, shown.decode("utf-8", "replace")


def test_interactive_reserve_asks_whether_to_send_a_confirmation_mail(library, tmp_path):
    env = logged_in(library, tmp_path)
    code, shown = on_a_terminal(
        ["reserve", "L010", "--pickup", "main", "--contact", "phone"], env, "y\ny\n"
    )
    assert code == 0, shown
    assert "Send a confirmation mail?" in shown, shown
    assert "Confirmation mail: yes" in shown, shown
    status = json.loads(libcli("status", "--json", env=env).stdout)
    (mine,) = [r for r in status["reservations"] if r["id"] == "L010"]
    assert libcli("cancel", str(mine["reservation_id"]), "--yes", env=env).returncode == 0


def test_the_preview_applies_the_reservation_limit_before_asking(library, tmp_path):
    """R3: twelve titles, a limit of 10: two are marked before the question, not after."""
    env = patron_env(tmp_path, library, LIBCLI_TOKEN=token_of(library))
    titles = [f"L{n:03d}" for n in range(1, 13)]
    done = libcli("reserve", *titles, "--pickup", "main", "--contact", "phone", env=env)
    assert done.returncode == 2  # no terminal, no --yes: nothing reserved
    assert "--yes" in one_line_error(done, after_preview=True)
    assert done.stderr.count("You have reached the reservation limit.") == 2, done.stderr
    assert "Reserve 10 title(s)?" not in done.stderr
    status = json.loads(libcli("status", "--json", env=env).stdout)
    assert status["reservations"] == []


def test_the_cache_lives_under_xdg_cache_home_and_the_old_one_is_moved_once(library, tmp_path):
    home = tmp_path / "home"
    old = home / "config" / "cache" / "default.json"
    old.parent.mkdir(parents=True)
    old.write_text(json.dumps({"titles": [{"id": "L005", "title": "八戸の本 第5巻"}]}))
    env = patron_env(home, library, XDG_CACHE_HOME=str(home / "xdg-cache"))
    done = libcli("search", "八戸の本", "--limit", "2", env=env)
    assert done.returncode == 0, done.stderr
    new = home / "xdg-cache" / "libcli" / "default.json"
    titles = [t["id"] for t in json.loads(new.read_text())["titles"]]
    assert "L005" in titles, titles  # what the old cache held was carried over
    assert not old.exists()
    assert oct(new.stat().st_mode & 0o777) == "0o600"
