"""End to end, between visits (issue 14): the real `libcli` in a subprocess against a
real `libcli-server`: renewal (延長), ...

Each console call starts a process (about a second), so each test sets up only what it
uses; the helpers come from test_cli_flow.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.e2e.test_cli_flow import HEADER, Patron, add_patron

pytestmark = pytest.mark.e2e

TARO = "100000001"
HANAKO = "100000002"

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
