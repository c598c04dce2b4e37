"""The calendar of closed days (休館日) per service point, stored in the database.

How a point closes is one `PointCalendar` row (weekly closed days, public holidays, the
Monday holiday shift) plus explicit `ClosedDate` rows; the rule itself is
`libcli.server.rules.calendar`. A point without a calendar is open every day, so a
database made by `init` has no closed days until a calendar is given.

Calendar file (TOML), as read by `load_calendar_file`::

    # [all] applies to every service point of the profile; a point's own table
    # overrides its settings and adds its own closed dates.
    [all]
    closed = ["2026-12-29..2027-01-03"]      # dates, or inclusive ranges a..b

    [main]                                   # a service point code of the profile
    weekly_closed = ["mon"]                  # mon tue wed thu fri sat sun
    closed_on_holidays = false               # closed on Japanese public holidays
    monday_holiday_shift = true              # a holiday on a weekly closed day is open,
                                             # the next non-holiday is closed instead
    closed = ["2026-02-19", 2026-02-20]      # strings or TOML dates

A point named in the file (or every point, when there is an [all] table) gets its weekly
settings replaced; closed dates are added to those already stored.

Every change of a point's calendar made here (`close_days`, `open_days`, `apply_calendar`,
`load_calendar_file`) ends by giving the ready holds of that point their R14 deadline
anew, through the one path `service.holds.recompute_deadlines`.
"""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
import functools
import tomllib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from libcli.server.db.models import ClosedDate, PointCalendar
from libcli.server.profile import LibraryProfile
from libcli.server.rules.calendar import closure_reason, parse_weekdays

_SETTING_KEYS = ("weekly_closed", "closed_on_holidays", "monday_holiday_shift")
_FILE_KEYS = (*_SETTING_KEYS, "closed")


@functools.cache
def _holidays_in(year: int) -> frozenset[dt.date]:
    import holidays  # building a year's holidays is slow, hence the cache

    return frozenset(holidays.country_holidays("JP", years=year))


class JapaneseHolidays:
    """Japanese public holidays (祝日・振替休日・国民の休日) as a container of dates."""

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and day in _holidays_in(day.year)


JAPANESE_HOLIDAYS = JapaneseHolidays()


def _reason_for(session: Session, point: str) -> Callable[[dt.date], str | None]:
    calendar = session.get(PointCalendar, point)
    explicit = frozenset(session.scalars(select(ClosedDate.day).where(ClosedDate.point == point)))
    weekly = frozenset()
    if calendar is not None and calendar.weekly_closed:
        weekly = parse_weekdays(calendar.weekly_closed.split(","))
    on_holidays = bool(calendar and calendar.closed_on_holidays)
    shift = bool(calendar and calendar.monday_holiday_shift)

    def reason(day: dt.date) -> str | None:
        return closure_reason(
            day,
            weekly_closed=weekly,
            holidays=JAPANESE_HOLIDAYS,
            closed_on_holidays=on_holidays,
            monday_holiday_shift=shift,
            explicit=explicit,
        )

    return reason


def closed_checker(session: Session, point: str) -> Callable[[dt.date], bool]:
    """A function telling whether `point` is closed on a day (read once, then in memory)."""
    reason = _reason_for(session, point)
    return lambda day: reason(day) is not None


def set_point_calendar(
    session: Session,
    point: str,
    *,
    weekly_closed: Iterable[int | str],
    closed_on_holidays: bool,
    monday_holiday_shift: bool,
) -> None:
    """Set how `point` closes every week and on public holidays."""
    days = ",".join(str(d) for d in sorted(parse_weekdays(weekly_closed)))
    calendar = session.get(PointCalendar, point)
    if calendar is None:
        calendar = PointCalendar(point=point)
        session.add(calendar)
    calendar.weekly_closed = days
    calendar.closed_on_holidays = closed_on_holidays
    calendar.monday_holiday_shift = monday_holiday_shift
    session.flush()


class CalendarChange(NamedTuple):
    """What a change of the calendar did: days closed or reopened, hold deadlines moved."""

    days: int
    holds: int


def _deadlines_anew(session: Session, profile: LibraryProfile, points: Iterable[str]) -> int:
    from libcli.server.service.holds import recompute_deadlines

    return recompute_deadlines(session, profile.hold_days, points)


def _add_closed(session: Session, point: str, days: Iterable[dt.date]) -> int:
    wanted = set(days)
    known = set(
        session.scalars(
            select(ClosedDate.day).where(ClosedDate.point == point, ClosedDate.day.in_(wanted))
        )
    )
    for day in sorted(wanted - known):
        session.add(ClosedDate(point=point, day=day))
    session.flush()
    return len(wanted - known)


def close_days(
    session: Session, point: str, days: Iterable[dt.date], profile: LibraryProfile
) -> CalendarChange:
    """Close `point` on the given days (year-end, inventory); ready holds there get their
    deadline anew (R14)."""
    added = _add_closed(session, point, days)
    return CalendarChange(added, _deadlines_anew(session, profile, [point]))


def open_days(
    session: Session, point: str, days: Iterable[dt.date], profile: LibraryProfile
) -> CalendarChange:
    """Undo closed days of `point` given by date (not its weekly days or holidays); ready
    holds there get their deadline anew (R14)."""
    wanted = set(days)
    removed = session.execute(
        delete(ClosedDate).where(ClosedDate.point == point, ClosedDate.day.in_(wanted))
    ).rowcount
    session.flush()
    return CalendarChange(removed or 0, _deadlines_anew(session, profile, [point]))


def still_closed(session: Session, point: str, days: Iterable[dt.date]) -> list[tuple]:
    """Those of `days` on which `point` stays closed (its weekly day, a public holiday)."""
    reason = _reason_for(session, point)
    return [(day, why) for day in sorted(set(days)) if (why := reason(day)) is not None]


def closed_days_in_month(
    session: Session, point: str, year: int, month: int
) -> list[tuple[dt.date, str]]:
    """The closed days of `point` in a month, each with its reason (for `calendar show`)."""
    reason = _reason_for(session, point)
    last = month_calendar.monthrange(year, month)[1]
    days = (dt.date(year, month, d) for d in range(1, last + 1))
    return [(day, why) for day in days if (why := reason(day)) is not None]


def parse_days(values: Iterable[object]) -> list[dt.date]:
    """Dates from a calendar file: "YYYY-MM-DD", TOML dates, or ranges "a..b" (inclusive)."""
    days: list[dt.date] = []
    for value in values:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            days.append(value)
            continue
        text = str(value).strip()
        first, sep, last = text.partition("..")
        try:
            start = dt.date.fromisoformat(first.strip())
            end = dt.date.fromisoformat(last.strip()) if sep else start
        except ValueError:
            raise ValueError(f"not a date or a date range: {value!r}") from None
        if end < start:
            raise ValueError(f"date range ends before it starts: {value!r}")
        days.extend(start + dt.timedelta(days=i) for i in range((end - start).days + 1))
    return days


def load_calendar_file(session: Session, path: str | Path, profile: LibraryProfile) -> list[str]:
    """Apply a calendar file (format above); returns the points it configured."""
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    return apply_calendar(session, data, profile, source=str(path))


def apply_calendar(
    session: Session, data: dict, profile: LibraryProfile, source: str = "calendar"
) -> list[str]:
    """Apply a calendar already read (the format above); returns the points it configured."""
    path = source
    for section, table in data.items():
        if section != "all" and section not in profile.point_codes:
            known = ", ".join(("all", *profile.point_codes))
            raise ValueError(f"{path}: [{section}] is not a service point ({known})")
        if not isinstance(table, dict):
            raise ValueError(f"{path}: {section} must be a table, like [{section}]")
        if unknown := set(table) - set(_FILE_KEYS):
            raise ValueError(f"{path}: [{section}] has unknown keys: {', '.join(sorted(unknown))}")

    common = data.get("all", {})
    configured = []
    for point in profile.point_codes:
        if point not in data and not common:
            continue
        own = data.get(point, {})
        merged = {**common, **own}
        set_point_calendar(
            session,
            point,
            weekly_closed=merged.get("weekly_closed", []),
            closed_on_holidays=bool(merged.get("closed_on_holidays", False)),
            monday_holiday_shift=bool(merged.get("monday_holiday_shift", False)),
        )
        _add_closed(session, point, parse_days([*common.get("closed", []), *own.get("closed", [])]))
        configured.append(point)
    _deadlines_anew(session, profile, configured)
    return configured
