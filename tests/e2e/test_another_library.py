"""Another library, end to end: a real `libcli-server` with a second profile (its own
service points and names, fewer contact methods) and the real `libcli`. Nothing of
Hachinohe's vocabulary may get in the way: the server checks against its profile, and
`libcli` learns the points at login and checks, names and completes from them."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import urllib.error
import urllib.request

import pytest

from tests.conftest import make_database, start_live_server
from tests.e2e.test_cli_flow import HEADER, PASSWORD, Patron, add_patron, libcli_bin

pytestmark = pytest.mark.e2e

MINATO = """
[library]
name_ja = "みなと市立図書館"
name_en = "Minato City Library"
phone = "0120-111-222"
mail_domain = "library.minato.example"
timezone = "Asia/Tokyo"

[rules]
reservation_limit = 5
hold_days = 7
online_types = ["book"]
contact_methods = ["email", "none"]

[[points]]
code = "honkan"
name_ja = "みなと中央図書館"
name_en = "Minato Central Library"

[[points]]
code = "kita"
name_ja = "北分館"
name_en = "North Branch"
"""

CARD = "300000001"
LENDER = "300000009"


@pytest.fixture
def minato(tmp_path, clock):
    profile = tmp_path / "minato.toml"
    profile.write_text(MINATO, encoding="utf-8")
    url, cleanup = make_database("sqlite", tmp_path)
    server = start_live_server(url, tmp_path, clock, LIBCLI_SERVER_PROFILE=str(profile))
    csv = tmp_path / "catalogue.csv"
    csv.write_text(
        f"{HEADER}\n"
        "M001,潮騒,三島由紀夫,新潮社,1954,book,,MC001,kita,true\n"
        "M002,金閣寺,三島由紀夫,新潮社,1956,book,,MC002,honkan,true\n",
        encoding="utf-8",
    )
    server.console("import-catalog", str(csv), "--format", "csv")
    add_patron(server, CARD, "港 花子", "hanako@minato.example")
    server.console("patron", "add", LENDER, "--name", "貸出 次郎")
    week_ago = (server.today() - dt.timedelta(days=7)).isoformat()
    for barcode in ("MC001", "MC002"):
        server.console("checkout", LENDER, barcode, "--date", week_ago)
    yield server
    server.stop()
    cleanup()


def complete(patron: Patron, words: str) -> list[str]:
    env = patron.env("C")
    env.update(
        _LIBCLI_COMPLETE="bash_complete",
        COMP_WORDS=words,
        COMP_CWORD=str(len(words.split(" ")) - 1),
    )
    done = subprocess.run(
        [libcli_bin()], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    return [line.split(",", 1)[1] for line in done.stdout.splitlines() if "," in line]


def test_another_librarys_points_work_from_login_to_status(minato, tmp_path):
    hanako = Patron(minato.url, tmp_path / "hanako", CARD)
    # Before any login the machine knows only the built-in list.
    assert complete(hanako, "libcli reserve --pickup ") == ["main", "nango", "center"]
    hanako.login()
    assert complete(hanako, "libcli reserve --pickup ") == ["honkan", "kita"]
    assert complete(hanako, "libcli reserve --contact ") == ["email", "none"]

    # A point by its name in the library's own words; the server takes its code.
    reserved = hanako.json("reserve", "M001", "--pickup", "北分館", "--contact", "email", "--yes")
    assert [r["id"] for r in reserved["reserved"]] == ["M001"]
    (mine,) = hanako.json("status")["reservations"]
    assert (mine["pickup"], mine["contact"], mine["via"]) == ("kita", "email", "online")
    assert "北分館" in hanako.run("status", lang="ja_JP.UTF-8").stdout
    assert "North Branch" in hanako.run("status").stdout

    # What this library does not have is refused before anything is sent.
    refused = hanako.run(
        "reserve", "M002", "--pickup", "main", "--contact", "email", "--yes", code=2
    )
    assert "honkan, kita" in refused.stderr
    hanako.run("reserve", "M002", "--pickup", "honkan", "--contact", "phone", "--yes", code=2)
    assert len(hanako.json("status")["reservations"]) == 1

    # config takes the library's names too
    assert "pickup = honkan" in hanako.run("config", "set", "pickup", "みなと中央図書館").stdout
    reserved = hanako.json("reserve", "M002", "--contact", "none", "--yes")
    assert [r["id"] for r in reserved["reserved"]] == ["M002"]


def _call(url: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as refused:
        return refused.code, json.load(refused)


def test_the_api_checks_reservations_against_the_profile(minato):
    status, info = _call(f"{minato.url}/api/v1/library")
    assert status == 200
    assert [p["code"] for p in info["points"]] == ["honkan", "kita"]
    assert info["points"][1]["name"] == {"ja": "北分館", "en": "North Branch"}
    assert info["contact_methods"] == ["email", "none"]

    login = {"card": CARD, "password": PASSWORD}
    token = _call(f"{minato.url}/api/v1/auth/login", login)[1]["token"]
    reserve = f"{minato.url}/api/v1/reservations"
    for pickup, contact in (("main", "email"), ("kita", "phone")):
        body = {"title_ids": ["M001"], "pickup": pickup, "contact": contact}
        status, problem = _call(reserve, body, token)
        assert (status, problem["code"]) == (422, "invalid_request"), (pickup, contact)
    status, placed = _call(
        reserve, {"title_ids": ["M001"], "pickup": "kita", "contact": "none"}, token
    )
    assert status == 200 and [r["id"] for r in placed["reserved"]] == ["M001"]
