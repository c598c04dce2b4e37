"""The demo library: loads through the service layer and shows what it promises."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from libcli.server.db.migrate import upgrade
from libcli.server.db.models import Copy, Mail, Patron, Reservation, Title
from libcli.server.db.session import Database
from libcli.server.settings import load_settings


@pytest.fixture(scope="module")
def demo(tmp_path_factory, module_clock):
    """Loaded once: the tests only read it."""
    from dataclasses import replace

    from libcli.server.demo import load_demo

    tmp_path = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    upgrade(url)
    settings = replace(
        load_settings(url),
        data_dir=tmp_path,
        outbox_dir=tmp_path / "outbox",
        clock=module_clock,
    )
    db = Database(url)
    patrons = load_demo(db, settings, settings.today())
    yield db, settings, patrons
    db.dispose()


def test_demo_has_a_real_catalogue_at_three_points(demo):
    db, _settings, _patrons = demo
    with db.read() as s:
        types = dict(s.execute(select(Title.type, func.count()).group_by(Title.type)).all())
        points = set(s.scalars(select(Copy.point).distinct()))
        reference = s.scalar(select(func.count()).select_from(Copy).where(~Copy.loanable))
    assert types["book"] >= 50 and types["magazine"] >= 3 and types["av"] >= 3
    assert points == {"main", "nango", "center"}
    assert reference >= 5


def test_demo_patrons_have_nine_digit_cards_and_passwords(demo):
    db, settings, patrons = demo
    assert len(patrons) == 4
    with db.read() as s:
        for p in patrons:
            row = s.get(Patron, p.card)
            assert len(p.card) == 9 and p.card.isdigit()
            assert row.password_hash and row.password_issued_on == settings.today()
    assert any(p.email is None for p in patrons) and any(p.email for p in patrons)


def test_demo_shows_waiting_in_transit_and_ready_reservations(demo):
    db, settings, _patrons = demo
    with db.read() as s:
        statuses = {(r.card, r.title_id): r.status for r in s.scalars(select(Reservation))}
        ready = s.scalars(select(Reservation).where(Reservation.status == "ready")).one()
        kinds = sorted(s.scalars(select(Mail.kind)))
    assert statuses[("100000004", "T0020")] == "ready"
    assert statuses[("100000001", "T0037")] == "in_transit"
    assert statuses[("100000001", "T0005")] == "waiting"
    assert statuses[("100000002", "T0005")] == "waiting"
    assert ready.pickup_deadline is not None and ready.pickup_deadline > settings.today()
    assert kinds == ["hold_ready", "reservation_confirmation", "reservation_confirmation"]


def test_demo_calendar_covers_the_years_around_the_day_it_is_built(demo):
    from libcli.server import calendar

    db, settings, _patrons = demo
    today = settings.today()
    with db.read() as s:
        main, center = calendar.closed_checker(s, "main"), calendar.closed_checker(s, "center")
        for year in (today.year - 1, today.year, today.year + 1):
            assert main(dt.date(year, 12, 30)) and main(dt.date(year, 2, 17))
            thursdays = [dt.date(year, 7, d) for d in range(1, 32)]
            third = [d for d in thursdays if d.weekday() == 3][2]
            assert center(third) and not center(third + dt.timedelta(days=7))
        # A Monday holiday at main moves its closing to the next day that is no holiday.
        monday_holidays = [
            d
            for d in (today + dt.timedelta(days=n) for n in range(-200, 200))
            if d.weekday() == 0 and d in calendar.JAPANESE_HOLIDAYS
        ]
        assert monday_holidays
        for monday in monday_holidays:
            instead = monday + dt.timedelta(days=1)
            while instead in calendar.JAPANESE_HOLIDAYS:
                instead += dt.timedelta(days=1)
            assert not main(monday) and main(instead), monday


@pytest.mark.parametrize(
    ("title_id", "reason"),
    [
        ("T0001", "on_shelf"),  # R8: one copy of こころ is on the shelf
        ("T0005", None),  # every copy of 人間失格 on loan: reservable
        ("T0008", None),  # R7: the 禁帯出 copy of 津軽 does not count as available
        ("T0048", "reference_only"),  # 八戸市史
        ("M0002", "not_a_book"),  # R5
        ("V0002", "not_a_book"),  # R5
    ],
)
def test_demo_shows_each_online_verdict(demo, title_id, reason):
    from libcli.server.service import catalog

    db, settings, _patrons = demo
    with db.read() as s:
        [summary] = catalog.summaries(s, settings, [s.get(Title, title_id)])
    assert summary["reason"] == reason
