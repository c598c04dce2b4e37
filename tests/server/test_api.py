"""The HTTP API over a real database (SQLite and PostgreSQL): every rule the backend owns."""

from __future__ import annotations

import datetime as dt

from tests.server.conftest import PASSWORD

A, B, C = "100000001", "100000002", "100000003"


def test_r1_login_with_card_number_and_password(library):
    ok = library.api.post("/api/v1/auth/login", json={"card": A, "password": PASSWORD})
    assert ok.status_code == 200
    assert len(ok.json()["token"]) >= 22  # 128 bits or more, URL-safe
    wrong = library.api.post("/api/v1/auth/login", json={"card": A, "password": "nope-nope"})
    unknown = library.api.post(
        "/api/v1/auth/login", json={"card": "999999999", "password": "x" * 9}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.headers["content-type"].startswith("application/problem+json")
    assert wrong.json()["code"] == "invalid_credentials"
    assert set(wrong.json()["messages"]) == {"ja", "en"}


def test_r1_card_number_is_exactly_nine_ascii_digits(library):
    for card in ("１２３４５６７８９", "12345678", "1234567890", "12_345_678", "100000001\n"):
        response = library.api.post("/api/v1/auth/login", json={"card": card, "password": PASSWORD})
        # Refused by the request's shape, before any password is checked.
        assert response.status_code == 422, card
        assert response.json()["code"] == "invalid_request", card


def test_r2_password_issued_at_the_counter_is_usable_the_same_day(library):
    from libcli.server.service import accounts

    with library.db.write() as s:
        accounts.add_patron(s, library.settings, "012345678", "新規 利用者")
        issued = accounts.issue_password(s, library.settings, "012345678")
    headers = library.login("012345678", issued)
    assert library.api.get("/api/v1/me", headers=headers).json()["card"] == "012345678"


def test_r2_patron_without_issued_password_cannot_log_in(library):
    from libcli.server.service import accounts

    with library.db.write() as s:
        accounts.add_patron(s, library.settings, "200000000", "未発行")
    response = library.api.post(
        "/api/v1/auth/login", json={"card": "200000000", "password": "x" * 10}
    )
    assert response.status_code == 401


def test_auth_required_for_patron_routes(library):
    for method, path in [
        ("get", "/api/v1/status"),
        ("get", "/api/v1/favorites"),
        ("get", "/api/v1/me"),
        ("delete", "/api/v1/reservations/1"),
    ]:
        response = getattr(library.api, method)(path)
        assert response.status_code == 401
        assert response.json()["code"] == "auth_required"
    bad = library.api.get("/api/v1/me", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401


def test_r5_r6_r7_r8_verdicts_in_search_and_detail(library):
    found = library.api.get("/api/v1/catalog/search", params={"q": "漱石"}).json()
    verdicts = {item["id"]: item["reason"] for item in found["items"]}
    assert verdicts == {"T-NEKO": None, "T-KOKORO": "on_shelf"}
    detail = library.api.get("/api/v1/catalog/titles/T-KOKORO").json()
    assert detail["available"] == 1 and detail["reservable"] is False
    assert {c["state"] for c in detail["copies"]} == {"on_loan", "on_shelf"}
    assert library.api.get("/api/v1/catalog/titles/T-SHISHI").json()["reason"] == "reference_only"
    assert library.api.get("/api/v1/catalog/titles/M-BUNSHUN").json()["reason"] == "not_a_book"
    assert library.api.get("/api/v1/catalog/titles/NOPE").status_code == 404


def test_r9_each_title_decided_on_its_own(library):
    headers = library.login(A)
    result = library.reserve(headers, "T-NEKO", "T-KOKORO", "T-SHISHI", "M-BUNSHUN", "NOPE").json()
    assert [r["id"] for r in result["reserved"]] == ["T-NEKO"]
    assert {s["id"]: s["reason"] for s in result["skipped"]} == {
        "T-KOKORO": "on_shelf",
        "T-SHISHI": "reference_only",
        "M-BUNSHUN": "not_a_book",
        "NOPE": "not_found",
    }


def test_r10_reserved_titles_leave_favorites_and_confirmation_is_mailed(library):
    headers = library.login(A)
    for title_id in ("T-NEKO", "T-KOKORO"):
        assert library.api.put(f"/api/v1/favorites/{title_id}", headers=headers).status_code == 201
        assert library.api.put(f"/api/v1/favorites/{title_id}", headers=headers).status_code == 204
    favorites = library.api.get("/api/v1/favorites", headers=headers).json()["items"]
    assert {f["id"]: f["reservable"] for f in favorites} == {"T-NEKO": True, "T-KOKORO": False}
    result = library.reserve(headers, "T-NEKO", "T-KOKORO", email_confirmation=True).json()
    assert [r["id"] for r in result["reserved"]] == ["T-NEKO"]
    left = library.api.get("/api/v1/favorites", headers=headers).json()["items"]
    assert [f["id"] for f in left] == ["T-KOKORO"]
    mails = [m for m in library.mails() if m["to"] == "hanako@example.com"]
    assert len(mails) == 1 and "吾輩は猫である" in mails[0]["body"]


def test_r10_no_confirmation_mail_unless_asked(library):
    headers = library.login(A)
    library.reserve(headers, "T-NEKO")
    assert library.mails() == []


def test_r3_at_most_ten_reservations_counter_ones_included(library):
    from libcli.server.service import reservations

    with library.db.write() as s:
        reservations.place(
            s, library.settings, A, ["M-BUNSHUN"], pickup="main", contact="phone", via="counter"
        )
    headers = library.login(A)
    result = library.reserve(headers, *[f"T-{n:02d}" for n in range(1, 12)]).json()
    assert len(result["reserved"]) == 9
    assert [s["reason"] for s in result["skipped"]] == ["limit_reached", "limit_reached"]
    assert len(library.status(headers)["reservations"]) == 10


def test_r21_no_two_reservations_of_one_title(library):
    headers = library.login(A)
    assert len(library.reserve(headers, "T-NEKO").json()["reserved"]) == 1
    again = library.reserve(headers, "T-NEKO").json()
    assert again["skipped"] == [
        {"id": "T-NEKO", "title": "吾輩は猫である", "reason": "already_reserved"}
    ]


def test_r13_r19_email_contact_needs_a_registered_address(library):
    headers = library.login(B)
    response = library.reserve(headers, "T-NEKO", contact="email")
    assert response.status_code == 422 and response.json()["code"] == "email_required"
    asked = library.reserve(headers, "T-NEKO", contact="phone", email_confirmation=True)
    assert asked.json()["code"] == "email_required"
    assert library.status(headers)["reservations"] == []  # a refused request changed nothing


def test_r11_usage_status_shows_loans_and_reservations_with_queue_position(library):
    first, second = library.login(A), library.login(B)
    library.reserve(first, "T-NEKO")
    library.reserve(second, "T-NEKO", pickup="nango")
    borrower = library.status(library.login(C))
    assert len(borrower["loans"]) == 15
    assert borrower["loans"][0]["due_date"] == (library.today + dt.timedelta(days=11)).isoformat()
    mine = library.status(second)["reservations"]
    assert mine[0]["status"] == "waiting" and mine[0]["position"] == 2
    assert mine[0]["pickup"] == "nango" and mine[0]["contact"] == "phone"


def test_r22_returned_copy_goes_to_the_first_waiting_reservation(library):
    first, second = library.login(A), library.login(B)
    library.reserve(first, "T-NEKO", pickup="main", contact="email")
    library.reserve(second, "T-NEKO", pickup="main")
    result = library.checkin("T-NEKO-1", at="main")
    assert result["reservation_status"] == "ready"
    assert library.status(first)["reservations"][0]["status"] == "ready"
    assert library.status(second)["reservations"][0]["position"] == 1
    # R13/R18: the email patron is told, with the status URL.
    ready = [m for m in library.mails() if m["to"] == "hanako@example.com"]
    assert len(ready) == 1 and "https://library.example/status" in ready[0]["body"]
    # The copy is held, not on the shelf: the title stays reservable online (R8).
    assert library.api.get("/api/v1/catalog/titles/T-NEKO").json()["reservable"] is True


def test_r22_copy_travels_to_another_pickup_point_and_is_ready_on_arrival(library):
    headers = library.login(A)
    reservation = library.reserve(headers, "T-NEKO", pickup="nango").json()["reserved"][0]
    assert library.checkin("T-NEKO-1", at="main")["reservation_status"] == "in_transit"
    assert library.status(headers)["reservations"][0]["status"] == "in_transit"
    arrived = library.checkin("T-NEKO-1", at="nango", today=library.today + dt.timedelta(days=1))
    assert arrived["reservation_id"] == reservation["reservation_id"]
    assert arrived["reservation_status"] == "ready"


def test_r12_ready_reservation_cannot_be_cancelled_online(library):
    headers = library.login(A)
    rid = library.reserve(headers, "T-NEKO").json()["reserved"][0]["reservation_id"]
    library.checkin("T-NEKO-1")
    response = library.api.delete(f"/api/v1/reservations/{rid}", headers=headers)
    assert response.status_code == 409
    assert response.json()["code"] == "ready_cannot_cancel"
    assert response.json()["phone"] == "0178-22-0266"


def test_r12_waiting_reservation_is_cancelled_online(library):
    headers = library.login(A)
    rid = library.reserve(headers, "T-NEKO").json()["reserved"][0]["reservation_id"]
    assert library.api.delete(f"/api/v1/reservations/{rid}", headers=headers).status_code == 204
    assert library.status(headers)["reservations"] == []
    again = library.api.delete(f"/api/v1/reservations/{rid}", headers=headers)
    assert (again.status_code, again.json()["code"]) == (409, "already_cancelled")
    other = library.api.delete(f"/api/v1/reservations/{rid}", headers=library.login(B))
    assert other.status_code == 404  # not B's: nothing is told about it


def test_r12_cancelled_transit_hands_the_copy_to_the_next_in_queue(library):
    first, second = library.login(A), library.login(B)
    rid = library.reserve(first, "T-NEKO", pickup="nango").json()["reserved"][0]["reservation_id"]
    library.reserve(second, "T-NEKO", pickup="main")
    library.checkin("T-NEKO-1", at="main")
    assert library.api.delete(f"/api/v1/reservations/{rid}", headers=first).status_code == 204
    assert library.status(second)["reservations"][0]["status"] == "ready"


def test_one_patron_cannot_touch_another_patrons_reservations(library):
    owner, other = library.login(A), library.login(B)
    rid = library.reserve(owner, "T-NEKO").json()["reserved"][0]["reservation_id"]
    assert library.api.delete(f"/api/v1/reservations/{rid}", headers=other).status_code == 404
    assert library.status(other)["reservations"] == []
    assert len(library.status(owner)["reservations"]) == 1


def test_r14_ready_hold_kept_ten_open_days_and_expires_on_the_eleventh(library):
    from libcli.server import calendar
    from libcli.server.service.daily import run_daily

    today = library.today
    day = dt.timedelta(days=1)
    closed = today + 6 * day  # main closes on that weekday: once in the next ten days
    with library.db.write() as s:
        calendar.set_point_calendar(
            s,
            "main",
            weekly_closed=[closed.weekday()],
            closed_on_holidays=False,
            monday_holiday_shift=False,
        )
    first, second = library.login(A), library.login(B)
    library.reserve(first, "T-NEKO", contact="email")
    library.reserve(second, "T-NEKO")
    library.checkin("T-NEKO-1", at="main")  # the mail goes today: the contact day
    hold = library.status(first)["reservations"][0]
    last_day = today + 11 * day  # ten open days after the contact day, one of 11 closed
    assert hold["pickup_deadline"] == last_day.isoformat()
    kept = run_daily(library.db, library.settings, last_day)
    assert kept["expired"] == 0
    gone = run_daily(library.db, library.settings, last_day + day)
    assert gone == {
        "date": (last_day + day).isoformat(),
        "expired": 1,
        "promoted": 1,
        "reminded": 0,
    }
    assert library.status(first)["reservations"] == []
    nxt = library.status(second)["reservations"][0]
    assert nxt["status"] == "ready" and nxt["pickup_deadline"] is None  # phone: not yet called
    again = run_daily(library.db, library.settings, last_day + day)
    assert again["expired"] == 0 and again["promoted"] == 0  # idempotent


def test_r14_phone_contact_day_is_the_day_staff_record_the_call(library):
    from libcli.server.service import circulation

    headers = library.login(A)
    rid = library.reserve(headers, "T-NEKO", contact="phone").json()["reserved"][0][
        "reservation_id"
    ]
    library.checkin("T-NEKO-1")
    assert library.status(headers)["reservations"][0]["pickup_deadline"] is None
    with library.db.write() as s:
        circulation.contacted(s, library.settings, rid, library.today + dt.timedelta(days=2))
    deadline = library.today + dt.timedelta(days=12)  # ten days after the call; no closed days
    assert library.status(headers)["reservations"][0]["pickup_deadline"] == deadline.isoformat()


def test_r15_email_change_needs_password_and_sends_the_completion_mail(library):
    headers = library.login(A)
    wrong = library.api.put(
        "/api/v1/me/email",
        headers=headers,
        json={"email": "new@example.com", "current_password": "bad-bad-bad"},
    )
    assert wrong.status_code == 403 and wrong.json()["code"] == "wrong_password"
    ok = library.api.put(
        "/api/v1/me/email",
        headers=headers,
        json={"email": "new@example.com", "current_password": PASSWORD},
    )
    assert ok.status_code == 200 and ok.json()["email"] == "new@example.com"
    mails = library.mails()
    completed = [m for m in mails if m["to"] == "new@example.com"]
    assert "メールアドレス変更完了のお知らせ" in completed[0]["subject"]
    assert any(m["to"] == "hanako@example.com" for m in mails)  # the old address is told


def test_r16_password_change_ends_other_sessions(library):
    here, elsewhere = library.login(A), library.login(A)
    response = library.api.put(
        "/api/v1/me/password",
        headers=here,
        json={"current_password": PASSWORD, "new_password": "a new long secret"},
    )
    assert response.status_code == 204
    assert library.api.get("/api/v1/me", headers=here).status_code == 200
    assert library.api.get("/api/v1/me", headers=elsewhere).status_code == 401
    library.login(A, "a new long secret")


def test_r17_forgotten_password_by_card_and_email(library):
    import re

    answers = [
        library.api.post("/api/v1/password-reset", json={"card": A, "email": "hanako@example.com"}),
        library.api.post("/api/v1/password-reset", json={"card": A, "email": "wrong@example.com"}),
        library.api.post(
            "/api/v1/password-reset", json={"card": "999999999", "email": "x@example.com"}
        ),
    ]
    assert {(r.status_code, r.text) for r in answers} == {(202, answers[0].text)}
    mails = library.mails()
    assert len(mails) == 1
    token = re.search(r"/reset\?token=([A-Za-z0-9_\-]+)", mails[0]["body"]).group(1)
    confirm = {"token": token, "new_password": "reset by mail link"}
    assert library.api.post("/api/v1/password-reset/confirm", json=confirm).status_code == 204
    library.login(A, "reset by mail link")
    used = library.api.post("/api/v1/password-reset/confirm", json=confirm)
    assert used.status_code == 400 and used.json()["code"] == "invalid_token"


def test_logout_revokes_the_token(library):
    headers = library.login(A)
    assert library.api.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert library.api.get("/api/v1/me", headers=headers).status_code == 401


def test_library_profile_and_openapi(library):
    info = library.api.get("/api/v1/library").json()
    assert [p["code"] for p in info["points"]] == ["main", "nango", "center"]
    assert info["points"][1]["name"] == {"ja": "南郷図書館", "en": "Nango Library"}
    assert info["contact_methods"] == ["phone", "email", "ring", "voicemail", "none"]
    assert info["reservation_limit"] == 10 and info["phone"] == "0178-22-0266"
    schema = library.api.get("/openapi.json").json()
    assert "/api/v1/reservations" in schema["paths"]
    # the profile, not the schema, says which points there are
    pickup = schema["components"]["schemas"]["ReserveRequest"]["properties"]["pickup"]
    assert pickup["type"] == "string" and "enum" not in pickup


def test_a_profile_offers_only_contact_methods_the_service_carries_out(tmp_path):
    import pytest

    from libcli.server.profile import load_profile

    base = """
[library]
name_ja = "x"
name_en = "x"
phone = "0"
mail_domain = "x.example"
[rules]
contact_methods = {methods}
[[points]]
code = "a"
name_ja = "A"
name_en = "A"
"""
    good = tmp_path / "good.toml"
    good.write_text(base.format(methods='["email", "none"]'), encoding="utf-8")
    assert load_profile(good).contact_methods == ("email", "none")
    bad = tmp_path / "bad.toml"
    bad.write_text(base.format(methods='["pigeon"]'), encoding="utf-8")
    with pytest.raises(ValueError, match="pigeon"):
        load_profile(bad)


def test_bad_input_is_a_problem_not_a_crash(library):
    headers = library.login(A)
    response = library.reserve(headers, "T-NEKO", pickup="tokyo")
    assert response.status_code == 422 and response.json()["code"] == "invalid_request"
    assert library.status(headers)["reservations"] == []


def test_r21_r3_verdict_is_the_patrons_own_when_logged_in(library):
    headers = library.login(A)
    library.reserve(headers, "T-NEKO")
    mine = library.api.get("/api/v1/catalog/titles/T-NEKO", headers=headers).json()
    anyone = library.api.get("/api/v1/catalog/titles/T-NEKO").json()
    assert (mine["reason"], anyone["reason"]) == ("already_reserved", None)
    library.reserve(headers, *[f"T-{n:02d}" for n in range(1, 10)])
    library.api.put("/api/v1/favorites/T-10", headers=headers)
    favorites = library.api.get("/api/v1/favorites", headers=headers).json()["items"]
    assert favorites[0]["reason"] == "limit_reached"  # shown in red before reserving (R9)
    borrower = library.api.get(
        "/api/v1/catalog/search", params={"q": "猫"}, headers=library.login(C)
    ).json()
    assert borrower["items"][0]["reason"] == "borrowed_by_you"
