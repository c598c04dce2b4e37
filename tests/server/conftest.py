"""A small library for API and service tests, built through the service layer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

PASSWORD = "correct horse battery"


@dataclass
class SmallLibrary:
    settings: object
    db: object
    api: object

    @property
    def today(self) -> dt.date:
        """Today by the clock the library runs on (the `clock` fixture)."""
        return self.settings.today()

    def login(self, card: str, password: str = PASSWORD) -> dict:
        response = self.api.post("/api/v1/auth/login", json={"card": card, "password": password})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}

    def reserve(self, headers, *title_ids, pickup="main", contact="phone", **extra):
        return self.api.post(
            "/api/v1/reservations",
            json={"title_ids": list(title_ids), "pickup": pickup, "contact": contact, **extra},
            headers=headers,
        )

    def checkin(self, barcode: str, at: str | None = None, today: dt.date | None = None) -> dict:
        from libcli.server.service import circulation

        with self.db.write() as session:
            return circulation.checkin(session, self.settings, barcode, at, today)

    def checkout(self, card: str, barcode: str, today: dt.date | None = None):
        from libcli.server.service import circulation

        with self.db.write() as session:
            circulation.checkout(session, self.settings, card, barcode, today)

    def mails(self) -> list[dict]:
        from libcli.server import mail

        with self.db.read() as session:
            return mail.list_mail(session)

    def status(self, headers) -> dict:
        response = self.api.get("/api/v1/status", headers=headers)
        assert response.status_code == 200, response.text
        return response.json()


def add_title(session, title_id, title, type_="book", copies=(("main", True),), author="著者"):
    from libcli.server.db.models import Copy, Title
    from libcli.server.search import store_titles

    # The title row (indexed) before its copies (no ORM relationship orders them).
    store_titles(
        session,
        [
            Title(
                id=title_id,
                title=title,
                author=author,
                publisher="出版社",
                year=2000,
                type=type_,
                isbn=None,
            )
        ],
    )
    for n, (point, loanable) in enumerate(copies, start=1):
        session.add(
            Copy(
                barcode=f"{title_id}-{n}",
                title_id=title_id,
                point=point,
                location=point,
                loanable=loanable,
                state="on_shelf",
            )
        )


@pytest.fixture
def library(settings, db, api) -> SmallLibrary:
    """Patrons A (with email), B (no email), C (the borrower who keeps books out).

    Titles: T-NEKO one copy on loan; T-KOKORO two copies, one on the shelf;
    T-SHISHI reference only; M-BUNSHUN a magazine on loan; T-01..T-12 books on loan.
    """
    from libcli.server.service import accounts, circulation

    with db.write() as s:
        accounts.add_patron(s, settings, "100000001", "青森 花子", email="hanako@example.com")
        accounts.add_patron(s, settings, "100000002", "八戸 太郎")
        accounts.add_patron(s, settings, "100000003", "南郷 次郎", email="jiro@example.com")
        for card in ("100000001", "100000002", "100000003"):
            accounts.issue_password(s, settings, card, PASSWORD)
        add_title(s, "T-NEKO", "吾輩は猫である", author="夏目漱石")
        add_title(
            s, "T-KOKORO", "こころ", copies=(("main", True), ("nango", True)), author="夏目漱石"
        )
        add_title(s, "T-SHISHI", "八戸市史", copies=(("main", False),))
        add_title(s, "M-BUNSHUN", "文藝春秋 2026年12月号", type_="magazine")
        for n in range(1, 13):
            add_title(s, f"T-{n:02d}", f"本 {n}")
        s.flush()
        lend = ["T-NEKO-1", "T-KOKORO-1", "M-BUNSHUN-1"] + [f"T-{n:02d}-1" for n in range(1, 13)]
        for barcode in lend:
            circulation.checkout(
                s, settings, "100000003", barcode, settings.today() - dt.timedelta(days=3)
            )
    return SmallLibrary(settings, db, api)


def queued_library(database_url: str, patrons: int, titles: int, clock):
    """For races and faults on a live server: patrons 300000000.. sharing one password
    hash (the tests are about writes, not argon2), titles R-00.. whose only copy is on
    loan, so every reservation waits in a queue. Returns (settings, db, cards)."""
    from dataclasses import replace

    from sqlalchemy import update

    from libcli.server.db.models import Patron
    from libcli.server.db.session import Database
    from libcli.server.service import accounts, circulation
    from libcli.server.settings import load_settings

    settings = replace(load_settings(database_url), clock=clock)
    db = Database(database_url)
    cards = [f"3{n:08d}" for n in range(patrons)]
    with db.write() as s:
        accounts.add_patron(s, settings, "399999999", "貸出中の人")
        for card in cards:
            accounts.add_patron(s, settings, card, f"利用者 {card}")
        for n in range(titles):
            add_title(s, f"R-{n:02d}", f"競争の本 {n}")
        for n in range(titles):
            circulation.checkout(s, settings, "399999999", f"R-{n:02d}-1")
        accounts.issue_password(s, settings, cards[0], PASSWORD)
        s.flush()
        first = s.get(Patron, cards[0]).password_hash
        s.execute(
            update(Patron)
            .where(Patron.card.in_(cards))
            .values(password_hash=first, password_issued_on=settings.today())
        )
    return settings, db, cards


def login_token(url: str, card: str) -> dict:
    import requests

    response = requests.post(
        f"{url}/api/v1/auth/login", json={"card": card, "password": PASSWORD}, timeout=60
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['token']}"}
