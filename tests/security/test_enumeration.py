"""3. Password-reset requests give nothing away in their answers (on a live server).

Their time is measured, not asserted (a loaded machine would break any bound):
`.venv/bin/python -m bench.reset_timing` (bench/reset_timing.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest
import requests

from tests.conftest import make_database, start_live_server

pytestmark = pytest.mark.e2e
TRIES = 12


@pytest.fixture
def reset_server(tmp_path, monkeypatch, clock):
    # Room for 150 requests from one address: the per-address throttle is tested elsewhere.
    monkeypatch.setenv("LIBCLI_SERVER_ADDRESS_RESET_REQUESTS", "100000")
    url, cleanup = make_database("sqlite", tmp_path)
    server = start_live_server(url, tmp_path, clock)
    yield server
    server.stop()
    cleanup()


def test_3_reset_requests_answer_alike_and_mail_only_the_right_pair(reset_server):
    from sqlalchemy import update

    from libcli.server.db.models import Patron
    from libcli.server.db.session import Database
    from libcli.server.service import accounts
    from libcli.server.settings import load_settings

    settings = replace(load_settings(reset_server.database_url), clock=reset_server.clock)
    db = Database(reset_server.database_url)
    cards = [f"6{n:08d}" for n in range(TRIES)]
    with db.write() as s:
        for card in cards:
            accounts.add_patron(s, settings, card, f"利用者 {card}", email=f"p{card}@example.com")
        accounts.issue_password(s, settings, cards[0], "a fine long password")
        s.flush()
        first = s.get(Patron, cards[0]).password_hash
        s.execute(update(Patron).where(Patron.card.in_(cards)).values(password_hash=first))
    url = f"{reset_server.url}/api/v1/password-reset"
    http = requests.Session()
    answers = set()
    for n, card in enumerate(cards):  # interleaved, each patron matched once
        for kind, body in (
            ("unknown", {"card": f"{800000000 + n:09d}", "email": f"p{card}@example.com"}),
            ("wrong", {"card": card, "email": "someone.else@example.com"}),
            ("match", {"card": card, "email": f"p{card}@example.com"}),
        ):
            response = http.post(url, json=body, timeout=30)
            answers.add((kind, response.status_code, response.text))
    assert answers == {
        (kind, 202, '{"status":"accepted"}') for kind in ("unknown", "wrong", "match")
    }
    with db.read() as s:
        from libcli.server import mail

        mailed = [m["to"] for m in mail.list_mail(s) if m["kind"] == "password_reset"]
    assert sorted(mailed) == sorted(f"p{card}@example.com" for card in cards)
    db.dispose()
