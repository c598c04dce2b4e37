"""End to end in headless Chromium against a real `libcli-server serve` (R12, R17, R18).

Debian's `chromium` and `chromium-driver` drive the pages; nothing is downloaded.
Locally the tests skip when /usr/bin/chromium is absent; under CI they fail instead.
Screenshots of both pages at phone (360 px) and desktop (1280 px) widths are written to
test-artifacts/screenshots/ at the top of the repository.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, bin_path

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CARD_A, CARD_C = "100000001", "100000003"
OLD_PASSWORD = "issued at the counter"
NEW_PASSWORD = "set from the mailed link"
PHONE = "0178-22-0266"
CATALOG = """title_id,title,author,publisher,year,type,isbn,barcode,point,loanable
T-NEKO,吾輩は猫である,夏目漱石,大倉書店,1905,book,,T-NEKO-1,main,true
T-KOKORO,こころ,夏目漱石,岩波書店,1914,book,,T-KOKORO-1,main,true
T-HOSHI,銀河鉄道の夜,宮沢賢治,文圃堂,1934,book,,T-HOSHI-1,main,true
T-SHIOSAI,潮騒,三島由紀夫,新潮社,1954,book,,T-SHIOSAI-1,nango,true
"""


def _missing(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: the browser tests must run in CI")
    pytest.skip(reason)


@pytest.fixture
def browser(tmp_path, monkeypatch):
    """Headless Chromium through chromedriver, with a fresh profile."""
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        _missing("Debian's chromium and chromium-driver are not installed")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium is not installed")
    monkeypatch.setenv("SE_OFFLINE", "true")  # never let Selenium Manager download a browser
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--lang=ja",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1280,900",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def screenshot(driver, name: str) -> None:
    """The whole page at 360 px (a phone) and 1280 px (a desktop) wide."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width, mobile in ((360, True), (1280, False)):
        metrics = {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": mobile}
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride", {**metrics, "height": max(height, 640)}
        )
        overflow = driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name} scrolls sideways at {width}px"
        driver.save_screenshot(str(SCREENSHOTS / f"{name}-{width}.png"))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def heading(driver, expected: str) -> None:
    """Wait for the next page: its h1 reads `expected` (a click does not wait for it)."""
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def shown(d):
        return d.find_element(By.TAG_NAME, "h1").text == expected

    try:
        WebDriverWait(driver, 15, ignored_exceptions=(StaleElementReferenceException,)).until(shown)
    except TimeoutException:
        pytest.fail(f"expected the heading {expected!r}, the page shows:\n{driver.page_source}")


def add_patron(live_server, card: str, name: str, email: str, password: str) -> None:
    live_server.console("patron", "add", card, "--name", name, "--email", email)
    live_server.console("patron", "issue-password", card, "--password-stdin", input=password + "\n")


def api_post(url: str, body: dict) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def libcli(live_server, tmp_path: Path, *args: str, input: str | None = None):
    """The patron's own `libcli`, configured for this server and a throwaway home."""
    home = tmp_path / "patron-home"
    env = {
        **os.environ,
        "LIBCLI_SERVER": live_server.url,
        "LIBCLI_CONFIG_DIR": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
    }
    return subprocess.run(
        [bin_path("libcli"), *args],
        input=input,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def mailed_link(live_server, kind: str, path: str, timeout: float = 20) -> str:
    """The link in the newest mail of `kind` that serve's deliverer put in the outbox folder
    (once sent, `mail list` no longer shows a reset link: docs/mail.md)."""
    import email
    import time
    from email import policy

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for eml in sorted(live_server.outbox.glob(f"*-{kind}.eml"), reverse=True):
            body = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
            found = re.search(rf"(https?://\S+{re.escape(path)}\S*)", body.get_content())
            assert found, body.get_content()
            return found.group(1)
        time.sleep(0.1)
    raise AssertionError(f"no {kind} mail delivered: {live_server.mails()}")


def test_r17_reset_link_from_the_mail_sets_a_password_for_libcli_login(
    live_server, browser, tmp_path
):
    from selenium.webdriver.common.by import By

    add_patron(live_server, CARD_A, "青森 花子", "hanako@example.com", OLD_PASSWORD)
    status, _ = api_post(
        f"{live_server.url}/api/v1/password-reset", {"card": CARD_A, "email": "hanako@example.com"}
    )
    assert status == 202
    link = mailed_link(live_server, "password_reset", "/reset?token=")
    assert link.startswith(f"{live_server.url}/reset?token=")  # the configured public URL

    browser.get(link)
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ja"
    heading(browser, "パスワードの再設定")
    screenshot(browser, "reset")
    # The English switch keeps the token and is remembered.
    browser.find_element(By.CSS_SELECTOR, "a.lang-switch").click()
    heading(browser, "Set a new password")
    browser.find_element(By.CSS_SELECTOR, "a.lang-switch").click()
    heading(browser, "パスワードの再設定")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ja"

    browser.find_element(By.ID, "password").send_keys(NEW_PASSWORD)
    browser.find_element(By.ID, "password_again").send_keys(NEW_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    heading(browser, "パスワードを設定しました")
    screenshot(browser, "reset-done")

    browser.get(link)  # single use
    heading(browser, "このリンクはすでに使われています")
    assert not browser.find_elements(By.ID, "password")

    login = libcli(live_server, tmp_path, "login", CARD_A, "--password-stdin", input=NEW_PASSWORD)
    assert login.returncode == 0, login.stdout + login.stderr
    status_out = libcli(live_server, tmp_path, "whoami")
    assert status_out.returncode == 0, status_out.stdout + status_out.stderr
    assert CARD_A in status_out.stdout + status_out.stderr
    refused = libcli(live_server, tmp_path, "login", CARD_A, "--password-stdin", input=OLD_PASSWORD)
    assert refused.returncode != 0


def test_r18_status_link_login_cancel_waiting_and_r12_ready_refused(live_server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    add_patron(live_server, CARD_A, "青森 花子", "hanako@example.com", OLD_PASSWORD)
    add_patron(live_server, CARD_C, "南郷 次郎", "jiro@example.com", "the borrower's pass")
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(CATALOG, encoding="utf-8")
    live_server.console("import-catalog", catalog, "--format", "csv")
    for barcode in ("T-NEKO-1", "T-KOKORO-1", "T-HOSHI-1"):
        live_server.console("checkout", CARD_C, barcode)
    live_server.console("checkout", CARD_A, "T-SHIOSAI-1")
    ids = {}
    for title_id, pickup, contact in (
        ("T-NEKO", "main", "email"),
        ("T-KOKORO", "nango", "phone"),
        ("T-HOSHI", "main", "none"),
    ):
        placed = live_server.console(
            "hold", "place", CARD_A, title_id, "--pickup", pickup, "--contact", contact
        )
        ids[title_id] = int(re.search(r"reservation (\d+)", placed.stdout).group(1))
    live_server.console("checkin", "T-NEKO-1", "--at", "main")  # ready at main
    live_server.console("checkin", "T-KOKORO-1", "--at", "main")  # on its way to Nango

    link = mailed_link(live_server, "hold_ready", "/status")
    assert link == f"{live_server.url}/status"  # the configured public URL (R18)

    browser.get(link)
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ja"
    heading(browser, "利用状況")
    screenshot(browser, "login")
    browser.find_element(By.ID, "card").send_keys(CARD_A)
    browser.find_element(By.ID, "password").send_keys(OLD_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    heading(browser, "利用状況")
    assert browser.find_element(By.CSS_SELECTOR, "form[action='/logout']")
    cookie = browser.get_cookie("libcli_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["secure"] is False  # plain http on this machine; https sets Secure

    def card(reservation_id):
        return browser.find_element(By.ID, f"reservation-{reservation_id}")

    ready, moving, waiting = card(ids["T-NEKO"]), card(ids["T-KOKORO"]), card(ids["T-HOSHI"])
    assert re.search(r"受取可（\d{4}年\d+月\d+日\(.\)まで）", ready.text), ready.text
    assert "回送中" in moving.text and "南郷図書館" in moving.text
    assert "予約待ち（1番目）" in waiting.text and "連絡不要" in waiting.text
    assert "潮騒" in browser.find_element(By.ID, "loans-heading").find_element(By.XPATH, "..").text
    # R12: no button on the ready one, the phone number instead.
    assert not ready.find_elements(By.CSS_SELECTOR, "button")
    assert PHONE in ready.text
    assert ready.find_element(By.CSS_SELECTOR, "a.phone").get_attribute("href") == (
        "tel:0178220266"
    )
    screenshot(browser, "status")

    waiting.find_element(By.CSS_SELECTOR, "button").click()
    heading(browser, "予約の取り消し")
    assert "銀河鉄道の夜" in browser.find_element(By.TAG_NAME, "main").text
    browser.find_element(By.CSS_SELECTOR, "button.danger").click()
    assert "予約を取り消しました。" in browser.find_element(By.CSS_SELECTOR, "[role=status]").text
    assert not browser.find_elements(By.ID, f"reservation-{ids['T-HOSHI']}")
    assert browser.find_elements(By.ID, f"reservation-{ids['T-NEKO']}")
    held = json.loads(live_server.console("hold", "list", "--json").stdout)
    assert {h["reservation_id"] for h in held} == {ids["T-NEKO"], ids["T-KOKORO"]}

    browser.find_element(By.CSS_SELECTOR, "a.lang-switch").click()
    heading(browser, "Your loans and reservations")
    assert "Hachinohe City Library" in card(ids["T-NEKO"]).text
    screenshot(browser, "status-en")

    browser.find_element(By.CSS_SELECTOR, "form[action='/logout'] button").click()
    assert browser.find_element(By.ID, "card")
    assert browser.get_cookie("libcli_session") is None
