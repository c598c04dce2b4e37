"""Mail to patrons (R10, R13, R15, R17–R20): composed, queued, delivered (docs/mail.md).

`queue` adds a `Mail` row in the caller's transaction (a transactional outbox): a mail
exists if and only if the change it reports was committed. A mail that cannot be sent (an
address that is not one) is recorded `failed` with its reason and never aborts the change.

`deliver_due` is the deliverer (`libcli-server mail deliver [--loop]`, or one thread of
`serve`): it claims due mails (`queued` -> `sending`, a lease of
`settings.mail_lease_seconds`), sends each by SMTP when `settings.smtp_host` is set,
otherwise as an .eml file in `settings.outbox_dir`, and records each right after its own
exchange: `sent`, back to `queued` with a later `next_attempt_at` (a temporary failure),
or `failed` (a permanent refusal, or MAX_ATTEMPTS temporary ones). A deliverer that dies
leaves its claims in `sending`; the next deliverer retakes them once the lease is over.
Delivery is at least once; a mail sent twice (after an ambiguous failure) carries the same
Message-ID both times, `<mail-ID@mail_domain>`, so a receiver can drop the copy.

Bodies are plain UTF-8 text: Japanese first, then English, signed with the library's
name and phone number from the profile. Subjects are fixed texts, never patron data.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import os
import re
import smtplib
import ssl
import tempfile
import threading
import urllib.parse
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path

import jinja2
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from libcli.server import emails
from libcli.server.db.models import Mail
from libcli.server.db.session import Database
from libcli.server.i18n import LANGUAGES, N_, _
from libcli.server.profile import contact_name
from libcli.server.settings import Settings

QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"
STATES = (QUEUED, SENDING, SENT, FAILED)
MAX_ATTEMPTS = 10  # temporary failures before `failed`: about 8.5 hours at the default 60 s
_BATCH = 20
_SMTP_TIMEOUT = 30
_ERROR_LENGTH = 1000
# A sent reset link must not stay readable by staff in `mail list` (SECURITY.md).
_RESET_TOKEN = re.compile(r"(/reset\?token=)[^\s]+")
REDACTED = "[removed-after-sending]"

log = logging.getLogger("libcli.server.mail")

# -- composing -------------------------------------------------------------------------
# One Jinja2 template per kind (mail_templates/KIND.txt), rendered once per language with
# `_` from the server's gettext domain: Japanese first, then English, then the signature.

SUBJECTS = {
    "reservation_confirmation": N_("Reservation received"),  # R10
    "hold_ready": N_("Your reservation is ready"),  # R13
    "email_changed": N_("Email address changed"),  # R15
    "email_changed_notice": N_("Your email address was changed"),
    "password_reset": N_("Resetting your password"),  # R17
    "password_changed": N_("Your password was changed"),
    "due_reminder": N_("Your loans are due soon"),  # reminders, opt-in
    "overdue_notice": N_("Your loans are overdue"),
}
_WEEKDAYS_JA = "月火水木金土日"


@functools.cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("libcli.server", "mail_templates"),
        autoescape=False,  # plain text mail
        undefined=jinja2.StrictUndefined,  # missing context is a programming error
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _date(day: dt.date, lang: str) -> str:
    if lang == "ja":
        return f"{day.year}年{day.month}月{day.day}日({_WEEKDAYS_JA[day.weekday()]})"
    return f"{day:%A}, {day.day} {day:%B %Y}"


_PHONE = N_("Phone")
_NO_REPLIES = N_("This address only sends mail; replies are not read.")


def _signature(settings: Settings) -> str:
    p = settings.profile
    phone = " / ".join(_(_PHONE, lang) for lang in LANGUAGES)
    lines = ["――――――――――――――――――――", f"{p.name_ja} / {p.name_en}", f"{phone}: {p.phone}"]
    lines += [_(_NO_REPLIES, lang) for lang in LANGUAGES]
    return "\n".join(lines) + "\n"


def _context(settings: Settings, kind: str, lang: str, context: dict) -> dict:
    """What a template sees in `lang`: the library's and points' names, dates, contact."""
    profile = settings.profile
    values = dict(context)
    values |= {
        "library": profile.name_ja if lang == "ja" else profile.name_en,
        "phone": profile.phone,
        "status_url": f"{settings.public_url}/status",  # R18
        "hold_days": profile.hold_days,
        "date": lambda day: _date(day, lang),
    }
    if "pickup" in context:
        point = profile.point(context["pickup"])
        values["point"] = point.name_ja if lang == "ja" else point.name_en
    if "contact" in context:
        values["contact"] = contact_name(context["contact"], lang)
    if kind == "password_reset":
        token = urllib.parse.quote(context["token"], safe="")
        values["url"] = f"{settings.public_url}/reset?token={token}"  # R17
    return values


_REQUIRED = {
    "reservation_confirmation": {"patron_name", "items", "pickup", "contact"},
    "hold_ready": {"patron_name", "title", "pickup", "pickup_deadline"},
    "email_changed": {"patron_name", "email"},
    "email_changed_notice": {"patron_name", "email"},
    "password_reset": {"patron_name", "token", "expires_minutes"},
    "password_changed": {"patron_name"},
    "due_reminder": {"patron_name", "items"},
    "overdue_notice": {"patron_name", "items"},
}


def compose(settings: Settings, kind: str, **context) -> tuple[str, str]:
    """Subject and body of a mail of `kind` (_REQUIRED says the context each takes)."""
    if kind not in SUBJECTS:
        raise ValueError(f"unknown mail kind: {kind}")
    if set(context) != _REQUIRED[kind]:
        raise TypeError(f"{kind} takes {sorted(_REQUIRED[kind])}, not {sorted(context)}")
    template = _templates().get_template(f"{kind}.txt")
    parts = []
    for lang in LANGUAGES:

        def gettext(message: str, _lang: str = lang, **values) -> str:
            text = _(message, _lang)
            return text % values if values else text

        parts.append(template.render(_context(settings, kind, lang, context), _=gettext))
    subject = " / ".join(_(SUBJECTS[kind], lang) for lang in LANGUAGES)
    return subject, "\n".join(parts) + "\n" + _signature(settings)


def _printable(text: object) -> str:
    """A refused address as staff may read it: control characters escaped, column-sized."""
    return str(text).encode("unicode_escape").decode("ascii")[: emails.MAX_LENGTH]


def queue(session: Session, settings: Settings, *, to: str, kind: str, **context) -> Mail:
    """Compose a mail and add it to the outbox in the caller's transaction.

    An address that is not one plain address makes the mail `failed` at once, with the
    reason: the change the mail reports still commits.
    """
    subject, body = compose(settings, kind, **context)
    now = settings.now()
    mail = Mail(subject=subject, body=body, kind=kind, created_at=now, attempts=0)
    try:
        mail.to_addr, mail.state, mail.next_attempt_at = emails.normalized(to), QUEUED, now
    except emails.InvalidEmail as e:
        mail.to_addr, mail.state, mail.last_error = _printable(to), FAILED, f"address: {e}"
        log.warning("mail %s to an invalid address recorded as failed: %s", kind, e)
    session.add(mail)
    return mail


# -- delivering ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Outgoing:
    """A claimed mail, as the deliverer holds it between its transactions."""

    id: int
    to_addr: str
    subject: str
    body: str
    kind: str
    created_at: dt.datetime
    message_id: str
    attempts: int


def message_id(mail_id: int, settings: Settings) -> str:
    """The same on every attempt, so a receiver can drop a second copy."""
    return f"<mail-{mail_id}@{settings.profile.mail_domain}>"


def to_message(mail: Outgoing, settings: Settings) -> EmailMessage:
    """The RFC 5322 message of a claimed mail, from the library's own domain (R20)."""
    profile = settings.profile
    msg = EmailMessage()
    msg["From"] = formataddr((profile.name_ja, profile.sender_address))
    msg["To"] = emails.normalized(mail.to_addr)
    msg["Subject"] = mail.subject
    msg["Date"] = format_datetime(mail.created_at)
    msg["Message-ID"] = mail.message_id
    msg.set_content(mail.body, charset="utf-8", cte="base64")
    return msg


def _due(settings: Settings):
    """Queued and due, or claimed by a deliverer whose lease is over."""
    now = settings.now()
    lease_over = now - dt.timedelta(seconds=settings.mail_lease_seconds)
    return or_(
        and_(
            Mail.state == QUEUED, or_(Mail.next_attempt_at.is_(None), Mail.next_attempt_at <= now)
        ),
        and_(Mail.state == SENDING, Mail.claimed_at <= lease_over),
    )


def _any_due(db: Database, settings: Settings) -> bool:
    """A read first, so an idle deliverer does not take the write lock every poll."""
    with db.read() as session:
        return session.scalar(select(Mail.id).where(_due(settings)).limit(1)) is not None


def _claim(db: Database, settings: Settings, after_id: int) -> list[Outgoing]:
    """Take the next due mails after `after_id`: queued and due, or a lease run out.

    PostgreSQL: rows another deliverer is claiming are skipped (FOR UPDATE SKIP LOCKED);
    SQLite: the write lock (BEGIN IMMEDIATE) lets one deliverer claim at a time.
    """
    with db.write() as session:
        now = settings.now()
        mails = session.scalars(
            select(Mail)
            .where(_due(settings), Mail.id > after_id)
            .order_by(Mail.id)
            .limit(_BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        claimed = []
        for m in mails:
            m.state, m.claimed_at, m.attempts = SENDING, now, m.attempts + 1
            m.message_id = m.message_id or message_id(m.id, settings)
            claimed.append(
                Outgoing(
                    m.id,
                    m.to_addr,
                    m.subject,
                    m.body,
                    m.kind,
                    m.created_at,
                    m.message_id,
                    m.attempts,
                )
            )
        return claimed


def _record_sent(db: Database, settings: Settings, mail: Outgoing) -> None:
    values = {"state": SENT, "sent_at": settings.now(), "claimed_at": None, "last_error": None}
    values["next_attempt_at"] = None
    if mail.kind == "password_reset":
        values["body"] = _RESET_TOKEN.sub(rf"\g<1>{REDACTED}", mail.body)
    with db.write() as session:
        session.execute(update(Mail).where(Mail.id == mail.id).values(**values))


def retry_delay(settings: Settings, attempts: int) -> dt.timedelta:
    """Exponential backoff: the base delay, doubled after each further attempt."""
    return dt.timedelta(seconds=settings.mail_retry_seconds * 2 ** max(attempts - 1, 0))


def _record_failure(
    db: Database, settings: Settings, mail: Outgoing, error: str, *, permanent: bool
) -> None:
    now = settings.now()
    if permanent or mail.attempts >= MAX_ATTEMPTS:
        values = {"state": FAILED, "next_attempt_at": None}
        if not permanent:
            error = f"gave up after {mail.attempts} attempts: {error}"
    else:
        values = {"state": QUEUED, "next_attempt_at": now + retry_delay(settings, mail.attempts)}
    values |= {"claimed_at": None, "last_error": error[:_ERROR_LENGTH]}
    with db.write() as session:
        # Only our own claim: a mail another deliverer already recorded sent stays sent.
        session.execute(
            update(Mail).where(Mail.id == mail.id, Mail.state == SENDING).values(**values)
        )


def _write_eml(outbox: Path, mail: Outgoing, msg: EmailMessage) -> None:
    outbox.mkdir(parents=True, exist_ok=True)
    name = f"{mail.created_at:%Y%m%d-%H%M%S}-{mail.id:06d}-{mail.kind}.eml"
    # Written whole, then renamed: a reader of the outbox never sees half a mail.
    fd, tmp = tempfile.mkstemp(dir=outbox, suffix=".part")
    with os.fdopen(fd, "wb") as f:
        f.write(msg.as_bytes())
    os.replace(tmp, outbox / name)


def _smtp(settings: Settings) -> smtplib.SMTP:
    smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=_SMTP_TIMEOUT)
    try:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def _quit(smtp: smtplib.SMTP) -> None:
    """Every mail is recorded already: whatever QUIT answers (421...) changes nothing."""
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        pass
    finally:
        smtp.close()


def _refusal(exc: Exception) -> tuple[bool, bool]:
    """(permanent, connection still usable) for an exception of one SMTP exchange."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code = min(code for code, _ in exc.recipients.values())
        return 500 <= code < 600, code != 421
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= exc.smtp_code < 600, exc.smtp_code != 421
    return False, False  # dropped, timed out, refused: ambiguous, retry on a new connection


def _deliver_to_outbox(db: Database, settings: Settings, batch: list[Outgoing]) -> int:
    sent = 0
    for mail in batch:
        try:
            _write_eml(Path(settings.outbox_dir), mail, to_message(mail, settings))
        except emails.InvalidEmail as e:
            _record_failure(db, settings, mail, f"address: {e}", permanent=True)
        except OSError as e:
            _record_failure(db, settings, mail, f"outbox: {e}", permanent=False)
        else:
            _record_sent(db, settings, mail)
            sent += 1
    return sent


def _deliver_by_smtp(db: Database, settings: Settings, batch: list[Outgoing]) -> tuple[int, bool]:
    """Send a claimed batch on one connection; (mails sent, whether SMTP was reachable)."""
    sent, smtp = 0, None
    try:
        for n, mail in enumerate(batch):
            try:
                msg = to_message(mail, settings)
            except emails.InvalidEmail as e:
                _record_failure(db, settings, mail, f"address: {e}", permanent=True)
                continue
            if smtp is None:
                try:
                    smtp = _smtp(settings)
                except (OSError, smtplib.SMTPException) as e:
                    error = f"smtp {settings.smtp_host}:{settings.smtp_port}: {e}"
                    for waiting in batch[n:]:
                        _record_failure(db, settings, waiting, error, permanent=False)
                    return sent, False
            try:
                smtp.send_message(msg)
            except (OSError, smtplib.SMTPException) as e:
                permanent, usable = _refusal(e)
                _record_failure(db, settings, mail, f"smtp: {e}", permanent=permanent)
                if not usable:
                    smtp.close()
                    smtp = None
            else:
                _record_sent(db, settings, mail)
                sent += 1
    finally:
        if smtp is not None:
            _quit(smtp)
    return sent, True


def deliver_due(db: Database, settings: Settings) -> int:
    """Send every mail due now, once; returns how many went out. Safe to run concurrently."""
    sent, after_id = 0, 0
    if not _any_due(db, settings):
        return 0
    while batch := _claim(db, settings, after_id):
        after_id = batch[-1].id  # a mail that fails now waits for its next_attempt_at
        if not settings.smtp_host:
            sent += _deliver_to_outbox(db, settings, batch)
            continue
        done, reachable = _deliver_by_smtp(db, settings, batch)
        sent += done
        if not reachable:
            break  # the rest waits: no point claiming more for a server that is down
    return sent


def deliver_forever(db: Database, settings: Settings, stop: threading.Event) -> None:
    """The deliverer loop (`mail deliver --loop`, the thread of `serve`) until `stop` is set."""
    while not stop.is_set():
        try:
            deliver_due(db, settings)
        except Exception:  # a database hiccup must not end the loop; the lease covers it
            log.exception("mail delivery failed; trying again")
        stop.wait(settings.mail_poll_seconds)


def start_deliverer_thread(settings: Settings) -> threading.Event:
    """One daemon thread delivering in this process, off the request pool; set to stop."""
    stop = threading.Event()
    db = Database(settings.database_url)
    thread = threading.Thread(
        target=deliver_forever, args=(db, settings, stop), name="libcli-mail", daemon=True
    )
    thread.start()
    return stop


# -- staff -----------------------------------------------------------------------------


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def list_mail(session: Session, state: str | None = None) -> list[dict]:
    """The outbox, oldest first, for `libcli-server mail list`."""
    query = select(Mail).order_by(Mail.id)
    if state is not None:
        query = query.where(Mail.state == state)
    return [
        {
            "id": m.id,
            "to": m.to_addr,
            "subject": m.subject,
            "body": m.body,
            "kind": m.kind,
            "state": m.state,
            "attempts": m.attempts,
            "last_error": m.last_error,
            "message_id": m.message_id,
            "created_at": _iso(m.created_at),
            "next_attempt_at": _iso(m.next_attempt_at),
            "sent_at": _iso(m.sent_at),
        }
        for m in session.scalars(query)
    ]


def retry(session: Session, settings: Settings, ids: list[int]) -> list[int]:
    """Put failed mails back in the queue, due now, with a fresh count of attempts."""
    retried = session.scalars(
        update(Mail)
        .where(Mail.id.in_(ids), Mail.state == FAILED)
        .values(state=QUEUED, attempts=0, next_attempt_at=settings.now(), claimed_at=None)
        .returning(Mail.id)
    ).all()
    return sorted(retried)
