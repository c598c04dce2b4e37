"""The renew button (延長) beside each loan on the status page."""

from __future__ import annotations

from tests.web.conftest import CARD_A, csrf_of, page_login


def test_renew_button_renews_once_then_shows_the_refusal(library, pages, holds):
    page_login(pages, CARD_A)
    page = pages.get("/status").text
    assert 'name="barcode" value="T-KOKORO-2"' in page and "延長する" in page
    csrf = csrf_of(page)
    done = pages.post("/status/renew", data={"barcode": "T-KOKORO-2", "csrf": csrf})
    assert done.status_code == 303
    assert "貸出を延長しました。" in pages.get(done.headers["location"]).text
    again = pages.post("/status/renew", data={"barcode": "T-KOKORO-2", "csrf": csrf, "lang": "en"})
    assert again.status_code == 409
    assert "renewed as often as the library allows" in again.text
    forged = pages.post("/status/renew", data={"barcode": "T-KOKORO-2", "csrf": "0" * 64})
    assert forged.status_code == 403
    (loan,) = library.status(library.login(CARD_A))["loans"]
    assert loan["renewals_left"] == 0
