"""Accounts and sessions under attack (issue 5, promises 1–5): SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
import statistics
import time
from contextlib import contextmanager
from dataclasses import replace

import pytest
from sqlalchemy import select, text

from tests.server.conftest import PASSWORD

A, B = "100000001", "100000002"
LOGIN = "/api/v1/auth/login"


def _login(api, card, password=PASSWORD, **kwargs):
    return api.post(LOGIN, json={"card": card, "password": password}, **kwargs)


def _app(settings, db):
    from fastapi.testclient import TestClient

    from libcli.server.api.app import create_app

    return TestClient(create_app(settings, db))


def _service_login(library, card, password=PASSWORD, now=None, client=None):
    from libcli.server.service import accounts

    now = now or library.settings.now()
    token, _row, _patron = accounts.login(library.db, library.settings, card, password, now, client)
    return token


@contextmanager
def _refused(code: str):
    from libcli.server.errors import LibraryError

    with pytest.raises(LibraryError) as info:
        yield
    assert info.value.code == code


def _refusal(library, card, password, now=None, client=None) -> str:
    from libcli.server.errors import LibraryError

    with pytest.raises(LibraryError) as refused:
        _service_login(library, card, password, now, client)
    return refused.value.code


# -- 1. Passwords ------------------------------------------------------------------------


def test_1_common_password_list_has_3000_lowercase_entries():
    from libcli.server import security

    common = security.common_passwords()
    assert len(common) == 3000
    assert all(p == p.lower() and p.strip() == p and p for p in common)
    assert {"password", "123456789", "iloveyou", "qwertyuiop"} <= common


def test_1_password_length_8_to_64_and_more_without_composition_rules():
    from libcli.server import security

    assert security.password_problem("a" * 7) == "weak_password"
    assert security.password_problem("kamome no sora") is None  # letters and a space only
    assert security.password_problem("ねこのあしあと八戸") is None  # 9 characters, no digits
    assert security.password_problem("x" * 64) is None
    assert security.password_problem("y" * 200) is None


def test_1_no_truncation_passwords_differing_after_byte_72_differ():
    from libcli.server import security

    base = "h" * 72
    stored = security.hash_password(base + "-first")
    assert security.verify_password(stored, base + "-first")
    assert not security.verify_password(stored, base + "-other")
    assert not security.verify_password(stored, base)


def test_1_argon2id_is_the_hash():
    from libcli.server import security

    assert security.hash_password("a long passphrase").startswith("$argon2id$")


@pytest.mark.parametrize("common", ["password1", "iloveyou", "QWERTYUIOP", "1q2w3e4r5t"])
def test_1_common_passwords_refused_on_issue_change_and_reset(library, common):
    from libcli.server.service import accounts

    with _refused("weak_password"), library.db.write() as s:
        accounts.issue_password(s, library.settings, A, common)
    headers = library.login(A)
    change = library.api.put(
        "/api/v1/me/password",
        headers=headers,
        json={"current_password": PASSWORD, "new_password": common},
    )
    assert change.status_code == 422 and change.json()["code"] == "weak_password"
    library.api.post("/api/v1/password-reset", json={"card": A, "email": "hanako@example.com"})
    token = re.search(r"token=([A-Za-z0-9_\-]+)", library.mails()[-1]["body"]).group(1)
    reset = library.api.post(
        "/api/v1/password-reset/confirm", json={"token": token, "new_password": common}
    )
    assert reset.status_code == 422 and reset.json()["code"] == "weak_password"
    library.login(A)  # the old password still works: nothing was changed


def test_1_a_64_character_password_is_accepted_end_to_end(library):
    long_one = "the quick brown fox jumps over the lazy dog at hachinohe port!!!"
    assert len(long_one) == 64
    response = library.api.put(
        "/api/v1/me/password",
        headers=library.login(A),
        json={"current_password": PASSWORD, "new_password": long_one},
    )
    assert response.status_code == 204
    library.login(A, long_one)


# -- 2. Guessing ------------------------------------------------------------------------


def test_2_ten_wrong_passwords_lock_the_card_and_a_locked_card_answers_like_a_wrong_password(
    library, cheap_argon2
):
    wrong = [_login(library.api, A, f"wrong guess {n}") for n in range(10)]
    assert {r.status_code for r in wrong} == {401}
    locked = _login(library.api, A)  # the right password, but the card is locked
    assert locked.status_code == 401
    assert locked.json() == wrong[0].json()
    for header in ("content-type", "www-authenticate", "content-length"):
        assert locked.headers.get(header) == wrong[0].headers.get(header)
    assert _login(library.api, B).status_code == 200  # only that card


def test_2_the_lock_expires_by_itself(library, cheap_argon2):
    from libcli.server.service import accounts

    now = library.settings.now()
    for n in range(accounts.MAX_FAILED_LOGINS):
        assert _refusal(library, A, f"wrong {n}", now=now) == "invalid_credentials"
    assert _refusal(library, A, PASSWORD, now=now + dt.timedelta(minutes=1)) == (
        "invalid_credentials"
    )
    later = now + dt.timedelta(minutes=accounts.LOCK_MINUTES, seconds=1)
    assert _service_login(library, A, now=later)


def test_2_nine_failures_then_success_resets_the_count(library, cheap_argon2):
    for n in range(9):
        _refusal(library, A, f"wrong {n}")
    assert _service_login(library, A)
    for n in range(9):
        _refusal(library, A, f"wrong again {n}")
    assert _service_login(library, A)


def test_2_one_address_trying_1000_card_numbers_is_throttled(library, cheap_argon2):
    limit = library.settings.address_failed_logins
    answers = [_login(library.api, f"{500000000 + n:09d}", "Summer2026!") for n in range(1000)]
    statuses = [a.status_code for a in answers]
    assert statuses[:limit] == [401] * limit
    assert set(statuses[limit:]) == {429}
    throttled = answers[-1]
    assert throttled.json()["code"] == "rate_limited"
    assert 0 < int(throttled.headers["Retry-After"]) <= library.settings.address_window_seconds
    # Even the right password waits, and a forged X-Forwarded-For does not help.
    assert _login(library.api, A).status_code == 429
    assert _login(library.api, A, headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 429
    # Another address is not affected.
    assert _service_login(library, A, client="198.51.100.2")


def test_2_address_throttle_window_ends(library, cheap_argon2):
    settings = replace(library.settings, address_failed_logins=3)
    library.settings = settings
    now = settings.now()
    for n in range(3):
        assert _refusal(library, A, f"w{n}", now=now, client="192.0.2.1") == "invalid_credentials"
    assert _refusal(library, B, PASSWORD, now=now, client="192.0.2.1") == "rate_limited"
    later = now + dt.timedelta(seconds=settings.address_window_seconds)
    assert _service_login(library, B, now=later, client="192.0.2.1")


def test_2_service_wide_throttle_stops_guesses_from_many_addresses(library, cheap_argon2):
    library.settings = replace(library.settings, global_failed_logins=20)
    for n in range(20):
        assert _refusal(library, B, f"w{n}", client=f"10.0.{n}.1") == "invalid_credentials"
    assert _refusal(library, A, PASSWORD, client="10.9.9.9") == "rate_limited"


def test_2_throttle_counts_atomically_under_parallel_hits(library):
    from concurrent.futures import ThreadPoolExecutor

    from libcli.server import throttle

    window = dt.timedelta(minutes=10)
    now = library.settings.now()

    def one(_):
        with library.db.write() as s:
            return throttle.hit(s, "test:parallel", window, now)

    with ThreadPoolExecutor(8) as pool:
        counts = sorted(pool.map(one, range(40)))
    assert counts == list(range(1, 41))


# -- 3. No enumeration ------------------------------------------------------------------


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


@pytest.mark.e2e
def test_3_unknown_card_and_wrong_password_look_and_time_the_same(library):
    settings = replace(library.settings, address_failed_logins=10_000)
    with _app(settings, library.db) as api:
        unknown, wrong, bodies = [], [], set()
        for n in range(50):  # interleaved, so drift in machine load hits both alike
            for card, into in ((f"{700000000 + n:09d}", unknown), (B, wrong)):
                start = time.perf_counter()
                response = _login(api, card, "not the password")
                into.append(time.perf_counter() - start)
                bodies.add((response.status_code, response.text))
    assert len(bodies) == 1
    difference = abs(_median_ms(unknown) - _median_ms(wrong))
    assert difference < 10, (
        f"median unknown {_median_ms(unknown):.1f} ms, wrong {_median_ms(wrong):.1f} ms"
    )


# -- 4. Tokens ---------------------------------------------------------------------------


def test_4_session_token_has_at_least_128_random_bits_and_differs_each_login(library):
    tokens = {library.login(A)["Authorization"].removeprefix("Bearer ") for _ in range(5)}
    assert len(tokens) == 5
    for token in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_\-]+", token)
        assert len(token) * 6 >= 128  # URL-safe base64: 6 bits a character


def test_4_the_database_never_holds_the_session_token(library):
    token = library.login(A)["Authorization"].removeprefix("Bearer ")
    with library.db.read() as s:
        tables = [
            row[0]
            for row in s.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'table'")
                if library.db.is_sqlite
                else text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
        ]
        dump = " ".join(
            str(value)
            for table in tables
            for row in s.execute(text(f'SELECT * FROM "{table}"'))
            for value in row
        )
    assert "session" in tables and dump
    assert token not in dump


def test_4_idle_limit_ends_a_session(library, cheap_argon2):
    from libcli.server.service import accounts

    now = library.settings.now()
    token = _service_login(library, A, now=now)
    idle = dt.timedelta(minutes=library.settings.session_idle_minutes)
    with library.db.read() as s:
        accounts.authenticate(s, library.settings, token, now + idle - dt.timedelta(seconds=1))
        with _refused("auth_required"):
            accounts.authenticate(s, library.settings, token, now + idle)


def test_4_use_keeps_a_session_alive_until_the_absolute_limit(library, cheap_argon2):
    from libcli.server.service import accounts

    now = library.settings.now()
    token = _service_login(library, A, now=now)
    step = dt.timedelta(minutes=library.settings.session_idle_minutes) / 2
    absolute = now + dt.timedelta(days=library.settings.session_absolute_days)
    when = now
    while when + step < absolute:
        when += step
        with library.db.write() as s:
            _patron, row = accounts.authenticate(s, library.settings, token, when)
            accounts.touch_session(s, row.token_hash, when)
    with library.db.read() as s, _refused("auth_required"):
        accounts.authenticate(s, library.settings, token, absolute)


def test_4_documented_session_limits():
    from libcli.server.settings import Settings

    fields = Settings.__dataclass_fields__
    assert fields["session_idle_minutes"].default == 60 * 24 * 14
    assert fields["session_absolute_days"].default == 90
    assert fields["reset_token_minutes"].default == 30


def test_4_logout_revokes_only_that_token(library):
    first, second = library.login(A), library.login(A)
    assert library.api.post("/api/v1/auth/logout", headers=first).status_code == 204
    assert library.api.get("/api/v1/me", headers=first).status_code == 401
    assert library.api.get("/api/v1/me", headers=second).status_code == 200


def test_4_password_change_ends_every_other_session(library):
    here, phone, laptop = library.login(A), library.login(A), library.login(A)
    other_patron = library.login(B)
    response = library.api.put(
        "/api/v1/me/password",
        headers=here,
        json={"current_password": PASSWORD, "new_password": "a brand new phrase"},
    )
    assert response.status_code == 204
    assert library.api.get("/api/v1/me", headers=here).status_code == 200
    for ended in (phone, laptop):
        assert library.api.get("/api/v1/me", headers=ended).status_code == 401
    assert library.api.get("/api/v1/me", headers=other_patron).status_code == 200


def _reset_token(library, card=A, email="hanako@example.com") -> str:
    assert (
        library.api.post("/api/v1/password-reset", json={"card": card, "email": email}).status_code
        == 202
    )
    body = [m for m in library.mails() if m["kind"] == "password_reset"][-1]["body"]
    return re.search(r"token=([A-Za-z0-9_\-]+)", body).group(1)


def test_4_reset_ends_every_session_and_works_once(library):
    sessions = [library.login(A), library.login(A)]
    token = _reset_token(library)
    with library.db.read() as s:
        from libcli.server.db.models import PasswordReset

        stored = s.scalars(select(PasswordReset.token_hash)).all()
    assert token not in stored and len(stored) == 1
    confirm = {"token": token, "new_password": "set from the mail link"}
    assert library.api.post("/api/v1/password-reset/confirm", json=confirm).status_code == 204
    for headers in sessions:
        assert library.api.get("/api/v1/me", headers=headers).status_code == 401
    again = library.api.post(
        "/api/v1/password-reset/confirm", json={**confirm, "new_password": "and once more please"}
    )
    assert again.status_code == 400 and again.json()["code"] == "invalid_token"
    library.login(A, "set from the mail link")


def test_4_reset_token_expires_after_its_ttl(library):
    from libcli.server.service import accounts

    ttl = dt.timedelta(minutes=library.settings.reset_token_minutes)
    assert ttl == dt.timedelta(minutes=30)
    now = library.settings.now()
    with library.db.write() as s:
        accounts.request_password_reset(s, library.settings, A, "hanako@example.com", now=now)
    body = [m for m in library.mails() if m["kind"] == "password_reset"][-1]["body"]
    token = re.search(r"token=([A-Za-z0-9_\-]+)", body).group(1)
    assert "30" in body  # the mail tells the patron how long the link works
    late, in_time = now + ttl + dt.timedelta(seconds=1), now + ttl - dt.timedelta(seconds=1)
    with _refused("invalid_token"):
        accounts.reset_password(library.db, library.settings, token, "too late for this", late)
    # still within the TTL: it works
    accounts.reset_password(library.db, library.settings, token, "just in time now", in_time)


def test_4_reset_mails_are_limited_per_card(library):
    for _ in range(5):
        library.api.post("/api/v1/password-reset", json={"card": A, "email": "hanako@example.com"})
    assert len([m for m in library.mails() if m["kind"] == "password_reset"]) == 3


def test_4_no_token_travels_in_an_api_url(library):
    schema = library.api.get("/openapi.json").json()
    for path, operations in schema["paths"].items():
        assert "token" not in path.lower()
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                assert "token" not in parameter["name"].lower(), (path, parameter)


# -- 5. Email change ---------------------------------------------------------------------


def test_5_email_change_needs_the_current_password_and_tells_the_old_address(library):
    headers = library.login(A)
    refused = library.api.put(
        "/api/v1/me/email",
        headers=headers,
        json={"email": "thief@example.net", "current_password": "not my password"},
    )
    assert refused.status_code == 403 and refused.json()["code"] == "wrong_password"
    missing = library.api.put("/api/v1/me/email", headers=headers, json={"email": "x@example.net"})
    assert missing.status_code == 422
    assert library.api.get("/api/v1/me", headers=headers).json()["email"] == "hanako@example.com"
    assert library.mails() == []
    ok = library.api.put(
        "/api/v1/me/email",
        headers=headers,
        json={"email": "hanako@example.org", "current_password": PASSWORD},
    )
    assert ok.status_code == 200
    notice = [m for m in library.mails() if m["to"] == "hanako@example.com"]
    assert len(notice) == 1 and notice[0]["kind"] == "email_changed_notice"
    assert "hanako@example.org" not in notice[0]["body"]  # the new address is masked there
