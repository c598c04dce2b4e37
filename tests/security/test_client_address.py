"""2. One client address: the guessing limits count against the connection's peer, and
X-Forwarded-For only from a proxy named in LIBCLI_SERVER_TRUSTED_PROXIES (a real
`libcli-server serve`; connections from 127.0.0.1 and from 127.0.0.2, both loopback)."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest

from tests.conftest import make_database, start_live_server
from tests.server.conftest import PASSWORD, queued_library

pytestmark = pytest.mark.e2e
LIMIT = 3  # failed logins per address in the window


def login_from(url: str, source: str, card: str, password: str, forwarded: str | None = None):
    """POST /auth/login over a connection from `source`; the answer's status."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(
        parts.hostname, parts.port, timeout=30, source_address=(source, 0)
    )
    headers = {"Content-Type": "application/json"}
    if forwarded:
        headers["X-Forwarded-For"] = forwarded
    try:
        body = json.dumps({"card": card, "password": password})
        connection.request("POST", "/api/v1/auth/login", body=body, headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.fixture
def server_with(tmp_path, monkeypatch, clock):
    """Start a server with the given LIBCLI_SERVER_TRUSTED_PROXIES and 3 failures per
    address; returns it and two cards that share the test password."""
    started = []

    def start(trusted_proxies: str | None):
        monkeypatch.setenv("LIBCLI_SERVER_ADDRESS_FAILED_LOGINS", str(LIMIT))
        if trusted_proxies is None:
            monkeypatch.delenv("LIBCLI_SERVER_TRUSTED_PROXIES", raising=False)
        else:
            monkeypatch.setenv("LIBCLI_SERVER_TRUSTED_PROXIES", trusted_proxies)
        url, cleanup = make_database("sqlite", tmp_path)
        _settings, db, cards = queued_library(url, patrons=2, titles=0, clock=clock)
        db.dispose()
        server = start_live_server(url, tmp_path, clock)
        started.append((server, cleanup))
        return server, cards

    yield start
    for server, cleanup in started:
        server.stop()
        cleanup()


def test_2_forged_forwarded_for_from_loopback_is_ignored_by_default(server_with):
    server, (card, other) = server_with(None)
    for n in range(LIMIT):
        assert login_from(server.url, "127.0.0.1", other, f"wrong {n}") == 401
    # Throttled; a forged header (one address, or a new one each time) does not help.
    assert login_from(server.url, "127.0.0.1", card, PASSWORD) == 429
    assert login_from(server.url, "127.0.0.1", card, PASSWORD, "203.0.113.9") == 429
    for n in range(10):
        assert login_from(server.url, "127.0.0.1", card, PASSWORD, f"198.51.100.{n}") == 429
    # Another peer is another address.
    assert login_from(server.url, "127.0.0.2", card, PASSWORD) == 200


def test_2_forwarded_for_counts_only_from_a_trusted_proxy(server_with):
    server, (card, other) = server_with("127.0.0.1")
    # 127.0.0.2 is no proxy of ours: its header is ignored, it is counted as itself.
    for n in range(LIMIT):
        forged = f"192.0.2.{n}"
        assert login_from(server.url, "127.0.0.2", other, f"wrong {n}", forged) == 401
    assert login_from(server.url, "127.0.0.2", card, PASSWORD, "192.0.2.200") == 429
    # Through the trusted proxy each client has its own count: one guesser is stopped,
    # the patron behind the same proxy is not.
    for n in range(LIMIT):
        assert login_from(server.url, "127.0.0.1", other, f"wrong {n}", "198.51.100.7") == 401
    assert login_from(server.url, "127.0.0.1", card, PASSWORD, "198.51.100.7") == 429
    assert login_from(server.url, "127.0.0.1", card, PASSWORD, "198.51.100.8") == 200
    # The log names the client the limits counted.
    server.stop()
    log = server.log.read_text()
    assert "client=198.51.100.7" in log and "client=198.51.100.8" in log
    assert "client=192.0.2." not in log
