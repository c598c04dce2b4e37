"""3. Password-reset requests give nothing away in their answers: the same answer (on a
live server) after the same statements (in process, both databases).

Their time is measured, not asserted (a loaded machine would break any bound):
`.venv/bin/python -m bench.reset_timing` (bench/reset_timing.py)."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
import requests
from sqlalchemy import event

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
    from libcli.server import mail

    deadline = time.monotonic() + 20  # the links are made once the answers have gone out
    while True:
        with db.read() as s:
            mailed = [m["to"] for m in mail.list_mail(s) if m["kind"] == "password_reset"]
        if len(mailed) >= len(cards) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert sorted(mailed) == sorted(f"p{card}@example.com" for card in cards)
    db.dispose()


def _statements(db, run) -> list[str]:
    """The SQL statements (with their parameters' names, not values) that `run` executes."""
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    return seen


def test_3_reset_requests_run_the_same_statements_before_answering(library):
    """Unknown card, wrong address and the right pair do the same database work before
    the answer; the lookup and the link come after it (the returned work). The right
    pair's link and mail are then made by that work alone."""
    from libcli.server.service import accounts

    settings, db = library.settings, library.db
    kinds = {
        "unknown card": ("800000001", "hanako@example.com"),
        "not a card": ("12345", "hanako@example.com"),
        "wrong address": ("100000001", "someone.else@example.com"),
        "right pair": ("100000001", "hanako@example.com"),
    }
    before, after = {}, {}
    for kind, (card, email) in kinds.items():
        work = []
        before[kind] = _statements(
            db,
            lambda card=card, email=email, work=work: work.append(
                accounts.request_password_reset(db, settings, card, email, client="192.0.2.1")
            ),
        )
        assert not [m for m in library.mails() if m["kind"] == "password_reset"]
        after[kind] = _statements(db, work[0])
    assert before["unknown card"]  # the throttle's count: there is work to compare
    assert all(statements == before["unknown card"] for statements in before.values())
    assert len(after["right pair"]) > len(after["wrong address"])
    mailed = [m["to"] for m in library.mails() if m["kind"] == "password_reset"]
    assert mailed == ["hanako@example.com"]
