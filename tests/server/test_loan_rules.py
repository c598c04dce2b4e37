"""The loan rules (rules/loans.py): due dates off closed days, renewal refusals."""

from __future__ import annotations

import datetime as dt

from libcli.server.rules.loans import due_date, renewal_refusal
from tests.conftest import suite_today

DAY = suite_today()


def test_due_date_moves_past_a_run_of_closed_days():
    closed = {DAY + dt.timedelta(days=14), DAY + dt.timedelta(days=15)}
    assert due_date(DAY, 14, closed.__contains__) == DAY + dt.timedelta(days=16)
    assert due_date(DAY, 14, lambda d: False) == DAY + dt.timedelta(days=14)


def test_renewal_refusal_order_overdue_then_limit_then_reserved():
    due = DAY + dt.timedelta(days=3)
    args = {"due_on": due, "renewed": 1, "allowed": 1, "reserved_by_others": True}
    assert renewal_refusal(today=due + dt.timedelta(days=1), **args) == "overdue"
    assert renewal_refusal(today=due, **args) == "renewal_limit"  # the due day itself is fine
    assert renewal_refusal(today=due, **(args | {"renewed": 0})) == "reserved_by_others"
    free = args | {"renewed": 0, "reserved_by_others": False}
    assert renewal_refusal(today=due, **free) is None
