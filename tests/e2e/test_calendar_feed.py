"""End to end: `libcli calendar` (the .ics file) and its secret feed, with the real
`libcli` in a subprocess against a real `libcli-server` (issue 14)."""

from __future__ import annotations

import re
import urllib.error
import urllib.request

import icalendar
import pytest

from tests.e2e.test_cli_flow import (
    HANAKO,
    NEW_PASSWORD,
    PASSWORD,
    TARO,
    Patron,
    delivered_bodies,
    hanako,  # noqa: F401 - a fixture
    library,  # noqa: F401 - a fixture
    reservation_of,
    taro,  # noqa: F401 - a fixture
)

pytestmark = pytest.mark.e2e

DOMAIN = "lib.hachinohe.aomori.jp"  # the profile's mail_domain


def events(data: bytes) -> dict[str, tuple]:
    """UID -> (date, summary, location) of each event of an iCalendar file."""
    cal = icalendar.Calendar.from_ical(data)
    return {
        str(e["uid"]): (e.decoded("dtstart"), str(e["summary"]), str(e.get("location", "")))
        for e in cal.walk("VEVENT")
    }


def fetch(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read(), answer.headers["content-type"]
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers["content-type"]


@pytest.fixture
def dates(taro, hanako, library):  # noqa: F811 - fixtures
    """Taro has a loan (雪国) and a ready hold (ノルウェイの森, pickup at main); Hanako a loan."""
    today = library.today().isoformat()
    library.console("checkout", TARO, "C003", "--date", today)
    library.console("checkout", HANAKO, "C006", "--date", today)
    taro.json("reserve", "B001", "--pickup", "main", "--contact", "none", "--yes")
    library.console("checkin", "C001", "--at", "main", "--date", today)
    (loan,) = taro.json("status")["loans"]
    hold = reservation_of(taro, "B001")
    assert hold["status"] == "ready" and hold["pickup_deadline"]
    return loan, hold


def test_calendar_file_has_due_dates_and_pickup_deadlines_with_stable_uids(
    taro,  # noqa: F811
    library,  # noqa: F811
    dates,
    tmp_path,
):
    loan, hold = dates
    out = tmp_path / "library.ics"
    done = taro.run("calendar", "-o", str(out))
    assert "2 dates written" in done.stderr
    first = events(out.read_bytes())
    (loan_uid,) = [u for u in first if u.startswith("loan-")]
    assert re.fullmatch(rf"loan-\d+@{re.escape(DOMAIN)}", loan_uid)
    assert first[loan_uid][0].isoformat() == loan["due_date"]
    assert "雪国" in first[loan_uid][1] and "返却期限" in first[loan_uid][1]
    pickup_uid = f"pickup-{hold['reservation_id']}@{DOMAIN}"
    when, summary, where = first[pickup_uid]
    assert when.isoformat() == hold["pickup_deadline"]
    assert "ノルウェイの森" in summary and "Pick up by" in summary
    assert where == "八戸市立図書館 / Hachinohe City Library"  # the pickup point
    data = out.read_bytes()
    assert TARO.encode() not in data and "八戸 太郎".encode() not in data
    assert "銀河鉄道の夜".encode() not in data  # Hanako's loan is hers

    # Importing again: the same UIDs, so a calendar updates its events.
    again = taro.run("calendar").stdout.encode()  # standard output without -o
    assert events(again) == first


def test_feed_url_is_secret_revocable_and_ended_by_a_password_change(
    taro,  # noqa: F811
    library,  # noqa: F811
    dates,
):
    url = taro.run("calendar", "--subscribe").stdout.strip()
    secret = re.fullmatch(rf"{re.escape(library.url)}/api/v1/calendar/([\w-]+)\.ics", url)
    assert secret and len(secret[1]) >= 43  # 256 random bits, base64url
    status, body, kind = fetch(url)  # no login: the URL is the key
    assert status == 200 and kind.startswith("text/calendar")
    assert TARO.encode() not in body
    assert {u.split("@")[0].split("-")[0] for u in events(body)} == {"loan", "pickup"}

    # Subscribing again gives a new URL; the old one stops.
    new_url = taro.run("calendar", "--subscribe").stdout.strip()
    assert new_url != url
    assert fetch(url)[0] == 404 and fetch(new_url)[0] == 200
    assert fetch(new_url.replace(".ics", "x.ics"))[0] == 404

    assert "no longer works" in taro.run("calendar", "--revoke").stdout
    assert fetch(new_url)[0] == 404
    assert "no calendar feed" in taro.run("calendar", "--revoke").stdout
    taro.run("calendar", "--subscribe", "--revoke", code=2)

    # A password change ends the feed.
    url = taro.run("calendar", "--subscribe").stdout.strip()
    assert fetch(url)[0] == 200
    taro.run("passwd", "--password-stdin", input=f"{PASSWORD}\n{NEW_PASSWORD}\n")
    assert fetch(url)[0] == 404


def test_password_reset_ends_the_feed(taro, library, tmp_path):  # noqa: F811
    url = taro.run("calendar", "--subscribe").stdout.strip()
    assert fetch(url)[0] == 200
    taro.run("passwd", "--forgot", "--card", TARO, "--email", "taro@example.jp")
    (body,) = delivered_bodies(library, "password_reset")
    (link,) = set(re.findall(r"\S+/reset\?token=[\w\-.~%]+", body))  # ja and en
    taro.run("passwd", "--reset", link, "--password-stdin", input=NEW_PASSWORD + "\n")
    assert fetch(url)[0] == 404


def test_calendar_in_japanese_and_without_a_login(library, tmp_path):  # noqa: F811
    stranger = Patron(library.url, tmp_path / "nobody", TARO)
    assert stranger.run("calendar", code=4).stdout == ""
    patron = Patron(library.url, tmp_path / "taro", TARO)
    patron.login()
    ja = patron.run("calendar", "--revoke", lang="ja_JP.UTF-8")
    assert "カレンダー" in ja.stdout
