"""The patron pages through the TestClient: forms, cookies, CSRF, used and expired links."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

import pytest
from sqlalchemy import update

from tests.web.conftest import CARD_A, CARD_B, PASSWORD, csrf_of, page_login

NEW_PASSWORD = "a new and long passphrase"
PHONE = "0178-22-0266"


def reset_token(library, card: str = CARD_A, email: str = "hanako@example.com") -> str:
    response = library.api.post("/api/v1/password-reset", json={"card": card, "email": email})
    assert response.status_code == 202
    bodies = [m["body"] for m in library.mails() if m["kind"] == "password_reset"]
    found = re.search(r"https://library\.example/reset\?token=([A-Za-z0-9_%-]+)", bodies[-1])
    assert found, bodies[-1]
    return found.group(1)


def api_login_status(library, card: str, password: str) -> int:
    response = library.api.post("/api/v1/auth/login", json={"card": card, "password": password})
    return response.status_code


# -- R17: the password reset page ------------------------------------------------------


def test_r17_reset_link_opens_a_form_in_japanese(library, pages):
    token = reset_token(library)
    page = pages.get(f"/reset?token={token}")
    assert page.status_code == 200
    assert '<html lang="ja">' in page.text
    assert '<label for="password">新しいパスワード</label>' in page.text
    assert '<label for="password_again">新しいパスワード（確認）</label>' in page.text
    assert f'name="token" value="{token}"' in page.text
    assert 'autocomplete="new-password"' in page.text


def test_r17_reset_sets_the_password_uses_the_link_and_ends_every_session(library, pages):
    token = reset_token(library)
    api_session = library.login(CARD_A)
    assert page_login(pages, CARD_A).status_code == 303
    done = pages.post(
        "/reset", data={"token": token, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    )
    assert done.status_code == 200, done.text
    assert "パスワードを設定しました" in done.text
    assert re.search(r"libcli_session=\"?\"?;", done.headers["set-cookie"])  # cleared
    # Every session ended: the CLI's bearer token and the page's cookie alike.
    assert library.api.get("/api/v1/me", headers=api_session).status_code == 401
    assert "ログイン" in pages.get("/status").text
    assert api_login_status(library, CARD_A, PASSWORD) == 401
    assert api_login_status(library, CARD_A, NEW_PASSWORD) == 200
    # The link works once.
    again = pages.get(f"/reset?token={token}")
    assert again.status_code == 400
    assert "このリンクはすでに使われています" in again.text
    assert 'name="password"' not in again.text
    reused = pages.post(
        "/reset", data={"token": token, "password": "yet another one!", "password_again": "x"}
    )
    assert reused.status_code == 400
    assert api_login_status(library, CARD_A, NEW_PASSWORD) == 200


def test_r17_reset_refuses_different_and_weak_passwords_and_keeps_the_link(library, pages):
    token = reset_token(library)
    differ = pages.post(
        "/reset", data={"token": token, "password": NEW_PASSWORD, "password_again": "other one!"}
    )
    assert differ.status_code == 422
    assert "2つのパスワードが一致しません" in differ.text
    weak = pages.post(
        "/reset?lang=en", data={"token": token, "password": "short", "password_again": "short"}
    )
    assert weak.status_code == 422
    assert "This password cannot be used" in weak.text  # errors.MESSAGES, in English
    assert 'aria-invalid="true"' in weak.text
    assert pages.get(f"/reset?token={token}").status_code == 200  # not used up
    assert api_login_status(library, CARD_A, PASSWORD) == 200


def test_r17_expired_link_says_it_expired(library, pages):
    from libcli.server.db.models import PasswordReset

    token = reset_token(library)
    with library.db.write() as session:
        session.execute(
            update(PasswordReset).values(expires_at=library.settings.now() - dt.timedelta(1))
        )
    page = pages.get(f"/reset?token={token}&lang=en")
    assert page.status_code == 400
    assert "This link has expired" in page.text
    assert "30 minutes" in page.text
    assert 'href="/reset/request"' in page.text
    posted = pages.post(
        "/reset", data={"token": token, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    )
    assert posted.status_code == 400
    assert api_login_status(library, CARD_A, PASSWORD) == 200


def test_r17_unknown_link_is_refused(pages):
    page = pages.get("/reset?token=not-a-token")
    assert page.status_code == 400
    assert "このリンクは無効です" in page.text
    assert pages.get("/reset").status_code == 400


def test_r17_forgot_form_mails_a_link_built_from_the_public_url_not_the_host(library, pages):
    sent = pages.post(
        "/reset/request",
        data={"card": CARD_A, "email": "hanako@example.com"},
        headers={"Host": "attacker.example"},
    )
    assert sent.status_code == 200
    assert "受け付けました" in sent.text
    body = [m for m in library.mails() if m["kind"] == "password_reset"][-1]["body"]
    assert "https://library.example/reset?token=" in body
    assert "attacker.example" not in body
    # The same answer when the pair does not match (R17).
    other = pages.post("/reset/request", data={"card": CARD_B, "email": "nobody@example.com"})
    assert other.status_code == 200
    assert "受け付けました" in other.text


def test_r18_reservation_mails_link_the_status_page_of_the_public_url(library):
    headers = library.login(CARD_A)
    response = library.reserve(headers, "T-03", contact="email", email_confirmation=True)
    assert response.status_code == 200
    body = [m for m in library.mails() if m["kind"] == "reservation_confirmation"][-1]["body"]
    assert "https://library.example/status" in body
    library.checkin("T-03-1", "main")
    ready = [m for m in library.mails() if m["kind"] == "hold_ready"][-1]["body"]
    assert "https://library.example/status" in ready


# -- R18: the status page: login, cookie, CSRF -----------------------------------------


def test_r18_status_asks_for_card_and_password_without_a_session(pages):
    page = pages.get("/status")
    assert page.status_code == 200
    assert '<label for="card">利用者カードの番号</label>' in page.text
    assert '<label for="password">パスワード</label>' in page.text
    assert 'autocomplete="current-password"' in page.text
    csrf_cookie = page.headers["set-cookie"]
    assert "libcli_login_csrf=" in csrf_cookie and "HttpOnly" in csrf_cookie


def test_r18_login_sets_an_httponly_secure_lax_cookie_holding_a_session(library, pages):
    response = page_login(pages, CARD_A)
    assert response.status_code == 303
    assert response.headers["location"] == "/status"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("libcli_session=")
    )
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    assert "samesite=lax" in cookie.lower()
    token = cookie.split(";")[0].split("=", 1)[1]
    # The cookie holds a bearer token of the same session table the API uses.
    me = library.api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["card"] == CARD_A
    page = pages.get("/status")
    assert "青森 花子 様（カード 100000001）" in page.text


def test_r18_cookie_is_not_secure_when_served_over_plain_http(settings, db, library):
    from fastapi.testclient import TestClient

    from libcli.server.api.app import create_app

    plain = replace(settings, public_url="http://127.0.0.1:8765")
    with TestClient(create_app(plain, db), follow_redirects=False) as client:
        response = page_login(client, CARD_A)
    assert response.status_code == 303
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("libcli_session=")
    )
    assert "HttpOnly" in cookie and "Secure" not in cookie


def test_r1_wrong_password_is_refused_in_the_page_language(library, pages):
    page = pages.get("/status?lang=en")
    response = pages.post(
        "/login", data={"card": CARD_A, "password": "wrong password", "csrf": csrf_of(page.text)}
    )
    assert response.status_code == 401
    assert "The card number or password is wrong." in response.text
    assert "libcli_session" not in response.headers.get("set-cookie", "")


def test_login_without_the_csrf_cookie_is_refused(library, pages):
    pages.get("/status")
    pages.cookies.clear()
    response = pages.post("/login", data={"card": CARD_A, "password": PASSWORD, "csrf": "forged"})
    assert response.status_code == 403
    assert "libcli_session" not in response.headers.get("set-cookie", "")


def test_r11_status_shows_loans_and_reservations_like_libcli_status(library, pages, holds):
    page_login(pages, CARD_A)
    page = pages.get("/status").text
    assert "予約待ち（2番目）" in page  # B reserved T-01 first
    assert "回送中" in page
    ready = re.search(r"受取可（(\d{4})年(\d+)月(\d+)日\(.\)まで）", page)
    assert ready, page
    assert "南郷図書館" in page and "八戸市立図書館" in page
    assert "メール" in page and "電話" in page
    assert "こころ" in page and "返却期限" in page  # the loan of T-KOKORO-2
    english = pages.get("/status?lang=en").text
    assert "Waiting (No. 2 in the queue)" in english
    assert "On its way to the pickup point" in english
    assert re.search(r"Ready for pickup \(until \w{3} \d+ \w{3} \d{4}\)", english)
    assert "Nango Library" in english


def test_r12_ready_reservation_has_no_cancel_button_but_the_phone_number(library, pages, holds):
    page_login(pages, CARD_A)
    page = pages.get("/status").text
    blocks = {
        int(m.group(1)): m.group(0)
        for m in re.finditer(r'<li class="card" id="reservation-(\d+)".*?</li>', page, re.S)
    }
    assert len(blocks) == 3
    assert 'action="/status/cancel"' not in blocks[holds["T-NEKO"]]
    assert PHONE in blocks[holds["T-NEKO"]]
    for waiting in (holds["T-01"], holds["T-02"]):
        assert 'action="/status/cancel"' in blocks[waiting]
    # A cancel forced past the page is refused by the library, with the phone number.
    forced = pages.post(
        "/status/cancel",
        data={"reservation": holds["T-NEKO"], "csrf": csrf_of(page), "confirm": "yes"},
    )
    assert forced.status_code == 409
    assert "受取可になった予約はインターネットから取り消せません" in forced.text
    assert PHONE in forced.text
    statuses = {r["id"]: r["status"] for r in library.status(library.login(CARD_A))["reservations"]}
    assert statuses["T-NEKO"] == "ready"


def test_r12_cancel_a_waiting_reservation_after_confirming(library, pages, holds):
    page_login(pages, CARD_A)
    csrf = csrf_of(pages.get("/status").text)
    ask = pages.post("/status/cancel", data={"reservation": holds["T-01"], "csrf": csrf})
    assert ask.status_code == 200
    assert "次の予約を取り消します。よろしいですか？" in ask.text
    assert 'name="confirm" value="yes"' in ask.text
    still = {r["id"] for r in library.status(library.login(CARD_A))["reservations"]}
    assert "T-01" in still
    done = pages.post(
        "/status/cancel", data={"reservation": holds["T-01"], "csrf": csrf, "confirm": "yes"}
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/status?notice=cancelled"
    assert "予約を取り消しました。" in pages.get(done.headers["location"]).text
    left = {r["id"] for r in library.status(library.login(CARD_A))["reservations"]}
    assert left == {"T-02", "T-NEKO"}


def test_r12_cancel_without_the_session_csrf_token_is_refused(library, pages, holds):
    page_login(pages, CARD_A)
    for forged in ("", "0" * 64):
        response = pages.post(
            "/status/cancel",
            data={"reservation": holds["T-01"], "csrf": forged, "confirm": "yes"},
        )
        assert response.status_code == 403
    left = {r["id"] for r in library.status(library.login(CARD_A))["reservations"]}
    assert "T-01" in left


def test_r12_another_patrons_reservation_cannot_be_cancelled(library, pages, holds):
    page_login(pages, CARD_B)
    csrf = csrf_of(pages.get("/status").text)
    response = pages.post(
        "/status/cancel", data={"reservation": holds["T-01"], "csrf": csrf, "confirm": "yes"}
    )
    assert response.status_code == 404
    left = {r["id"] for r in library.status(library.login(CARD_A))["reservations"]}
    assert "T-01" in left


def test_logout_ends_the_session_row_and_clears_the_cookie(library, pages):
    response = page_login(pages, CARD_A)
    token = pages.cookies.get("libcli_session")
    assert token
    csrf = csrf_of(pages.get("/status").text)
    out = pages.post("/logout", data={"csrf": csrf})
    assert out.status_code == 303
    assert out.headers["location"] == "/status?notice=logged_out"
    assert response.status_code == 303
    me = library.api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401
    assert "ログアウトしました。" in pages.get("/status?notice=logged_out").text


def test_logout_without_csrf_keeps_the_session(library, pages):
    page_login(pages, CARD_A)
    token = pages.cookies.get("libcli_session")
    assert pages.post("/logout", data={"csrf": "forged"}).status_code == 403
    me = library.api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200


# -- language, headers, hosts ----------------------------------------------------------


def test_english_switch_is_remembered_in_a_cookie(pages):
    page = pages.get("/status?lang=en")
    assert '<html lang="en">' in page.text
    assert 'href="/status?lang=ja"' in page.text and ">日本語<" in page.text
    assert "libcli_lang=en" in page.headers["set-cookie"]
    assert '<html lang="en">' in pages.get("/status").text
    assert '<html lang="ja">' in pages.get("/status?lang=ja").text
    assert '<html lang="ja">' in pages.get("/status").text


def test_unknown_language_falls_back_to_japanese(pages):
    assert '<html lang="ja">' in pages.get("/status?lang=xx").text


@pytest.mark.parametrize("path", ["/status", "/reset?token=x", "/reset/request"])
def test_pages_are_not_cached_framed_or_referred(pages, path):
    headers = pages.get(path).headers
    assert headers["cache-control"] == "no-store"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["content-type"].startswith("text/html")


def test_links_and_redirects_never_use_the_host_header(library, pages):
    page_login(pages, CARD_A)
    csrf = csrf_of(pages.get("/status").text)
    out = pages.post("/logout", data={"csrf": csrf}, headers={"Host": "attacker.example"})
    assert out.headers["location"].startswith("/")
    page = pages.get("/status", headers={"Host": "attacker.example"})
    assert "attacker.example" not in page.text


def test_stylesheet_is_served(pages):
    css = pages.get("/static/web.css")
    assert css.status_code == 200
    assert "text/css" in css.headers["content-type"]
