"""End to end, between visits: `libcli news` (told once, per profile, from cron), a
family's cards (`--all-profiles`) and `reserve --favorites --fill`. The installed
`libcli` in a subprocess against a real `libcli-server` (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tests.e2e.test_cli_flow import (
    CATALOGUE,
    HANAKO,
    HEADER,
    LENDER,
    PASSWORD,
    TARO,
    Patron,
    add_patron,
    lend,
)

pytestmark = pytest.mark.e2e


class Household(Patron):
    """One machine of a family: its cache in XDG_CACHE_HOME, as on a desktop."""

    def env(self, lang: str) -> dict[str, str]:
        return {**super().env(lang), "XDG_CACHE_HOME": str(self.home / "cache")}


@pytest.fixture
def library(live_server_any, tmp_path):
    server = live_server_any
    csv = tmp_path / "catalogue.csv"
    csv.write_text("\n".join([HEADER, *CATALOGUE]) + "\n", encoding="utf-8")
    server.console("import-catalog", str(csv), "--format", "csv")
    add_patron(server, TARO, "八戸 太郎", "taro@example.jp")
    server.console("patron", "add", LENDER, "--name", "貸出 次郎")
    lend(server, "C001")
    return server


@pytest.fixture
def home(library, tmp_path) -> Household:
    taro = Household(library.url, tmp_path / "home", TARO)
    taro.login()
    return taro


def borrow(server, card: str, barcode: str, days_ago: int) -> None:
    day = server.today() - dt.timedelta(days=days_ago)
    server.console("checkout", card, barcode, "--date", day.isoformat())


def test_news_tells_ready_due_overdue_and_expired_holds_once(home, library):
    borrow(library, TARO, "LC001", 13)  # due tomorrow (14 loan days)
    borrow(library, TARO, "LC002", 20)  # overdue
    borrow(library, TARO, "LC003", 0)  # due in two weeks: no news yet
    due = {loan["barcode"]: loan["due_date"] for loan in home.json("status")["loans"]}
    assert home.run("news").stdout.count("\n") == 2  # the two loans
    home.json("reserve", "B001", "--pickup", "nango", "--contact", "none", "--yes")
    library.console("checkin", "C001", "--at", "nango", "--date", library.today().isoformat())
    (ready,) = home.json("status")["reservations"]

    events = home.json("news")
    assert [(e["kind"], e["title"], e["date"]) for e in events] == [
        ("hold_ready", "ノルウェイの森", ready["pickup_deadline"]),
    ]
    assert (events[0]["pickup"], events[0]["reservation_id"]) == ("nango", ready["reservation_id"])
    assert (events[0]["profile"], events[0]["card"]) == ("default", TARO)
    # told once: nothing new prints nothing and exits 0 (cron mails nothing)
    quiet = home.run("news")
    assert (quiet.stdout, quiet.stderr) == ("", "")
    assert home.json("news") == []
    told = home.home / "cache" / "libcli" / "default.news.json"
    assert told.stat().st_mode & 0o777 == 0o600

    # a wider window finds the loan due in two weeks; in Japanese, with the point's name
    wider = home.run("news", "--due-within", "20", lang="ja_JP.UTF-8").stdout
    assert wider.count("\n") == 1 and due["LC003"] in wider and "LC003" in wider

    # R14: not collected, cancelled on the 11th day, told on that day's news
    expiry = dt.date.fromisoformat(ready["pickup_deadline"]) + dt.timedelta(days=1)
    library.console("run-daily", "--date", expiry.isoformat())
    (expired,) = home.json("news")
    assert (expired["kind"], expired["date"], expired["reservation_id"]) == (
        "hold_expired",
        expiry.isoformat(),
        ready["reservation_id"],
    )
    assert home.run("news").stdout == ""


def test_news_text_names_the_point_the_deadline_and_the_due_dates(home, library):
    borrow(library, TARO, "LC001", 13)
    borrow(library, TARO, "LC002", 20)
    home.json("reserve", "B001", "--pickup", "nango", "--contact", "none", "--yes")
    library.console("checkin", "C001", "--at", "nango", "--date", library.today().isoformat())
    status = home.json("status")
    (ready,) = status["reservations"]
    due = {loan["barcode"]: loan["due_date"] for loan in status["loans"]}
    lines = home.run("news", lang="ja_JP.UTF-8").stdout.splitlines()
    assert len(lines) == 3, lines
    text = "\n".join(lines)
    assert "南郷図書館" in text and ready["pickup_deadline"] in text
    assert due["LC001"] in text and due["LC002"] in text
    assert "受取可" in text and "延滞" in text


def test_family_status_and_news_show_every_card(home, library):
    add_patron(library, HANAKO, "八戸 花子", "hanako@example.jp")
    home.run("--profile", "hanako", "login", HANAKO, "--password-stdin", input=PASSWORD + "\n")
    borrow(library, HANAKO, "LC004", 13)
    lend(library, "LC001")
    home.json("reserve", "L001", "--pickup", "main", "--contact", "none", "--yes")

    family = home.json("status", "--all-profiles")
    assert [(c["profile"], c["card"]) for c in family] == [("default", TARO), ("hanako", HANAKO)]
    assert [r["id"] for r in family[0]["reservations"]] == ["L001"] and not family[0]["loans"]
    assert [x["barcode"] for x in family[1]["loans"]] == ["LC004"]
    assert not family[1]["reservations"]
    piped = home.run("status", "--all-profiles").stdout.splitlines()
    assert {line.split("\t")[:2][0] for line in piped} == {"default", "hanako"}

    (news,) = home.json("news", "--all-profiles")
    assert (news["profile"], news["card"], news["kind"], news["barcode"]) == (
        "hanako",
        HANAKO,
        "due_soon",
        "LC004",
    )
    assert home.run("--profile", "hanako", "news").stdout == ""  # told for her profile
    # a card whose login ended: said in one line, the others still shown, exit 4
    home.run("--profile", "hanako", "logout")
    done = home.run("status", "--all-profiles", "--json", code=4)
    assert [c["profile"] for c in json.loads(done.stdout)] == ["default"]
    assert "hanako" in done.stderr and done.stderr.count("\n") == 1


def test_reserve_fill_takes_favorites_in_order_up_to_the_limit(home, library):
    lend(library, *(f"LC{n:03d}" for n in range(1, 13)))
    favorites = ["B003", *(f"L{n:03d}" for n in range(1, 13))]  # B003 is on the shelf
    home.run("fav", "add", *favorites)
    library.console("hold", "place", TARO, "B001", "--pickup", "main", "--contact", "phone")

    result = home.json("reserve", "--favorites", "--fill", "--pickup", "main", "--contact", "none")
    assert [r["id"] for r in result["reserved"]] == [f"L{n:03d}" for n in range(1, 10)]
    assert {s["id"]: s["reason"] for s in result["skipped"]} == {
        "B003": "on_shelf",
        "L010": "limit_reached",
        "L011": "limit_reached",
        "L012": "limit_reached",
    }
    # full: cron's next run reserves nothing, says nothing, exits 0
    again = home.run("reserve", "--favorites", "--fill", "--pickup", "main", "--contact", "none")
    assert (again.stdout, again.stderr) == ("", "")
    # a slot frees: the next favorite in list order is taken
    (first,) = [r for r in home.json("status")["reservations"] if r["id"] == "L001"]
    home.run("cancel", str(first["reservation_id"]), "--yes")
    done = home.run("reserve", "--favorites", "--fill", "--pickup", "main", "--contact", "none")
    assert "L010" in done.stdout and done.stdout.count("\n") == 1
    # only an error exits non-zero: a pickup point is needed once something can be reserved
    (second,) = [r for r in home.json("status")["reservations"] if r["id"] == "L002"]
    home.run("cancel", str(second["reservation_id"]), "--yes")
    assert home.run("reserve", "--favorites", "--fill", code=2).returncode == 2


def test_news_needs_a_login(library, tmp_path):
    stranger = Household(library.url, tmp_path / "stranger", TARO)
    done = stranger.run("news", code=4)
    assert done.stdout == "" and done.stderr.count("\n") == 1
    assert not Path(tmp_path / "stranger" / "cache" / "libcli" / "default.news.json").exists()
