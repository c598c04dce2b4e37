"""Accounts and sessions under attack (issue 5, promises 1–5): SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
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


def test_1_passwords_are_nfkc_normalised_so_nfc_nfd_and_full_width_forms_match(library):
    import unicodedata

    nfc = unicodedata.normalize("NFC", "café au lait ポテト")
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfc != nfd
    response = library.api.put(
        "/api/v1/me/password",
        headers=library.login(A),
        json={"current_password": PASSWORD, "new_password": nfc},
    )
    assert response.status_code == 204
    library.login(A, nfd)
    library.login(A, nfc)
    wide = "ｔｏｗｅｒ ｏｆ ｂａｂｅｌ"  # full-width letters: NFKC makes them ASCII
    response = library.api.put(
        "/api/v1/me/password",
        headers=library.login(A, nfd),
        json={"current_password": nfc, "new_password": wide},
    )
    assert response.status_code == 204
    library.login(A, "tower of babel")


@pytest.mark.parametrize(
    "password",
    [
        " " * 8,  # blank
        "\u3000" * 10,  # ideographic spaces: blank after NFKC
        " password1 ",  # a common password with spaces around it
        "ＰＡＳＳＷＯＲＤ１",  # the same, full width
        "  short  ",  # under 8 characters once the spaces at either end are trimmed
        A,  # the card number
        f"my card {A}",  # containing it
        "１０００００００１ again",  # containing it, full width
    ],
)
def test_1_blank_common_and_card_number_passwords_are_refused(library, password):
    from libcli.server.service import accounts

    with _refused("weak_password"), library.db.write() as s:
        accounts.issue_password(s, library.settings, A, password)
    change = library.api.put(
        "/api/v1/me/password",
        headers=library.login(A),
        json={"current_password": PASSWORD, "new_password": password},
    )
    assert change.status_code == 422 and change.json()["code"] == "weak_password"
    token = _reset_token(library)
    reset = library.api.post(
        "/api/v1/password-reset/confirm", json={"token": token, "new_password": password}
    )
    assert reset.status_code == 422 and reset.json()["code"] == "weak_password"
    library.login(A)  # nothing was changed


def test_1_the_refusal_states_the_rule_in_japanese_and_english(library):
    from libcli.server import security

    response = library.api.put(
        "/api/v1/me/password",
        headers=library.login(A),
        json={"current_password": PASSWORD, "new_password": "short"},
    )
    messages = response.json()["messages"]
    minimum = str(security.MIN_PASSWORD)
    assert f"{minimum}文字以上" in messages["ja"] and "利用者カードの番号" in messages["ja"]
    assert f"at least {minimum} characters" in messages["en"]
    assert "card number" in messages["en"] and "common" in messages["en"]


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


ACCOUNT_ROUTES = {
    "password": ("/api/v1/me/password", {"new_password": "a brand new phrase"}),
    "email": ("/api/v1/me/email", {"email": "hanako@example.org"}),
}


def _check_current(api, headers, route, current):
    path, body = ACCOUNT_ROUTES[route]
    return api.put(path, headers=headers, json={**body, "current_password": current})


@pytest.mark.parametrize("route", ACCOUNT_ROUTES)
def test_2_wrong_current_passwords_lock_the_card_like_failed_logins(library, cheap_argon2, route):
    from libcli.server.service import accounts

    stolen = library.login(A)  # a session in the wrong hands guesses the password
    for n in range(accounts.MAX_FAILED_LOGINS):
        wrong = _check_current(library.api, stolen, route, f"guess {n}")
        assert wrong.status_code == 403 and wrong.json()["code"] == "wrong_password"
    # The card is locked: no more guesses are checked, not even the right one...
    locked = _check_current(library.api, stolen, route, PASSWORD)
    assert locked.status_code == 429 and locked.json()["code"] == "rate_limited"
    assert 0 < int(locked.headers["Retry-After"]) <= accounts.LOCK_MINUTES * 60
    # ...and login is locked too, until the lock lifts by itself.
    assert _login(library.api, A).status_code == 401
    later = library.settings.now() + dt.timedelta(minutes=accounts.LOCK_MINUTES, seconds=1)
    assert _service_login(library, A, now=later)
    assert library.api.get("/api/v1/me", headers=stolen).json()["email"] == "hanako@example.com"


@pytest.mark.parametrize("route", ACCOUNT_ROUTES)
def test_2_wrong_current_passwords_count_toward_the_address_throttle(library, cheap_argon2, route):
    settings = replace(library.settings, address_failed_logins=3)
    with _app(settings, library.db) as api:
        stolen = library.login(A)
        for n in range(3):
            assert _check_current(api, stolen, route, f"guess {n}").status_code == 403
        throttled = _check_current(api, stolen, route, "guess 4")
        assert throttled.status_code == 429 and throttled.json()["code"] == "rate_limited"
        assert _login(api, B).status_code == 429  # login from the same address waits too


def test_2_a_right_current_password_resets_the_failure_count(library, cheap_argon2):
    from libcli.server.service import accounts

    headers = library.login(A)
    for n in range(accounts.MAX_FAILED_LOGINS - 1):
        assert _check_current(library.api, headers, "email", f"guess {n}").status_code == 403
    assert _check_current(library.api, headers, "email", PASSWORD).status_code == 200
    for n in range(accounts.MAX_FAILED_LOGINS - 1):
        assert _login(library.api, A, f"wrong {n}").status_code == 401
    assert _login(library.api, A).status_code == 200


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


def test_3_unknown_card_wrong_password_and_locked_card_answer_alike_after_one_argon2_check(
    library, monkeypatch
):
    """The same answer, and the same work behind it: exactly one argon2 verification each
    (an unknown card is checked against a dummy hash). Their time under parallel clients
    is measured in bench/login_timing.py."""
    from libcli.server import security
    from libcli.server.service import accounts

    verified = []
    real = security._hasher

    class Counting:
        def verify(self, stored, password):
            verified.append(stored)
            return real.verify(stored, password)

        def hash(self, password):
            return real.hash(password)

    monkeypatch.setattr(security, "_hasher", Counting())
    settings = replace(library.settings, address_failed_logins=10_000)
    with _app(settings, library.db) as api:
        answers = {}
        for case, card, password in (
            ("unknown", "700000000", "not the password"),
            ("wrong", B, "not the password"),
        ):
            verified.clear()
            answers[case] = _login(api, card, password)
            assert len(verified) == 1, case
        for n in range(accounts.MAX_FAILED_LOGINS):
            _login(api, A, f"wrong {n}")
        verified.clear()
        answers["locked"] = _login(api, A)  # the right password on a locked card
        assert len(verified) == 1
    first = answers["unknown"]
    for response in answers.values():
        assert (response.status_code, response.text) == (first.status_code, first.text)
        for header in ("content-type", "www-authenticate", "content-length"):
            assert response.headers.get(header) == first.headers.get(header)


def _row_lock_free(database_url: str, card: str) -> bool:
    """Whether another connection can lock the patron's row for writing right now."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        import sqlite3

        connection = sqlite3.connect(url.database, timeout=0.2, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("UPDATE patron SET name = name WHERE card = ?", (card,))
            connection.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            connection.close()
    import psycopg

    with psycopg.connect(
        host=url.host, port=url.port or 5432, user=url.username, dbname=url.database
    ) as connection:
        try:
            connection.execute("SET lock_timeout = '200ms'")
            connection.execute("SELECT 1 FROM patron WHERE card = %s FOR UPDATE", (card,))
            return True
        except psycopg.errors.LockNotAvailable:
            return False


@pytest.mark.parametrize("check", ["login", "current_password"])
def test_3_no_lock_is_held_while_argon2_checks_a_password(library, monkeypatch, check):
    """Parallel guesses at one real card do not queue behind each other's argon2 (which
    would make them slower than guesses at unknown cards): while the hash is checked,
    neither the patron's row (PostgreSQL) nor the write lock (SQLite) is held."""
    from libcli.server import security

    real = security._hasher
    free_during_check = []

    class Probing:
        def verify(self, stored, password):
            free_during_check.append(_row_lock_free(library.settings.database_url, A))
            return real.verify(stored, password)

        def hash(self, password):
            return real.hash(password)

    headers = library.login(A) if check == "current_password" else None
    monkeypatch.setattr(security, "_hasher", Probing())
    if check == "login":
        assert _login(library.api, A, "a wrong guess").status_code == 401
        assert _login(library.api, A).status_code == 200
    else:
        assert _check_current(library.api, headers, "email", "a wrong guess").status_code == 403
        assert _check_current(library.api, headers, "email", PASSWORD).status_code == 200
    assert free_during_check == [True, True]


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
            row = accounts.authenticate(s, library.settings, token, when)
            accounts.touch_session(s, row.token_hash, when)
    with library.db.read() as s, _refused("auth_required"):
        accounts.authenticate(s, library.settings, token, absolute)


def test_4_documented_session_limits():
    from libcli.server.settings import Config

    fields = Config.model_fields  # the one place of each default
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
    accounts.request_password_reset(
        library.db, library.settings, A, "hanako@example.com", client=None, now=now
    )()  # the work after the answer, here at once
    body = [m for m in library.mails() if m["kind"] == "password_reset"][-1]["body"]
    token = re.search(r"token=([A-Za-z0-9_\-]+)", body).group(1)
    assert "30" in body  # the mail tells the patron how long the link works
    late, in_time = now + ttl + dt.timedelta(seconds=1), now + ttl - dt.timedelta(seconds=1)
    with _refused("invalid_token"):
        accounts.reset_password(library.db, library.settings, token, "too late for this", late)
    # still within the TTL: it works
    accounts.reset_password(library.db, library.settings, token, "just in time now", in_time)


def _confirm(library, token, password="set from the mail link"):
    return library.api.post(
        "/api/v1/password-reset/confirm", json={"token": token, "new_password": password}
    )


def test_4_a_new_reset_link_ends_the_older_ones(library):
    older = _reset_token(library)
    newer = _reset_token(library)
    refused = _confirm(library, older)
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_token"
    assert _confirm(library, newer).status_code == 204


def test_4_using_a_reset_link_ends_every_other_link_of_the_card(library):
    from libcli.server import security
    from libcli.server.db.models import PasswordReset

    token = _reset_token(library)
    now = library.settings.now()
    other = security.new_token()  # one more outstanding link, as from before this rule
    with library.db.write() as s:
        s.add(
            PasswordReset(
                token_hash=security.token_hash(other),
                card=A,
                created_at=now,
                expires_at=now + dt.timedelta(minutes=30),
            )
        )
    assert _confirm(library, token).status_code == 204
    refused = _confirm(library, other, "and yet another one")
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_token"


@pytest.mark.parametrize("how", ["patron_changes_it", "staff_issue_a_new_one"])
def test_4_a_password_change_ends_outstanding_reset_links(library, how):
    from libcli.server.service import accounts

    token = _reset_token(library)
    if how == "patron_changes_it":
        response = library.api.put(
            "/api/v1/me/password",
            headers=library.login(A),
            json={"current_password": PASSWORD, "new_password": "a brand new phrase"},
        )
        assert response.status_code == 204
    else:
        with library.db.write() as s:
            accounts.issue_password(s, library.settings, A, "issued at the counter")
    refused = _confirm(library, token)
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_token"


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
