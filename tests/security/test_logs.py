"""10. Health and logs of a real `libcli-server serve`: liveness and readiness, one line
per request and per security event on stderr, never a token or a password."""

from __future__ import annotations

import email
import email.policy
import re
import shlex
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import ROOT, _pg_admin, make_database, start_live_server
from tests.server.conftest import PASSWORD, login_token, queued_library

REQUEST_KEYS = ["time", "kind", "method", "route", "status", "ms", "client"]


def parse(line: str) -> dict[str, str]:
    """One logfmt line as a dict (values may be double-quoted)."""
    lexer = shlex.shlex(line, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    return dict(pair.split("=", 1) for pair in lexer)


def log_lines(server) -> list[dict[str, str]]:
    server.stop()
    return [parse(line) for line in server.log.read_text().splitlines() if line.startswith("time=")]


def mailed_token(outbox: Path, timeout: float = 20) -> str:
    """The token of the newest reset link delivered to the outbox folder."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(outbox.glob("*password_reset.eml"), reverse=True):
            body = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            found = re.search(r"token=([A-Za-z0-9_\-]+)", body.get_body().get_content())
            if found:
                return found.group(1)
        time.sleep(0.1)
    raise AssertionError(f"no reset mail in {outbox}")


@pytest.fixture
def patron_server(tmp_path, monkeypatch, clock):
    """A live server (SQLite) with two patrons who have an email address; 15 failed
    logins per address."""
    from sqlalchemy import update

    from libcli.server.db.models import Patron

    monkeypatch.setenv("LIBCLI_SERVER_ADDRESS_FAILED_LOGINS", "15")
    url, cleanup = make_database("sqlite", tmp_path)
    _settings, db, cards = queued_library(url, patrons=2, titles=1, clock=clock)
    with db.write() as s:
        s.execute(update(Patron).values(email="hanako@example.com"))
    db.dispose()
    server = start_live_server(url, tmp_path, clock)
    yield server, cards
    server.stop()
    cleanup()


@pytest.mark.e2e
def test_4_tokens_and_passwords_never_appear_in_the_server_log(patron_server):
    """Every request below is in the log, one line each (so the log is on), and none of
    the secrets they carried: passwords in bodies, the bearer token, the reset token in
    the page's URL and in the confirming body."""
    server, (card, _other) = patron_server
    url = server.url
    made = []

    def call(method, path, **kwargs):
        made.append((method, path.split("?")[0]))
        return requests.request(method, f"{url}{path}", timeout=30, **kwargs)

    headers = login_token(url, card)
    made.append(("POST", "/api/v1/auth/login"))
    token = headers["Authorization"].removeprefix("Bearer ")
    assert call("GET", "/api/v1/me", headers=headers).status_code == 200
    call("GET", "/api/v1/status", headers=headers)
    call("GET", "/api/v1/me", headers={"Authorization": f"Bearer {token}x"})
    reset = {"card": card, "email": "hanako@example.com"}
    assert call("POST", "/api/v1/password-reset", json=reset).status_code == 202
    link = mailed_token(server.outbox)
    assert call("GET", f"/reset?token={link}").status_code == 200
    new = "a new one from the mail"
    confirm = {"token": link, "new_password": new}
    assert call("POST", "/api/v1/password-reset/confirm", json=confirm).status_code == 204
    login = {"card": card, "password": new}
    second = call("POST", "/api/v1/auth/login", json=login).json()["token"]
    newest = "and the newest one here"
    change = {"current_password": new, "new_password": newest}
    auth = {"Authorization": f"Bearer {second}"}
    assert call("PUT", "/api/v1/me/password", json=change, headers=auth).status_code == 204
    call("POST", "/api/v1/auth/logout", headers=auth)

    lines = log_lines(server)
    text = server.log.read_text()
    requests_logged = [
        (line["method"], line["route"])
        for line in lines
        if line["kind"] == "request" and line["route"] != "/health"
    ]
    assert requests_logged == [
        (method, path.replace(f"/{link}", "")) for method, path in made
    ]  # one line per request, in order
    for secret in (token, second, link, PASSWORD, new, newest):
        assert secret not in text
        assert secret[:16] not in text


@pytest.mark.e2e
def test_10_one_line_per_request_with_method_route_status_time_and_client(patron_server):
    server, (card, _other) = patron_server
    headers = login_token(server.url, card)
    requests.get(f"{server.url}/api/v1/status", headers=headers, timeout=30)
    requests.delete(f"{server.url}/api/v1/reservations/424242", headers=headers, timeout=30)
    requests.get(f"{server.url}/no/such/page?token=abc", timeout=30)
    lines = [line for line in log_lines(server) if line["kind"] == "request"]
    assert all(list(line) == REQUEST_KEYS for line in lines), lines
    by_route = {(line["method"], line["route"]): line for line in lines}
    status = by_route[("GET", "/api/v1/status")]
    assert status["status"] == "200" and status["client"] == "127.0.0.1"
    assert float(status["ms"]) >= 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", status["time"])
    # The route's template, not the path as sent; an unknown path is not echoed.
    assert by_route[("DELETE", "/api/v1/reservations/{reservation_id}")]["status"] == "404"
    assert by_route[("GET", "-")]["status"] == "404"
    assert "no/such/page" not in server.log.read_text()


@pytest.mark.e2e
def test_10_security_events_are_logged(patron_server):
    """Failed logins, a lockout, throttling, a reset, password and email changes: one
    line each with the event, the card and the client."""
    server, (card, other) = patron_server
    url = server.url
    login = f"{url}/api/v1/auth/login"
    for n in range(10):
        requests.post(login, json={"card": other, "password": f"wrong {n}"}, timeout=30)
    headers = login_token(url, card)
    me = f"{url}/api/v1/me"
    change = {"email": "hanako@example.org", "current_password": "not it"}
    assert requests.put(f"{me}/email", json=change, headers=headers, timeout=30).status_code == 403
    change["current_password"] = PASSWORD
    assert requests.put(f"{me}/email", json=change, headers=headers, timeout=30).status_code == 200
    reset = {"card": card, "email": "hanako@example.org"}
    requests.post(f"{url}/api/v1/password-reset", json=reset, timeout=30)
    confirm = {"token": mailed_token(server.outbox), "new_password": "from the reset link"}
    requests.post(f"{url}/api/v1/password-reset/confirm", json=confirm, timeout=30)
    login_body = {"card": card, "password": "from the reset link"}
    fresh = requests.post(login, json=login_body, timeout=30).json()["token"]
    body = {"current_password": "from the reset link", "new_password": "changed once more"}
    auth = {"Authorization": f"Bearer {fresh}"}
    requests.put(f"{me}/password", json=body, headers=auth, timeout=30)
    for n in range(5):  # 10 + 1 + 5 failures > 15 per address: throttled
        requests.post(login, json={"card": "123456789", "password": f"guess {n}"}, timeout=30)

    events = [line for line in log_lines(server) if line["kind"] == "security"]
    seen = [(e["event"], e.get("card")) for e in events]
    assert seen.count(("login_failed", other)) == 10
    assert ("card_locked", other) in seen
    assert ("password_check_failed", card) in seen
    assert ("email_changed", card) in seen
    assert ("reset_requested", card) in seen
    assert ("password_reset", card) in seen
    assert ("password_changed", card) in seen
    throttled = [e for e in events if e["event"] == "rate_limited"]
    assert throttled and throttled[0]["scope"] == "address"
    assert all(e["client"] == "127.0.0.1" for e in events if "client" in e)


@pytest.mark.e2e
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_10_health_is_liveness_and_health_ready_checks_the_database(tmp_path, clock, backend):
    url, cleanup = make_database(backend, tmp_path)
    server = start_live_server(url, tmp_path, clock)
    try:
        assert requests.get(f"{server.url}/health", timeout=30).status_code == 200
        ready = requests.get(f"{server.url}/health/ready", timeout=30)
        assert ready.status_code == 200 and ready.json() == {"status": "ready"}
        if backend == "sqlite":
            for path in Path(url.removeprefix("sqlite:///")).parent.glob("library.db*"):
                path.unlink()
        else:
            admin, _admin_url = _pg_admin()
            name = url.rsplit("/", 1)[1]
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            admin.close()
        gone = requests.get(f"{server.url}/health/ready", timeout=30)
        assert gone.status_code == 503 and gone.json()["code"] == "unavailable"
        assert "Retry-After" in gone.headers
        assert requests.get(f"{server.url}/health", timeout=30).status_code == 200
    finally:
        server.stop()
        cleanup()


def test_10_security_md_documents_every_security_event_and_the_request_fields():
    from libcli.server import logs

    documented = (ROOT / "SECURITY.md").read_text()
    for event in logs.SECURITY_EVENTS:
        assert f"| `{event}` |" in documented, event
    assert "`" + " ".join(REQUEST_KEYS) + "`" in documented


def test_10_log_values_with_spaces_quotes_or_control_characters_stay_on_one_line(clock):
    from dataclasses import replace

    from libcli.server import logs
    from libcli.server.settings import load_settings

    settings = replace(load_settings("sqlite:///unused.db"), clock=clock)
    line = logs.line(settings, "security", event="x", card='a "b"=c\nd', client=None)
    assert "\n" not in line
    assert parse(line) == {
        "time": parse(line)["time"],
        "kind": "security",
        "event": "x",
        "card": 'a "b"=c\\x0ad',
        "client": "-",
    }
