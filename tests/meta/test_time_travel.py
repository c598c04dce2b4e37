"""Time bombs show before they go off: every test on the clock (the `clock` fixture,
marked `clock`) runs again with the suite's day more than a year ahead, in the last days
of a year, so that hold deadlines and due dates run into the next year."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import suite_today

ROOT = Path(__file__).resolve().parents[2]


def a_year_ahead_at_a_year_end(today: dt.date) -> dt.date:
    """The first 27 December at least a year after `today`."""
    day = dt.date(today.year + 1, 12, 27)
    return day if day - today >= dt.timedelta(days=365) else day.replace(year=day.year + 1)


def test_the_year_ahead_day_is_a_year_ahead_and_ten_days_before_a_year_end():
    for today in (dt.date(2026, 12, 2), dt.date(2026, 12, 28), dt.date(2027, 1, 1)):
        day = a_year_ahead_at_a_year_end(today)
        assert day - today >= dt.timedelta(days=365)
        assert (day.month, day.day) == (12, 27)


def test_the_date_sensitive_tests_pass_a_year_ahead_across_a_year_end():
    day = a_year_ahead_at_a_year_end(suite_today())
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-m", "clock", "-q", "-p", "no:cacheprovider", "-x"],
        cwd=ROOT,
        env={**os.environ, "LIBCLI_TEST_TODAY": day.isoformat()},
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert result.returncode == 0, f"on {day}:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
    assert " passed" in result.stdout.splitlines()[-1]
