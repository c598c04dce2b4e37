"""Patrons, passwords and sessions: R1, R2, R15, R16, R17."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Row, bindparam, delete, select, update
from sqlalchemy.orm import Session as DbSession

from libcli.server import emails, logs, mail, security, throttle
from libcli.server.db.models import LoginSession, PasswordReset, Patron
from libcli.server.db.session import Database
from libcli.server.errors import LibraryError
from libcli.server.i18n import N_
from libcli.server.service import calendar_feed
from libcli.server.settings import Settings

log = logging.getLogger(__name__)

CARD_RE = re.compile(r"[0-9]{9}", re.ASCII)
MAX_FAILED_LOGINS = 10
LOCK_MINUTES = 15


def valid_card(card: str) -> bool:
    """R1: exactly the nine ASCII digits under the barcode (a leading zero is kept)."""
    return isinstance(card, str) and CARD_RE.fullmatch(card) is not None


#: The 422 details of an address that is not one (which field, in the patron's words).
EMAIL_ERROR = [{"loc": ["body", "email"], "msg": "not an email address", "type": "email"}]


def _checked_email(email: str) -> str:
    """The one email check (emails.py) as a library refusal."""
    try:
        return emails.normalized(email)
    except emails.InvalidEmail as e:
        raise LibraryError("invalid_request", str(e), errors=EMAIL_ERROR) from None


def get_patron(session: DbSession, card: str, *, lock: bool = False) -> Patron:
    query = select(Patron).where(Patron.card == card)
    patron = session.scalars(query.with_for_update() if lock else query).first()
    if patron is None:
        raise LibraryError("not_found", N_("no patron with card {card}"), about={"card": card})
    return patron


def add_patron(
    session: DbSession,
    settings: Settings,
    card: str,
    name: str,
    email: str | None = None,
    phone: str | None = None,
    now: dt.datetime | None = None,
) -> Patron:
    if not valid_card(card):
        raise LibraryError("invalid_request", N_("a card number is nine digits"), about={})
    if email is not None:
        email = _checked_email(email)
    if session.get(Patron, card) is not None:
        raise LibraryError("conflict", N_("card {card} already exists"), about={"card": card})
    created = now or settings.now()
    patron = Patron(
        card=card, name=name, email=email, phone=phone, failed_logins=0, created_at=created
    )
    session.add(patron)
    session.flush()
    return patron


def issue_password(
    session: DbSession,
    settings: Settings,
    card: str,
    password: str | None = None,
    today: dt.date | None = None,
) -> str:
    """R2: staff issue a password at the counter; usable from the day of issue."""
    patron = get_patron(session, card, lock=True)
    password = password or security.generated_password()
    if problem := security.password_problem(password, card):
        raise LibraryError(problem)
    patron.password_hash = security.hash_password(password)
    patron.password_issued_on = today or settings.today()
    patron.failed_logins = 0
    patron.locked_until = None
    _end_sessions(session, card)
    _end_reset_links(session, card, settings.now())
    calendar_feed.end_feed(session, card)
    logs.security_event(settings, "password_issued", card=card)
    return password


def _new_session(session: DbSession, settings: Settings, card: str, now: dt.datetime) -> tuple:
    token = security.new_token()
    row = LoginSession(
        token_hash=security.token_hash(token),
        card=card,
        created_at=now,
        last_used_at=now,
        expires_at=now + dt.timedelta(days=settings.session_absolute_days),
    )
    session.add(row)
    return token, row


@contextmanager
def password_checked(
    db: Database,
    settings: Settings,
    card: str,
    password: str,
    *,
    client: str | None,
    now: dt.datetime,
    at_login: bool,
) -> Iterator[tuple[DbSession, Patron]]:
    """Check a card's password the one way login and every current-password check do.

    Refused before any argon2 work while the client's address or the service is over
    its failed-login limit (429 `rate_limited`). argon2 runs outside any transaction (on
    SQLite a guess never holds the write lock), against a dummy hash when the card is
    unknown, so both cost the same. A failure counts toward the card's lock and the
    throttles, then raises `invalid_credentials` at login and `wrong_password` for the
    current password of an account change; the counts are committed first. When the
    password is right, the block runs in the write transaction with the patron's row
    locked.

    A locked card answers at login exactly like a wrong password; on an account change
    (the caller already holds a session of this card, so there is nothing to hide) it
    answers `rate_limited` until the lock ends, without checking the password.
    """
    refusal = "invalid_credentials" if at_login else "wrong_password"
    with db.read() as session:
        throttle.check_login(session, settings, client, now)
        patron = session.get(Patron, card) if valid_card(card) else None
        stored = patron.password_hash if patron else None
        if not at_login and patron is not None and _locked(patron, now):
            wait = math.ceil((patron.locked_until - now).total_seconds())
            logs.security_event(settings, "rate_limited", scope="card", card=card, client=client)
            raise LibraryError("rate_limited", retry_after=max(1, wait))
    right = security.verify_password(stored, password)
    with db.write() as session:
        query = select(Patron).where(Patron.card == card).with_for_update()
        patron = session.scalars(query).first()
        # A password changed meanwhile: the guess was checked against the old one.
        right = right and patron is not None and patron.password_hash == stored
        if right and _may_log_in(patron, settings, now):
            patron.failed_logins = 0
            yield session, patron
            return
        locked_now = False
        if patron is not None and not right:
            patron.failed_logins += 1
            if patron.failed_logins >= MAX_FAILED_LOGINS:
                # A lock that lifts by itself: an attacker cannot lock a patron out for good.
                patron.locked_until = now + dt.timedelta(minutes=LOCK_MINUTES)
                patron.failed_logins = 0
                locked_now = True
        throttle.count_failed_login(session, settings, client, now)
    event = "login_failed" if at_login else "password_check_failed"
    logs.security_event(settings, event, card=card if valid_card(card) else None, client=client)
    if locked_now:
        logs.security_event(settings, "card_locked", card=card, client=client, minutes=LOCK_MINUTES)
    raise LibraryError(refusal)


def _locked(patron: Patron, now: dt.datetime) -> bool:
    return patron.locked_until is not None and patron.locked_until > now


def _may_log_in(patron: Patron, settings: Settings, now: dt.datetime) -> bool:
    """Not locked, and the password issued by today (R2: usable from the day of issue)."""
    issued = patron.password_issued_on
    if patron.deactivated_at is not None:
        return False
    if issued is None or issued > settings.profile.day_of(now):
        return False
    return not _locked(patron, now)


def login(
    db: Database,
    settings: Settings,
    card: str,
    password: str,
    now: dt.datetime | None = None,
    client: str | None = None,
) -> tuple[str, LoginSession, Patron]:
    """R1: card number and password. Unknown card, wrong password and a locked card
    all answer the same `invalid_credentials`, after the same argon2 work.

    `client` is the caller's address: failed logins are counted per address and across
    the service (throttle.py), and past a limit the answer is 429 `rate_limited`
    before any password is checked."""
    now = now or settings.now()
    checked = password_checked(db, settings, card, password, client=client, now=now, at_login=True)
    with checked as (session, patron):
        token, row = _new_session(session, settings, card, now)
    return token, row, patron


# The token lookup: one read by the session's primary key, joined to its patron, only
# the columns a caller needs (no ORM objects on the path of every request).
_session, _patron = LoginSession.__table__, Patron.__table__
_SESSION_HOLDER = (
    select(
        _patron.c.card,
        _patron.c.name,
        _patron.c.email,
        _patron.c.phone,
        _session.c.token_hash,
        _session.c.expires_at,
        _session.c.last_used_at,
    )
    .join_from(_session, _patron, _patron.c.card == _session.c.card)
    .where(_session.c.token_hash == bindparam("token_hash"))
)


def authenticate(
    session: DbSession | Connection,
    settings: Settings,
    token: str | None,
    now: dt.datetime | None = None,
) -> Row:
    """The patron behind a bearer token (card, name, email, phone) and its session
    (token_hash, expires_at, last_used_at); idle and absolute expiry are enforced here."""
    now = now or settings.now()
    if not token:
        raise LibraryError("auth_required")
    row = session.execute(_SESSION_HOLDER, {"token_hash": security.token_hash(token)}).first()
    idle = dt.timedelta(minutes=settings.session_idle_minutes)
    if row is None or row.expires_at <= now or row.last_used_at + idle <= now:
        raise LibraryError("auth_required")
    return row


def touch_session(
    session: DbSession | Connection,
    token_hash: str,
    now: dt.datetime,
    *,
    unless_since: dt.datetime | None = None,
) -> None:
    """Move a session's idle clock to `now`; with `unless_since`, only when it was last
    moved before then (concurrent requests of one session then write it once)."""
    query = update(_session).where(_session.c.token_hash == token_hash)
    if unless_since is not None:
        query = query.where(_session.c.last_used_at < unless_since)
    session.execute(query.values(last_used_at=now))


def logout_hash(session: DbSession, token_hash: str) -> None:
    session.execute(delete(LoginSession).where(LoginSession.token_hash == token_hash))


def _end_sessions(session: DbSession, card: str, keep: str | None = None) -> None:
    query = delete(LoginSession).where(LoginSession.card == card)
    if keep is not None:
        query = query.where(LoginSession.token_hash != keep)
    session.execute(query)


def change_password(
    db: Database,
    settings: Settings,
    card: str,
    current: str,
    new: str,
    keep_session: str | None = None,
    client: str | None = None,
) -> None:
    """R16: the logged-in patron sets a new password; every other session, every
    outstanding reset link and the calendar feed end. A wrong current password counts
    like a failed login."""
    if problem := security.password_problem(new, card):
        raise LibraryError(problem)
    new_hash = security.hash_password(new)  # before the write lock, like the check
    now = settings.now()
    checked = password_checked(db, settings, card, current, client=client, now=now, at_login=False)
    with checked as (session, patron):
        patron.password_hash = new_hash
        _end_sessions(session, card, keep=keep_session)
        _end_reset_links(session, card, now)
        calendar_feed.end_feed(session, card)
        if patron.email:
            mail.queue(
                session, settings, to=patron.email, kind="password_changed", patron_name=patron.name
            )
    logs.security_event(settings, "password_changed", card=card, client=client)


def request_password_reset(
    db: Database,
    settings: Settings,
    card: str,
    email: str,
    *,
    client: str | None,
    now: dt.datetime | None = None,
) -> Callable[[], None]:
    """R17: card number + email address; a mail with a single-use URL when they match.

    Only the per-address throttle runs here (429 `rate_limited` past the limit), the same
    work whatever the card and the address. The rest (looking the card up and, when card
    and address match, the link and its mail) is returned for the caller to run after it
    has answered, on every path alike: the answer's time says nothing about the card or
    the address (SECURITY.md §3). The mail is sent later by the deliverer."""
    now = now or settings.now()
    with db.write() as session:
        throttle.check_and_count_reset(session, settings, client, now)
    return functools.partial(_send_reset_link, db, settings, card.strip(), email, now)


def _send_reset_link(
    db: Database, settings: Settings, card: str, email: str, now: dt.datetime
) -> None:
    """The reset request's work after the answer: nobody waits for it, so a failure
    (a busy database) is logged, and the patron asks again."""
    try:
        with db.write() as session:
            _queue_reset_link(session, settings, card, email, now)
    except Exception:
        log.exception("a password-reset request was not completed")


def _queue_reset_link(
    session: DbSession, settings: Settings, card: str, email: str, now: dt.datetime
) -> None:
    patron = (
        session.scalars(select(Patron).where(Patron.card == card).with_for_update()).first()
        if valid_card(card)
        else None
    )
    if (
        patron is None
        or not patron.email
        or patron.password_hash is None
        or patron.email.lower() != (email or "").strip().lower()
    ):
        return
    recent = session.scalars(
        select(PasswordReset).where(
            PasswordReset.card == card,
            PasswordReset.created_at > now - dt.timedelta(minutes=settings.reset_token_minutes),
        )
    ).all()
    if len(recent) >= 3:  # a card's mailbox is not a target for flooding
        return
    _end_reset_links(session, card, now)  # only the newest link works
    token = security.new_token()
    session.add(
        PasswordReset(
            token_hash=security.token_hash(token),
            card=card,
            created_at=now,
            expires_at=now + dt.timedelta(minutes=settings.reset_token_minutes),
        )
    )
    mail.queue(
        session,
        settings,
        to=patron.email,
        kind="password_reset",
        patron_name=patron.name,
        token=token,
        expires_minutes=settings.reset_token_minutes,
    )
    logs.security_event(settings, "reset_requested", card=card)


def reset_link_state(db: Database, token: str, now: dt.datetime) -> str:
    """ "ok", "used", "expired" or "unknown": what the patron is told about a reset link."""
    if not token or len(token) > 128:
        return "unknown"
    with db.read() as session:
        row = session.get(PasswordReset, security.token_hash(token))
        if row is None:
            return "unknown"
        if row.used_at is not None:
            return "used"
        return "expired" if row.expires_at <= now else "ok"


def reset_password(
    db: Database, settings: Settings, token: str, new: str, now: dt.datetime | None = None
) -> Patron:
    """R17: the mailed token sets a new password once; every session of the patron, every
    other reset link of the card and its calendar feed end."""
    now = now or settings.now()
    token_hash = security.token_hash(token or "")
    with db.read() as session:
        row = session.get(PasswordReset, token_hash)
        if row is None or row.used_at is not None or row.expires_at <= now:
            raise LibraryError("invalid_token")
        card = row.card
    if problem := security.password_problem(new, card):
        raise LibraryError(problem)
    new_hash = security.hash_password(new)  # before the write lock
    with db.write() as session:
        patron = get_patron(session, card, lock=True)  # the patron, then the link
        row = session.scalars(
            select(PasswordReset).where(PasswordReset.token_hash == token_hash).with_for_update()
        ).first()
        if row is None or row.used_at is not None or row.expires_at <= now:
            raise LibraryError("invalid_token")  # used or ended a moment ago
        row.used_at = now
        patron.password_hash = new_hash
        patron.failed_logins = 0
        patron.locked_until = None
        _end_sessions(session, card)
        _end_reset_links(session, card, now)
        calendar_feed.end_feed(session, card)
    logs.security_event(settings, "password_reset", card=card)
    return patron


def _end_reset_links(session: DbSession, card: str, now: dt.datetime) -> None:
    """Every outstanding reset link of the card stops working (it expires now)."""
    session.execute(
        update(PasswordReset)
        .where(
            PasswordReset.card == card,
            PasswordReset.used_at.is_(None),
            PasswordReset.expires_at > now,
        )
        .values(expires_at=now)
    )


def change_email(
    db: Database,
    settings: Settings,
    card: str,
    new_email: str,
    current_password: str,
    client: str | None = None,
) -> Patron:
    """R15: set or change the address; the new one gets 「メールアドレス変更完了のお知らせ」.
    A wrong current password counts like a failed login."""
    new_email = _checked_email(new_email)
    now = settings.now()
    checked = password_checked(
        db, settings, card, current_password, client=client, now=now, at_login=False
    )
    with checked as (session, patron):
        old = patron.email
        patron.email = new_email
        mail.queue(
            session,
            settings,
            to=new_email,
            kind="email_changed",
            patron_name=patron.name,
            email=new_email,
        )
        if old and old.lower() != new_email.lower():
            mail.queue(
                session,
                settings,
                to=old,
                kind="email_changed_notice",
                patron_name=patron.name,
                email=_mask(new_email),
            )
    logs.security_event(settings, "email_changed", card=card, client=client)
    return patron


def _mask(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"
