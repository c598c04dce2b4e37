"""The library's tables."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from libcli.server.rules.holds import ACTIVE as ACTIVE_RESERVATION

# The partial index below counts the same statuses as the rule (rules/holds.py).
_ACTIVE_SQL = "status IN (" + ", ".join(f"'{s}'" for s in ACTIVE_RESERVATION) + ")"


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else value.astimezone(dt.UTC)

    def process_result_value(self, value, dialect):
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    pass


class Patron(Base):
    """A card holder (利用者)."""

    __tablename__ = "patron"

    card: Mapped[str] = mapped_column(String(9), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    password_issued_on: Mapped[dt.date | None] = mapped_column(Date)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: set by `patron deactivate`: the card can no longer log in or reserve
    deactivated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: opted in to due-date reminder mails (`libcli email reminders on`)
    reminders: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class LoginSession(Base):
    """A login session: the bearer token is stored only as its SHA-256."""

    __tablename__ = "session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    card: Mapped[str] = mapped_column(ForeignKey("patron.card", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class CalendarFeed(Base):
    """A patron's calendar feed (/api/v1/calendar/SECRET.ics): the secret is stored only as
    its SHA-256, one feed per card; a password change or reset ends it."""

    __tablename__ = "calendar_feed"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    card: Mapped[str] = mapped_column(
        ForeignKey("patron.card", ondelete="CASCADE"), unique=True, index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class PasswordReset(Base):
    """A forgotten-password token (R17): single use, expiring, stored hashed."""

    __tablename__ = "password_reset"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    card: Mapped[str] = mapped_column(ForeignKey("patron.card", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Title(Base):
    """A catalogue record (書誌): what patrons search, favorite and reserve."""

    __tablename__ = "title"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(Text, default="")
    publisher: Mapped[str] = mapped_column(Text, default="")
    year: Mapped[int | None] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(16))  # book | magazine | av
    isbn: Mapped[str | None] = mapped_column(String(20), index=True)
    # The catalogue's readings (ヨミ), when it has them; search derives one where not.
    title_kana: Mapped[str | None] = mapped_column(Text)
    author_kana: Mapped[str | None] = mapped_column(Text)
    # libcli.server.search; byte order ("C") on PostgreSQL whatever the database's locale,
    # so that the prefix range of the search index means "starts with".
    search_text: Mapped[str] = mapped_column(
        Text().with_variant(Text(collation="C"), "postgresql"), default=""
    )

    # The order search pages through when a query matches a large part of the catalogue.
    __table_args__ = (Index("title_search_order", "search_text", "id"),)


# Title ids as `show` and search compare them, case-insensitively (libcli.server.search.fold_id).
Index("title_id_folded", func.lower(Title.id))


class TitleGram(Base):
    """A posting of the search index: `title_id` has the 1- to 3-character `gram` in one
    of its normalised fields (kept by libcli.server.search; no foreign key, for bulk loads)."""

    __tablename__ = "title_gram"
    __table_args__ = ({"sqlite_with_rowid": False},)

    gram: Mapped[str] = mapped_column(String(3), primary_key=True)
    title_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class TitleGramCount(Base):
    """How many titles hold each gram: the search total for queries of up to 3 characters."""

    __tablename__ = "title_gram_count"

    gram: Mapped[str] = mapped_column(String(3), primary_key=True)
    titles: Mapped[int] = mapped_column(Integer)


class Copy(Base):
    """A physical copy (資料) with its loan category (禁帯区分) and state (状態)."""

    __tablename__ = "copy"

    barcode: Mapped[str] = mapped_column(String(32), primary_key=True)
    title_id: Mapped[str] = mapped_column(ForeignKey("title.id"), index=True)
    point: Mapped[str] = mapped_column(String(16))  # home service point
    location: Mapped[str] = mapped_column(String(16))  # where it is now (or is heading)
    loanable: Mapped[bool] = mapped_column(Boolean, default=True)  # False: 禁帯出
    state: Mapped[str] = mapped_column(String(16), default="on_shelf")
    # state: on_shelf | on_loan | in_transit | held (on the hold shelf for a reservation)


class Loan(Base):
    """A checkout (貸出)."""

    __tablename__ = "loan"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    barcode: Mapped[str] = mapped_column(ForeignKey("copy.barcode"), index=True)
    card: Mapped[str] = mapped_column(ForeignKey("patron.card"), index=True)
    checked_out_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)
    returned_on: Mapped[dt.date | None] = mapped_column(Date)
    renewals: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # 延長
    # The due date a reminder mail was queued for, and the one an overdue mail was:
    # each is sent at most once per loan and due date (service/reminders.py).
    reminded_due_on: Mapped[dt.date | None] = mapped_column(Date)
    overdue_mailed_on: Mapped[dt.date | None] = mapped_column(Date)

    __table_args__ = (
        Index(
            "one_open_loan_per_copy",
            "barcode",
            unique=True,
            sqlite_where=text("returned_on IS NULL"),
            postgresql_where=text("returned_on IS NULL"),
        ),
    )


class Reservation(Base):
    """A reservation (予約), online or at the counter.

    status: waiting (予約待ち) | in_transit (回送中) | ready (受取可) |
    collected | cancelled | expired.

    `queue_number` is the queue order of its title (R22): 1, 2, 3, ... per title in the
    order the reservations were accepted, drawn inside the transaction that holds the
    title's lock (holds.next_queue_number) and never reused. The waiting reservation
    with the lowest number is served first; a reservation's position is the number of
    waiting ones of its title up to and including its own number. No clock takes part.
    """

    __tablename__ = "reservation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    card: Mapped[str] = mapped_column(ForeignKey("patron.card"), index=True)
    title_id: Mapped[str] = mapped_column(ForeignKey("title.id"))
    pickup: Mapped[str] = mapped_column(String(16))
    contact: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    via: Mapped[str] = mapped_column(String(16), default="online")  # online | counter
    placed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)  # shown; not the queue order
    queue_number: Mapped[int] = mapped_column(Integer)
    copy_barcode: Mapped[str | None] = mapped_column(ForeignKey("copy.barcode"))
    ready_since: Mapped[dt.date | None] = mapped_column(Date)
    contacted_on: Mapped[dt.date | None] = mapped_column(Date)
    pickup_deadline: Mapped[dt.date | None] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    suspended_until: Mapped[dt.date | None] = mapped_column(Date)  # 休止: served again that day

    __table_args__ = (
        # R21: one active reservation per patron and title, whatever races happen.
        Index(
            "one_active_reservation_per_title",
            "card",
            "title_id",
            unique=True,
            sqlite_where=text(_ACTIVE_SQL),
            postgresql_where=text(_ACTIVE_SQL),
        ),
        # R22: one place in a title's queue per reservation, whatever races happen.
        Index("one_reservation_per_queue_number", "title_id", "queue_number", unique=True),
        Index("reservation_queue", "title_id", "status", "queue_number"),
        Index("reservation_hold_shelf", "status", "pickup_deadline"),
    )


class Favorite(Base):
    """A title on a patron's favorites list (お気に入り)."""

    __tablename__ = "favorite"

    card: Mapped[str] = mapped_column(ForeignKey("patron.card"), primary_key=True)
    title_id: Mapped[str] = mapped_column(ForeignKey("title.id"), primary_key=True)
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class PointCalendar(Base):
    """How a service point closes (休館日): weekly days and public holidays."""

    __tablename__ = "point_calendar"

    point: Mapped[str] = mapped_column(String(16), primary_key=True)
    weekly_closed: Mapped[str] = mapped_column(String(16), default="")  # "0,6": Mon and Sun
    closed_on_holidays: Mapped[bool] = mapped_column(Boolean, default=False)
    monday_holiday_shift: Mapped[bool] = mapped_column(Boolean, default=False)


class ClosedDate(Base):
    """An explicit closed day of a service point (year-end, inventory, ...)."""

    __tablename__ = "closed_date"

    point: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)


class Mail(Base):
    """A mail to a patron, queued in the same transaction as the change it reports."""

    __tablename__ = "mail"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    to_addr: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # Delivery (mail.py, docs/mail.md): queued -> sending -> sent, or back to queued with
    # a later next_attempt_at, or failed; a `sending` claim older than the lease is retaken.
    state: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (Index("mail_due", "state", "next_attempt_at"),)


class Throttle(Base):
    """Counters for login and reset throttling, keyed by what is being limited."""

    __tablename__ = "throttle"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_start: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer, default=0)
