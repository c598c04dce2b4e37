"""The server's one clock: every "now" and "today" of the library is read from it.

In service it is the system clock. `LIBCLI_SERVER_CLOCK_OFFSET` (seconds, may be
negative) runs it ahead or behind, the same in every process given the same offset: a
rehearsal of next year's calendar, or a test suite run a year ahead of the real date.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


class Clock:
    """The system clock moved by `offset`; tests may move it further while they run."""

    def __init__(self, offset: dt.timedelta = dt.timedelta(0)):
        self.offset = offset

    def now(self) -> dt.datetime:
        """The current instant, timezone-aware, in UTC."""
        return dt.datetime.now(dt.UTC) + self.offset

    def today(self, timezone: str) -> dt.date:
        """The calendar day at the library (due dates and the hold shelf count in local days)."""
        return self.now().astimezone(ZoneInfo(timezone)).date()

    def advance(self, delta: dt.timedelta) -> None:
        self.offset += delta

    def __repr__(self) -> str:
        return f"Clock(offset={self.offset.total_seconds():+.0f}s)"
