"""Fixtures for the patron pages: a browser-like client over HTTPS and a small library."""

from __future__ import annotations

import re

import pytest

from tests.server import conftest as server_fixtures
from tests.server.conftest import PASSWORD, SmallLibrary

library = server_fixtures.library  # the small library of the API tests, here too

CARD_A, CARD_B, CARD_C = "100000001", "100000002", "100000003"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


@pytest.fixture
def pages(settings, db):
    """A client that keeps cookies like a browser; HTTPS, as the public URL is."""
    from fastapi.testclient import TestClient

    from libcli.server.api.app import create_app

    with TestClient(
        create_app(settings, db), base_url="https://library.example", follow_redirects=False
    ) as client:
        yield client


def page_login(pages, card: str, password: str = PASSWORD):
    """Log in through the status page; returns the POST /login response."""
    form = pages.get("/status")
    assert form.status_code == 200, form.text
    return pages.post(
        "/login", data={"card": card, "password": password, "csrf": csrf_of(form.text)}
    )


@pytest.fixture
def holds(library: SmallLibrary) -> dict:
    """Patron A: one reservation waiting (2nd in the queue), one in transit, one ready.

    T-01: B reserved first, then A (A waits as No. 2); T-02: A, pickup Nango, the copy
    comes back at the main library (in transit); T-NEKO: A, pickup main, comes back at
    main (ready, contact by email so the pickup deadline is known).
    """
    a, b = library.login(CARD_A), library.login(CARD_B)
    assert library.reserve(b, "T-01").status_code == 200
    ids = {}
    for title_id, pickup, contact in (
        ("T-01", "main", "phone"),
        ("T-02", "nango", "phone"),
        ("T-NEKO", "main", "email"),
    ):
        response = library.reserve(a, title_id, pickup=pickup, contact=contact)
        assert response.status_code == 200, response.text
        ids[title_id] = response.json()["reserved"][0]["reservation_id"]
    library.checkin("T-02-1", "main")
    library.checkin("T-NEKO-1", "main")
    library.checkout(CARD_A, "T-KOKORO-2")
    states = {r["id"]: r["status"] for r in library.status(a)["reservations"]}
    assert states == {"T-01": "waiting", "T-02": "in_transit", "T-NEKO": "ready"}
    return ids
