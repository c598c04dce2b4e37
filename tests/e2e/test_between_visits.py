"""End to end, between visits (issue 14): the real `libcli` in a subprocess against a
real `libcli-server`: renewal (延長), ...

Each console call starts a process (about a second), so each test sets up only what it
uses; the helpers come from test_cli_flow.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.e2e.test_cli_flow import HEADER, Patron, add_patron

pytestmark = pytest.mark.e2e

TARO = "100000001"
HANAKO = "100000002"
LENDER = "100000009"

CATALOGUE = [
    "R001,陸奥の春,八戸一郎,八戸出版,2020,book,,RC001,main,true",
    "R002,陸奥の夏,八戸一郎,八戸出版,2020,book,,RC002,main,true",
    "R003,陸奥の秋,八戸一郎,八戸出版,2020,book,,RC003,main,true",
    "R004,陸奥の冬,八戸一郎,八戸出版,2020,book,,RC004,nango,true",
    "R005,三社大祭,八戸二郎,八戸出版,2021,book,,RC005,main,true",
]


def load(server, tmp_path, rows=CATALOGUE) -> None:
    csv = tmp_path / "catalogue.csv"
    csv.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    server.console("import-catalog", str(csv), "--format", "csv")


def days(server, n: int) -> str:
    return (server.today() + dt.timedelta(days=n)).isoformat()


# -- loans and renewal ------------------------------------------------------------------------


def test_renewal_refusals_and_due_dates_off_closed_days(live_server_any, tmp_path):
    server = live_server_any
    load(server, tmp_path)
    add_patron(server, TARO, "八戸 太郎", "taro@example.jp")
    server.console("patron", "add", HANAKO, "--name", "八戸 花子")
    # The main library is closed on the 14th day from today: due dates move to the 15th.
    server.console("calendar", "close", "main", days(server, 14))
    server.console("checkout", TARO, "RC001")
    server.console("checkout", TARO, "RC002", "--date", days(server, -20))  # overdue
    server.console("checkout", TARO, "RC003", "--date", days(server, -3))
    server.console("checkout", TARO, "RC005", "--date", days(server, -3))
    server.console("hold", "place", HANAKO, "R003", "--pickup", "main", "--contact", "phone")
    taro = Patron(server.url, tmp_path / "taro", TARO)
    taro.login()

    loans = {x["barcode"]: x for x in taro.json("status")["loans"]}
    assert loans["RC001"]["due_date"] == days(server, 15)  # off the closed day
    assert {b: (x["overdue"], x["renewals_left"]) for b, x in loans.items()} == {
        "RC001": (False, 1),
        "RC002": (True, 1),
        "RC003": (False, 1),
        "RC005": (False, 1),
    }
    assert {"barcode", "id", "title", "due_date"} <= set(loans["RC001"])

    result = taro.json("renew", "--all", code=5)
    assert sorted((r["barcode"], r["due_date"]) for r in result["renewed"]) == [
        ("RC001", days(server, 15)),  # counted from today, then off the closed day
        ("RC005", days(server, 15)),
    ]
    assert sorted((s["barcode"], s["reason"]) for s in result["skipped"]) == [
        ("RC002", "overdue"),
        ("RC003", "reserved_by_others"),
    ]
    again = taro.json("renew", "RC005", code=5)
    assert again == {
        "renewed": [],
        "skipped": [{"barcode": "RC005", "title": "三社大祭", "reason": "renewal_limit"}],
    }
    assert taro.json("status")["loans"][-1]["renewals_left"] == 0
    # Words for people, in Japanese too; a barcode that is not one's loan is exit 6.
    assert (
        "延長できる回数を使い切っています"
        in taro.run("renew", "RC005", lang="ja_JP.UTF-8", code=5).stdout
    )
    assert taro.run("renew", "NOPE", code=6).returncode == 6
    assert taro.run("renew", code=2).returncode == 2


def test_staff_renew_at_the_counter(live_server, tmp_path):
    server = live_server
    load(server, tmp_path)
    server.console("patron", "add", TARO, "--name", "八戸 太郎")
    server.console("checkout", TARO, "RC004", "--date", days(server, -5))
    done = server.console("renew", TARO, "RC004")
    assert f"due {days(server, 14)}" in done.stdout
    refused = server.console("renew", TARO, "RC004", check=False)
    # A refusal: one line in the staff's words, exit 5 as every 409 of the console.
    assert refused.returncode == 5
    assert "renewed as often as the library allows: RC004" in refused.stderr


# -- suspend (休止) ----------------------------------------------------------------------------


def test_suspended_reservation_keeps_its_place_and_is_passed_over(live_server_any, tmp_path):
    server = live_server_any
    load(server, tmp_path, [*CATALOGUE])
    add_patron(server, TARO, "八戸 太郎", "taro@example.jp")
    add_patron(server, HANAKO, "八戸 花子", "hanako@example.jp")
    server.console("patron", "add", LENDER, "--name", "貸出 次郎")
    for barcode in ("RC001", "RC002", "RC003"):
        server.console("checkout", LENDER, barcode, "--date", days(server, -7))
    for card, title in ((TARO, "R001"), (HANAKO, "R001"), (TARO, "R002"), (TARO, "R003")):
        server.console("hold", "place", card, title, "--pickup", "main", "--contact", "phone")
    taro = Patron(server.url, tmp_path / "taro", TARO)
    taro.login()
    ids = {r["id"]: r["reservation_id"] for r in taro.json("status")["reservations"]}

    until = days(server, 7)
    taro.run("suspend", str(ids["R001"]), "--until", until)
    taro.run("suspend", str(ids["R002"]), "--until", until)
    taro.run("suspend", str(ids["R003"]), "--until", days(server, 3))
    # A returned copy passes over Taro (No. 1) to Hanako; Taro keeps his place.
    server.console("checkin", "RC001")
    hanako = Patron(server.url, tmp_path / "hanako", HANAKO)
    hanako.login()
    (ready,) = hanako.json("status")["reservations"]
    assert (ready["status"], ready["suspended_until"]) == ("ready", None)
    mine = {r["id"]: r for r in taro.json("status")["reservations"]}
    assert (mine["R001"]["status"], mine["R001"]["position"]) == ("waiting", 1)
    assert mine["R001"]["suspended_until"] == until
    assert "休止中" in taro.run("status", lang="ja_JP.UTF-8").stdout
    listed = {
        r["reservation_id"]: r for r in json.loads(server.console("hold", "list", "--json").stdout)
    }
    assert listed[ids["R001"]]["suspended_until"] == until
    # Ready (or in transit) cannot be suspended.
    done = hanako.run("suspend", str(ready["reservation_id"]), "--until", until, code=5)
    assert "waiting" in done.stderr
    assert taro.run("suspend", "999999", "--until", until, code=6).returncode == 6
    assert taro.run("suspend", str(ids["R001"]), "--until", days(server, 0), code=2)

    # Nobody else waits: the copy goes back on the shelf, and comes to Taro on resuming...
    server.console("checkin", "RC002")
    taro.run("resume", str(ids["R002"]))
    # ... or on the day the suspension ends (run-daily).
    server.console("checkin", "RC003")
    server.console("run-daily", "--date", days(server, 3))
    mine = {r["id"]: r for r in taro.json("status")["reservations"]}
    assert (mine["R002"]["status"], mine["R002"]["suspended_until"]) == ("ready", None)
    assert mine["R003"]["status"] == "ready"
