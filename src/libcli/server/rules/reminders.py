"""Reminder mails to patrons who opted in (`libcli email reminders on`); the seed is
silent, so the library chose:

- a reminder from `days` days before a due date up to the due date itself, and an
  overdue notice from the day after the due date;
- each at most once per loan and due date (a loan renewed to a new due date is reminded
  again); the first run of `run-daily` in the window sends it, so a day the job did not
  run is caught up the next day.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, or_
from sqlalchemy.sql import ColumnElement

DUE_SOON, OVERDUE = "due_reminder", "overdue_notice"  # the mail kinds


# The rule as SQL over the loan's columns: the daily job selects and marks loans by set.
def due_soon_sql(due_on, reminded_due_on, today: dt.date, days: int) -> ColumnElement[bool]:
    """Due within `days` days (the due day included) and not yet reminded for this date."""
    return and_(
        due_on >= today,
        due_on <= today + dt.timedelta(days=days),
        or_(reminded_due_on.is_(None), reminded_due_on != due_on),
    )


def overdue_sql(due_on, overdue_mailed_on, today: dt.date) -> ColumnElement[bool]:
    """Past its due date and not yet mailed as overdue for this date."""
    return and_(due_on < today, or_(overdue_mailed_on.is_(None), overdue_mailed_on != due_on))
