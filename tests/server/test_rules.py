"""The rules as plain functions (no database): each test names its rule."""

import datetime as dt

from libcli.server.rules.holds import (
    arrival_status,
    can_cancel_online,
    contact_day_on_ready,
    expired,
    pickup_deadline,
)
from libcli.server.rules.patron import can_receive_mail, contact_refusal, reservation_refusal
from libcli.server.rules.reservability import CopyState, available_count, online_refusal

BOOKS = ("book",)
ON_LOAN = CopyState(loanable=True, state="on_loan")
ON_SHELF = CopyState(loanable=True, state="on_shelf")
REFERENCE = CopyState(loanable=False, state="on_shelf")


def test_r5_only_books_can_be_reserved_online():
    assert online_refusal("magazine", [ON_LOAN], BOOKS) == "not_a_book"
    assert online_refusal("av", [ON_LOAN], BOOKS) == "not_a_book"
    assert online_refusal("book", [ON_LOAN], BOOKS) is None


def test_r6_title_on_the_shelf_cannot_be_reserved_online():
    assert online_refusal("book", [ON_SHELF], BOOKS) == "on_shelf"


def test_r7_loanable_on_loan_is_reservable_and_reference_only_is_not():
    assert online_refusal("book", [ON_LOAN], BOOKS) is None
    assert online_refusal("book", [REFERENCE], BOOKS) == "reference_only"
    # A reference copy beside a loanable copy on loan: the loanable one can be waited for.
    assert online_refusal("book", [REFERENCE, ON_LOAN], BOOKS) is None


def test_r8_one_copy_on_shelf_blocks_online_reservation():
    assert online_refusal("book", [ON_LOAN, ON_LOAN, ON_SHELF], BOOKS) == "on_shelf"
    assert available_count([ON_LOAN, ON_SHELF, REFERENCE]) == 1
    held = CopyState(loanable=True, state="held")
    transit = CopyState(loanable=True, state="in_transit")
    assert online_refusal("book", [ON_LOAN, held, transit], BOOKS) is None


def test_r3_limit_of_ten_reservations():
    ok = dict(limit=10, already_reserved=False, borrowing=False)
    assert reservation_refusal(active_reservations=9, **ok) is None
    assert reservation_refusal(active_reservations=10, **ok) == "limit_reached"


def test_r21_no_second_reservation_of_the_same_title():
    assert (
        reservation_refusal(active_reservations=0, limit=10, already_reserved=True, borrowing=False)
        == "already_reserved"
    )


def test_r13_r19_email_contact_needs_a_registered_address():
    assert (
        contact_refusal(contact="email", email_confirmation=False, has_password=True, email=None)
        == "email_required"
    )
    assert (
        contact_refusal(contact="phone", email_confirmation=True, has_password=True, email="")
        == "email_required"
    )
    assert (
        contact_refusal(contact="phone", email_confirmation=False, has_password=True, email=None)
        is None
    )
    assert not can_receive_mail(has_password=False, email="a@example.com")
    assert can_receive_mail(has_password=True, email="a@example.com")


def test_r12_cancel_online_only_before_ready():
    assert can_cancel_online("waiting")
    assert can_cancel_online("in_transit")
    assert not can_cancel_online("ready")


def test_r22_copy_is_ready_where_it_stands_or_travels():
    assert arrival_status("main", "main") == "ready"
    assert arrival_status("nango", "main") == "in_transit"


def test_r13_contact_day_is_ready_day_for_email_and_none_only():
    day = dt.date(2026, 12, 1)
    assert contact_day_on_ready("email", day) == day
    assert contact_day_on_ready("none", day) == day
    for method in ("phone", "ring", "voicemail"):
        assert contact_day_on_ready(method, day) is None


def test_r14_ten_open_days_from_the_day_after_contact():
    never_closed = lambda d: False  # noqa: E731
    assert pickup_deadline(dt.date(2026, 12, 1), never_closed, 10) == dt.date(2026, 12, 11)
    mondays = lambda d: d.weekday() == 0  # noqa: E731
    # 2026-12-01 is a Tuesday: 12-02..12-12 is eleven days, Monday 12-07 not counted.
    assert pickup_deadline(dt.date(2026, 12, 1), mondays, 10) == dt.date(2026, 12, 12)


def _expires(status: str, deadline: dt.date | None, today: dt.date) -> bool:
    """The R14 condition as the daily job runs it: SQL, here on an in-memory SQLite."""
    from sqlalchemy import Column, Date, MetaData, String, Table, create_engine, insert, select

    hold = Table("hold", MetaData(), Column("status", String), Column("deadline", Date))
    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        hold.metadata.create_all(conn)
        conn.execute(insert(hold).values(status=status, deadline=deadline))
        found = conn.scalar(
            select(select(hold).where(expired(hold.c.status, hold.c.deadline, today)).exists())
        )
    engine.dispose()
    return found


def test_r14_cancelled_on_the_eleventh_day():
    deadline = dt.date(2026, 12, 11)
    assert not _expires("ready", deadline, deadline)
    assert _expires("ready", deadline, deadline + dt.timedelta(days=1))
    assert not _expires("ready", None, deadline)
    for status in ("waiting", "in_transit", "fulfilled", "cancelled", "expired"):
        assert not _expires(status, deadline, deadline + dt.timedelta(days=1))
