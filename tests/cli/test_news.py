"""`libcli news` and `--all-profiles` in-process, against a mocked server (the real server
is tested in tests/e2e/test_news.py)."""

from __future__ import annotations

import json

from libcli.exit_codes import ExitCode
from tests.cli.conftest import API

DUE = {
    "kind": "due_soon",
    "title": "こころ",
    "date": "2030-01-10",
    "id": "T1",
    "reservation_id": None,
    "pickup": None,
    "pickup_deadline": None,
    "barcode": "C1",
}


def test_news_tells_an_event_once_and_again_when_its_date_changes(run, http, logged_in):
    http.get(API + "/me/events", json={"events": [DUE]})
    first = run("news", "--json")
    assert [e["barcode"] for e in json.loads(first.stdout)] == ["C1"]
    quiet = run("news")
    assert (quiet.exit_code, quiet.stdout) == (0, "")
    http.replace("GET", API + "/me/events", json={"events": [{**DUE, "date": "2030-01-24"}]})
    renewed = run("news")
    assert "2030-01-24" in renewed.stdout and renewed.stdout.count("\n") == 1


def test_all_profiles_refuses_one_token_for_every_card(run, http, logged_in):
    done = run("status", "--all-profiles", env={"LIBCLI_TOKEN": "t" * 40})
    assert done.exit_code == ExitCode.USAGE
    assert "LIBCLI_TOKEN" in done.stderr and "--all-profiles" in done.stderr
    assert len(http.calls) == 0
