"""End to end: the installed `libcli` in a subprocess against a real `libcli-server`
(temporary SQLite, empty library), with a real file keyring backend, through R9–R19.

The `live_server` fixture (tests/conftest.py) serves the API and runs the staff console
(`libcli-server ...`) on the same database; `.mails()` reads the outbox.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

PHONE = "0178-22-0266"

TARO = "100000001"  # the patron whose flow we follow
HANAKO = "100000002"  # a second patron, for queues
LENDER = "100000009"  # borrows copies so that titles are on loan (reservable)
NOMAIL = "100000003"  # no email address (R19)
PASSWORD = "Kabu-Sennin-2468"
NEW_PASSWORD = "Same-Hashi-9753"

HEADER = "title_id,title,author,publisher,year,type,isbn,barcode,point,loanable"
CATALOGUE = [
    # on loan (to LENDER) -> reservable
    "B001,ノルウェイの森,村上春樹,講談社,1987,book,,C001,main,true",
    # reference only -> reference_only (R7)
    "B002,広辞苑,新村出,岩波書店,2018,book,,C002,main,false",
    # on the shelf -> on_shelf (R6)
    "B003,雪国,川端康成,新潮社,1947,book,,C003,nango,true",
    # a magazine -> not_a_book (R5)
    "M001,月刊たくさんのふしぎ,,福音館書店,2024,magazine,,C004,main,true",
    # two copies, one on the shelf -> on_shelf (R8)
    "B004,銀河鉄道の夜,宮沢賢治,岩波書店,1933,book,,C005,main,true",
    "B004,銀河鉄道の夜,宮沢賢治,岩波書店,1933,book,,C006,center,true",
] + [
    # twelve more titles on loan, for the limit of 10 (R3)
    f"L{n:03d},八戸の本 第{n}巻,八戸太郎,八戸出版,2020,book,,LC{n:03d},main,true"
    for n in range(1, 13)
]


def libcli_bin() -> str:
    here = Path(sys.executable).parent / "libcli"
    return str(here) if here.exists() else (shutil.which("libcli") or "libcli")


@dataclass
class Patron:
    """One person at one machine: their own config dir and file keyring."""

    server_url: str
    home: Path
    card: str

    def env(self, lang: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LIBCLI_", "LC_"))}
        env.update(
            LIBCLI_SERVER=self.server_url,
            LIBCLI_CONFIG_DIR=str(self.home / "config"),
            PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
            XDG_DATA_HOME=str(self.home / "data"),
            HOME=str(self.home),
            LANG=lang,
            NO_COLOR="1",
        )
        return env

    def run(self, *args: str, input: str | None = None, lang: str = "C", code: int | None = 0):
        done = subprocess.run(
            [libcli_bin(), *args],
            input=input,
            capture_output=True,
            text=True,
            env=self.env(lang),
            timeout=60,
        )
        assert "Traceback" not in done.stderr, done.stderr
        if code is not None:
            assert done.returncode == code, (
                f"libcli {' '.join(args)} exited {done.returncode}, wanted {code}\n"
                f"stdout: {done.stdout}\nstderr: {done.stderr}"
            )
        return done

    def json(self, *args: str, code: int = 0, input: str | None = None):
        return json.loads(self.run(*args, "--json", code=code, input=input).stdout)

    def login(self, password: str = PASSWORD, code: int = 0):
        return self.run("login", self.card, "--password-stdin", input=password + "\n", code=code)


def add_patron(server, card: str, name: str, email: str | None) -> None:
    args = ["patron", "add", card, "--name", name]
    if email:
        args += ["--email", email]
    server.console(*args)
    server.console("patron", "issue-password", card, "--password-stdin", input=PASSWORD + "\n")


def lend(server, *barcodes: str) -> None:
    """LENDER borrows these copies, so their titles are on loan (reservable online)."""
    week_ago = (server.today() - dt.timedelta(days=7)).isoformat()
    for barcode in barcodes:
        server.console("checkout", LENDER, barcode, "--date", week_ago)


@pytest.fixture
def library(live_server, tmp_path):
    """The empty library with a catalogue, Taro with a password, and three titles on loan.

    Each console call starts a process (about a second), so tests add only what they use.
    """
    csv = tmp_path / "catalogue.csv"
    csv.write_text("\n".join([HEADER, *CATALOGUE]) + "\n", encoding="utf-8")
    live_server.console("import-catalog", str(csv), "--format", "csv")
    add_patron(live_server, TARO, "八戸 太郎", "taro@example.jp")
    live_server.console("patron", "add", LENDER, "--name", "貸出 次郎")
    lend(live_server, "C001", "C005", "LC001")
    return live_server


@pytest.fixture
def taro(library, tmp_path) -> Patron:
    patron = Patron(library.url, tmp_path / "taro", TARO)
    patron.login()
    return patron


@pytest.fixture
def hanako(library, tmp_path) -> Patron:
    add_patron(library, HANAKO, "八戸 花子", "hanako@example.jp")
    patron = Patron(library.url, tmp_path / "hanako", HANAKO)
    patron.login()
    return patron


def reservation_of(patron: Patron, title_id: str) -> dict:
    (found,) = [r for r in patron.json("status")["reservations"] if r["id"] == title_id]
    return found


# -- R1: log in, who am I, log out ----------------------------------------------------------


def test_r1_login_keeps_the_token_in_the_keyring_and_logout_forgets_it(library, tmp_path):
    taro = Patron(library.url, tmp_path / "taro", TARO)
    done = taro.login()
    assert "八戸 太郎" in done.stdout
    me = taro.json("whoami")
    assert (me["card"], me["email"], me["token_source"]) == (TARO, "taro@example.jp", "keyring")
    keyring_files = list((tmp_path / "taro" / "data").rglob("*.cfg"))
    assert keyring_files, "the file keyring backend was not used"
    config = (tmp_path / "taro" / "config" / "config.toml").read_text()
    assert TARO in config and "token =" not in config
    taro.run("logout")
    assert taro.run("whoami", code=4).stderr.count("\n") == 1
    assert not taro.run("logout").stderr  # logging out twice is fine


def test_r1_wrong_password_is_refused_with_exit_4_in_the_servers_words(library, tmp_path):
    from libcli.server.errors import message

    taro = Patron(library.url, tmp_path / "taro", TARO)
    done = taro.login("not-the-password", code=4)
    assert "passwd --forgot" in done.stderr
    assert message("invalid_credentials", "en").rstrip(".") in done.stderr
    japanese = taro.run(
        "login", TARO, "--password-stdin", input="nope-nope\n", lang="ja_JP.UTF-8", code=4
    ).stderr
    assert message("invalid_credentials", "ja") in japanese  # as the pages and mails say it


# -- R5–R10: search, show, favorites, reserve ---------------------------------------------


def test_r9_search_and_show_give_each_titles_verdict(taro):
    (found,) = taro.json("search", "ノルウェイ")
    assert (found["id"], found["reservable"], found["reason"]) == ("B001", True, None)
    assert taro.json("search", "nothing-like-this-exists") == []
    shown = taro.json("show", "B004")
    assert (shown["reservable"], shown["reason"]) == (False, "on_shelf")
    states = {c["barcode"]: c["state"] for c in shown["copies"]}
    assert states == {"C005": "on_loan", "C006": "on_shelf"}
    out = taro.run("show", "B002", lang="ja_JP.UTF-8").stdout
    assert "禁帯出" in out
    assert taro.run("show", "NOPE", code=6).returncode == 6
    # piped: tab-separated rows, no headers; nothing found is still exit 0
    lines = taro.run("search", "八戸の本", "--limit", "3").stdout.splitlines()
    assert len(lines) == 3 and all(len(line.split("\t")) == 7 for line in lines)
    done = taro.run("status")
    assert done.stdout == "" and "No loans." in done.stderr


def test_r9_favorites_show_verdicts_and_reserve_drops_the_refused(taro, library):
    # without a terminal, reserve needs --yes (a script must never hang on a question)
    done = taro.run("reserve", "B001", "--pickup", "main", "--contact", "phone", code=2)
    assert "--yes" in done.stderr
    assert taro.json("status")["reservations"] == []
    taro.run("fav", "add", "B001", "B002", "B003", "M001", "B004")
    verdicts = {f["id"]: f["reason"] for f in taro.json("fav", "list")}
    assert verdicts == {
        "B001": None,
        "B002": "reference_only",  # R7
        "B003": "on_shelf",  # R6
        "M001": "not_a_book",  # R5
        "B004": "on_shelf",  # R8
    }
    result = taro.json(
        "reserve",
        "--favorites",
        "--pickup",
        "南郷図書館",
        "--contact",
        "phone",
        "--email-confirmation",
        "--yes",
        code=5,
    )
    assert [(r["id"], r["position"]) for r in result["reserved"]] == [("B001", 1)]
    assert {s["id"]: s["reason"] for s in result["skipped"]} == {
        "B002": "reference_only",
        "B003": "on_shelf",
        "M001": "not_a_book",
        "B004": "on_shelf",
    }
    # R10: reserved titles leave the favorites; a confirmation mail was sent
    assert "B001" not in {f["id"] for f in taro.json("fav", "list")}
    assert any(m["to"] == "taro@example.jp" for m in library.mails())
    # R21: no second reservation of the same title
    again = taro.json("reserve", "B001", "--pickup", "main", "--contact", "phone", "--yes", code=5)
    assert again["skipped"][0]["reason"] == "already_reserved"
    taro.run("fav", "remove", "B002")
    assert taro.run("fav", "remove", "B002", code=6).returncode == 6


def test_r3_limit_of_ten_counts_counter_reservations(taro, library):
    titles = [f"L{n:03d}" for n in range(1, 11)]
    lend(library, *(f"LC{n:03d}" for n in range(2, 11)))  # LC001 is lent already
    library.console("hold", "place", TARO, "M001", "--pickup", "main", "--contact", "phone")
    result = taro.json("reserve", *titles, "--pickup", "main", "--contact", "none", "--yes", code=5)
    assert len(result["reserved"]) == 9
    assert [(s["id"], s["reason"]) for s in result["skipped"]] == [("L010", "limit_reached")]
    assert len(taro.json("status")["reservations"]) == 10
    # a refused title shows its reason in the patron's language too
    done = taro.run(
        "reserve",
        "B001",
        "--pickup",
        "main",
        "--contact",
        "none",
        "--yes",
        lang="ja_JP.UTF-8",
        code=5,
    )
    assert "予約できる冊数の上限" in done.stdout  # the server's words (R3)


def test_r13_r19_email_contact_needs_a_registered_address(library, tmp_path):
    add_patron(library, NOMAIL, "連絡 なし", None)
    nomail = Patron(library.url, tmp_path / "nomail", NOMAIL)
    nomail.login()
    done = nomail.run("reserve", "B001", "--pickup", "main", "--contact", "email", "--yes", code=5)
    assert "libcli email set" in done.stderr
    assert nomail.json("status")["reservations"] == []


# -- R11, R22, R12, R14: status, the queue, ready, cancel, expiry -------------------------


def test_r22_status_shows_queue_positions_and_a_returned_copy_goes_to_the_first(
    taro, hanako, library
):
    taro.json("reserve", "B001", "--pickup", "nango", "--contact", "phone", "--yes")
    hanako.json("reserve", "B001", "--pickup", "main", "--contact", "none", "--yes")
    assert (reservation_of(taro, "B001")["status"], reservation_of(taro, "B001")["position"]) == (
        "waiting",
        1,
    )
    assert reservation_of(hanako, "B001")["position"] == 2
    assert "予約待ち（2 番目）" in hanako.run("status", lang="ja_JP.UTF-8").stdout

    library.console("checkin", "C001", "--at", "main", "--date", library.today().isoformat())
    assert reservation_of(taro, "B001")["status"] == "in_transit"
    library.console("checkin", "C001", "--at", "nango", "--date", library.today().isoformat())
    ready = reservation_of(taro, "B001")
    assert ready["status"] == "ready" and ready["pickup"] == "nango"
    assert "受取可" in taro.run("status", lang="ja_JP.UTF-8").stdout
    assert reservation_of(hanako, "B001")["status"] == "waiting"


def test_r12_ready_reservation_cannot_be_cancelled_online(taro, library):
    reserved = taro.json(
        "reserve", "B001", "L001", "--pickup", "main", "--contact", "none", "--yes"
    )
    ids = {r["id"]: r["reservation_id"] for r in reserved["reserved"]}
    library.console("checkin", "C001", "--at", "main", "--date", library.today().isoformat())
    assert reservation_of(taro, "B001")["status"] == "ready"

    done = taro.run("cancel", str(ids["B001"]), "--yes", code=5)
    assert PHONE in done.stdout
    result = taro.json("cancel", str(ids["B001"]), "--yes", code=5)
    assert result == {
        "cancelled": [],
        "refused": [{"reservation_id": ids["B001"], "reason": "ready_cannot_cancel"}],
    }
    ja = taro.run("cancel", str(ids["B001"]), "--yes", lang="ja_JP.UTF-8", code=5)
    assert "インターネットから取り消せません" in ja.stdout and PHONE in ja.stdout
    # a waiting reservation is cancelled online
    assert taro.json("cancel", str(ids["L001"]), "--yes") == {
        "cancelled": [ids["L001"]],
        "refused": [],
    }
    again = taro.run("cancel", str(ids["L001"]), "--yes")  # issue 17: said, not "not found"
    assert f"Reservation {ids['L001']} was already cancelled." in again.stdout


def test_r14_uncollected_hold_is_cancelled_on_the_11th_day(taro, hanako, library):
    taro.json("reserve", "B001", "--pickup", "main", "--contact", "phone", "--yes")
    hanako.json("reserve", "B001", "--pickup", "main", "--contact", "none", "--yes")
    library.console("checkin", "C001", "--at", "main", "--date", library.today().isoformat())
    held = reservation_of(taro, "B001")
    assert held["status"] == "ready"
    contact_day = library.today() + dt.timedelta(days=1)
    library.console("contacted", str(held["reservation_id"]), "--date", contact_day.isoformat())
    deadline = contact_day + dt.timedelta(days=10)  # no closed days in this library
    assert reservation_of(taro, "B001")["pickup_deadline"] == deadline.isoformat()

    library.console("run-daily", "--date", deadline.isoformat())
    assert reservation_of(taro, "B001")["status"] == "ready"  # the 10th day: still kept
    library.console("run-daily", "--date", (deadline + dt.timedelta(days=1)).isoformat())
    assert "B001" not in {r["id"] for r in taro.json("status")["reservations"]}
    # R22: the copy goes on to the next in the queue
    assert reservation_of(hanako, "B001")["status"] == "ready"


# -- R15, R16, R17: email and password -----------------------------------------------------


def test_r15_email_change_sends_the_completion_mail(taro, library):
    taro.run("email", "set", "new-taro@example.jp", "--password-stdin", input=PASSWORD + "\n")
    assert taro.json("whoami")["email"] == "new-taro@example.jp"
    subjects = [m["subject"] for m in library.mails() if m["to"] == "new-taro@example.jp"]
    assert any("メールアドレス変更完了のお知らせ" in s for s in subjects)
    done = taro.run(
        "email", "set", "x@example.jp", "--password-stdin", input="wrong-pass\n", code=4
    )
    assert "current password" in done.stderr


def test_r16_password_change(taro, library, tmp_path):
    taro.run("passwd", "--password-stdin", input=f"{PASSWORD}\n{NEW_PASSWORD}\n")
    other = Patron(library.url, tmp_path / "other-machine", TARO)
    other.login(PASSWORD, code=4)
    other.login(NEW_PASSWORD)
    taro.json("whoami")  # this session goes on
    taro.run("passwd", "--password-stdin", input="wrong-pass\nWhatever-1234\n", code=4)
    taro.run("passwd", "--password-stdin", input=f"{NEW_PASSWORD}\n1\n", code=5)  # weak


def delivered_bodies(server, kind: str, timeout: float = 20) -> list[str]:
    """Bodies of the mails of `kind` that serve's deliverer wrote to the outbox folder."""
    import email
    from email import policy

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = sorted(server.outbox.glob(f"*-{kind}.eml"))
        if files:
            return [
                email.message_from_bytes(f.read_bytes(), policy=policy.default).get_content()
                for f in files
            ]
        time.sleep(0.1)
    raise AssertionError(f"no {kind} mail delivered: {server.mails()}")


def test_r17_forgotten_password_is_reset_from_the_mailed_url(library, tmp_path):
    taro = Patron(library.url, tmp_path / "taro", TARO)
    taro.run("passwd", "--forgot", "--card", TARO, "--email", "taro@example.jp")
    # the same answer when card and address do not match (R17)
    taro.run("passwd", "--forgot", "--card", TARO, "--email", "someone@example.jp")
    bodies = delivered_bodies(library, "password_reset")  # a sent link leaves `mail list`
    urls = sorted({u for b in bodies for u in re.findall(r"\S+/reset\?token=[\w\-.~%]+", b)})
    assert len(urls) == 1, bodies
    assert not [m for m in library.mails() if m["to"] == "someone@example.jp"]

    taro.run("passwd", "--reset", urls[0], "--password-stdin", input=NEW_PASSWORD + "\n")
    taro.login(PASSWORD, code=4)
    taro.login(NEW_PASSWORD)
    done = taro.run(
        "passwd", "--reset", urls[0], "--password-stdin", input="Other-Pass-8642\n", code=4
    )
    assert "--forgot" in done.stderr  # single use
