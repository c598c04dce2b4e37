"""Closed days (休館日) per service point: the rule (R14 counts open days) and its storage."""

from __future__ import annotations

import datetime as dt

import pytest

from libcli.server import calendar
from libcli.server.db.session import Database
from libcli.server.profile import load_profile
from libcli.server.rules.calendar import closure_reason, parse_weekdays

D = dt.date
MON = frozenset({0})
# Real Japanese public holidays used below (2026).
HOLIDAYS_2026 = {
    D(2026, 5, 3),  # 憲法記念日 (Sun)
    D(2026, 5, 4),  # みどりの日 (Mon)
    D(2026, 5, 5),  # こどもの日 (Tue)
    D(2026, 5, 6),  # 振替休日 (Wed)
    D(2026, 9, 21),  # 敬老の日 (Mon)
    D(2026, 9, 22),  # 国民の休日 (Tue)
    D(2026, 9, 23),  # 秋分の日 (Wed)
    D(2026, 11, 3),  # 文化の日 (Tue)
    D(2026, 11, 23),  # 勤労感謝の日 (Mon)
}


def reason(day, *, weekly=MON, on_holidays=False, shift=True, explicit=()):
    return closure_reason(
        day,
        weekly_closed=weekly,
        holidays=HOLIDAYS_2026,
        closed_on_holidays=on_holidays,
        monday_holiday_shift=shift,
        explicit=frozenset(explicit),
    )


# -- the rule --------------------------------------------------------------------------


def test_weekly_closed_day():
    assert reason(D(2026, 11, 30)) == "weekly"  # a plain Monday
    assert reason(D(2026, 12, 1)) is None  # Tuesday


def test_r14_monday_holiday_opens_and_tuesday_closes_instead():
    assert reason(D(2026, 11, 23)) is None  # 勤労感謝の日, a Monday: open
    assert reason(D(2026, 11, 24)) == "shifted"  # the Tuesday after: closed


def test_r14_holiday_run_shifts_the_closing_past_every_holiday():
    # Mon 9/21, Tue 9/22, Wed 9/23 are holidays: open all three, closed Thursday.
    assert [reason(D(2026, 9, d)) for d in range(21, 25)] == [None, None, None, "shifted"]
    # Golden Week: Sun 5/3 .. Wed 5/6 holidays, the Monday among them → Thursday 5/7 closed.
    assert [reason(D(2026, 5, d)) for d in range(3, 8)] == [None, None, None, None, "shifted"]


def test_holiday_on_another_weekday_shifts_nothing():
    assert reason(D(2026, 11, 3)) is None  # 文化の日, a Tuesday
    assert reason(D(2026, 11, 4)) is None


def test_without_the_shift_a_monday_holiday_stays_closed():
    assert reason(D(2026, 11, 23), shift=False) == "weekly"
    assert reason(D(2026, 11, 24), shift=False) is None


def test_closed_on_holidays():
    assert reason(D(2026, 11, 3), on_holidays=True, shift=False) == "holiday"
    assert reason(D(2026, 11, 23), on_holidays=True, shift=False) == "holiday"
    assert reason(D(2026, 11, 24), on_holidays=True, shift=False) is None
    # A point that closes on holidays has nothing to shift, even if asked to.
    assert reason(D(2026, 11, 24), on_holidays=True, shift=True) is None


def test_explicit_dates_close_any_day():
    assert reason(D(2026, 12, 29), explicit=[D(2026, 12, 29)]) == "explicit"
    assert reason(D(2026, 11, 23), explicit=[D(2026, 11, 23)]) == "explicit"


def test_no_calendar_means_always_open():
    kwargs = dict(
        weekly_closed=frozenset(),
        holidays=HOLIDAYS_2026,
        closed_on_holidays=False,
        monday_holiday_shift=False,
        explicit=frozenset(),
    )
    days = [D(2026, 11, 1) + dt.timedelta(days=n) for n in range(60)]
    assert [day for day in days if closure_reason(day, **kwargs) is not None] == []
    shifted = {**kwargs, "weekly_closed": MON, "monday_holiday_shift": True}
    assert closure_reason(D(2026, 11, 24), **shifted) == "shifted"


def test_parse_weekdays_accepts_names_numbers_and_japanese():
    assert parse_weekdays(["mon", "Sunday", "水曜", 5]) == frozenset({0, 6, 2, 5})
    with pytest.raises(ValueError):
        parse_weekdays(["monster"])


# -- in the database -------------------------------------------------------------------


@pytest.fixture
def db(database_url):
    """A fresh database, SQLite and PostgreSQL (tests/conftest.py)."""
    database = Database(database_url)
    yield database
    database.dispose()


def test_a_new_database_has_no_closed_days(db):
    with db.read() as s:
        assert calendar.closed_days_in_month(s, "main", 2026, 11) == []
        assert not calendar.closed_checker(s, "main")(D(2026, 11, 30))


def test_closed_checker_uses_real_japanese_holidays(db):
    with db.write() as s:
        calendar.set_point_calendar(
            s, "main", weekly_closed=["mon"], closed_on_holidays=False, monday_holiday_shift=True
        )
    with db.read() as s:
        closed = calendar.closed_checker(s, "main")
    assert not closed(D(2026, 11, 23))  # 勤労感謝の日
    assert closed(D(2026, 11, 24))
    assert closed(D(2026, 11, 30))
    assert not closed(D(2027, 1, 11))  # 成人の日 2027, a Monday
    assert closed(D(2027, 1, 12))


def test_month_view_lists_each_closed_day_with_its_reason(db):
    with db.write() as s:
        calendar.set_point_calendar(
            s, "main", weekly_closed=[0], closed_on_holidays=False, monday_holiday_shift=True
        )
        profile = load_profile()
        assert calendar.close_days(s, "main", [D(2026, 11, 26), D(2026, 11, 27)], profile).days == 2
        assert calendar.close_days(s, "main", [D(2026, 11, 27)], profile).days == 0  # known
    with db.read() as s:
        days = calendar.closed_days_in_month(s, "main", 2026, 11)
        other_point = calendar.closed_days_in_month(s, "nango", 2026, 11)
    assert days == [
        (D(2026, 11, 2), "weekly"),
        (D(2026, 11, 9), "weekly"),
        (D(2026, 11, 16), "weekly"),
        (D(2026, 11, 24), "shifted"),
        (D(2026, 11, 26), "explicit"),
        (D(2026, 11, 27), "explicit"),
        (D(2026, 11, 30), "weekly"),
    ]
    assert other_point == []


def test_calendar_file_all_section_and_point_sections(db, tmp_path):
    path = tmp_path / "calendar.toml"
    path.write_text(
        """
[all]
closed = ["2026-12-29..2027-01-03"]
weekly_closed = ["mon"]

[nango]
closed_on_holidays = true
closed = [2026-10-27]
""",
        encoding="utf-8",
    )
    with db.write() as s:
        configured = calendar.load_calendar_file(s, path, load_profile())
    assert configured == ["main", "nango", "center"]
    with db.read() as s:
        main = calendar.closed_checker(s, "main")
        nango = calendar.closed_checker(s, "nango")
    assert main(D(2026, 12, 29)) and main(D(2027, 1, 3)) and not main(D(2027, 1, 5))
    assert main(D(2026, 11, 23)) and not main(D(2026, 11, 3))  # no shift, open on holidays
    assert nango(D(2026, 11, 3)) and nango(D(2026, 10, 27)) and not main(D(2026, 10, 27))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[osaka]\nweekly_closed = ['mon']\n", "osaka"),
        ("[main]\nweekly = ['mon']\n", "unknown keys"),
        ("[main]\nclosed = ['2026-13-01']\n", "not a date"),
        ("[main]\nweekly_closed = ['someday']\n", "not a weekday"),
    ],
)
def test_calendar_file_mistakes_are_refused(db, tmp_path, text, message):
    path = tmp_path / "calendar.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message), db.write() as s:
        calendar.load_calendar_file(s, path, load_profile())


def test_demo_calendar_built_on_a_given_day_is_realistic(db):
    from libcli.server.demo import demo_calendar

    with db.write() as s:  # the demo as built on Tuesday 2026-12-01
        calendar.apply_calendar(s, demo_calendar(D(2026, 12, 1)), load_profile())
    with db.read() as s:
        main, nango, center = (calendar.closed_checker(s, p) for p in ("main", "nango", "center"))
    assert main(D(2026, 11, 24)) and not main(D(2026, 11, 23))  # the Monday holiday shift
    assert nango(D(2026, 11, 23)) and not nango(D(2026, 11, 24))  # closed on holidays
    assert all(p(D(2027, 1, 1)) for p in (main, nango, center))  # year-end for everyone
    assert center(D(2026, 12, 1)) and not center(D(2026, 11, 30))  # Tuesdays
    assert center(D(2026, 11, 19))  # third Thursday: 館内整理日
