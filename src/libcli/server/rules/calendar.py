"""Closed days (休館日) of a service point, as plain functions over plain data.

A day is closed when it is listed explicitly (year-end, inventory), when it is a weekly
closed day, or when it is a public holiday and the point closes on holidays.

The usual Japanese "Monday holiday shift" (月曜が祝日の場合は開館し、翌平日に休館): a
weekly closed day that is a public holiday is open, and the point closes instead on the
next day that is not a holiday (Mon holiday → Tue closed; Mon and Tue holidays → Wed
closed). It only matters for points that open on holidays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # date.weekday() order


def closure_reason(
    day: dt.date,
    *,
    weekly_closed: frozenset[int],
    holidays: Container[dt.date],
    closed_on_holidays: bool,
    monday_holiday_shift: bool,
    explicit: Container[dt.date],
) -> str | None:
    """Why the point is closed on `day`: "explicit", "weekly", "holiday", "shifted"; or None."""
    if day in explicit:
        return "explicit"
    is_holiday = day in holidays
    if is_holiday and closed_on_holidays:
        return "holiday"
    shift = monday_holiday_shift and not closed_on_holidays
    if day.weekday() in weekly_closed and not (is_holiday and shift):
        return "weekly"
    if shift and not is_holiday:
        # Walk back over the holidays just before this day: if one of them was a weekly
        # closed day, its closing moves here, the first day after them that is no holiday.
        before = day - dt.timedelta(days=1)
        while before in holidays:
            if before.weekday() in weekly_closed:
                return "shifted"
            before -= dt.timedelta(days=1)
    return None


_WEEKDAY_NAMES = {
    name: i
    for i, (short, long, ja) in enumerate(
        zip(
            WEEKDAYS,
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
            "月火水木金土日",
            strict=True,
        )
    )
    for name in (short, long, ja, ja + "曜", ja + "曜日", str(i))
}


def parse_weekdays(values) -> frozenset[int]:
    """Weekdays as 0 (Mon) .. 6 (Sun), from numbers or names ("mon", "Sunday", "日曜")."""
    result = set()
    for value in values:
        key = str(value).strip().lower()
        if key not in _WEEKDAY_NAMES:
            raise ValueError(f"not a weekday: {value!r} (use mon, tue, ... sun)")
        result.add(_WEEKDAY_NAMES[key])
    return frozenset(result)
