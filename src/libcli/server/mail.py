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

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from libcli.server import emails
from libcli.server.db.models import Mail
from libcli.server.db.session import Database
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

CONTACT_NAMES = {  # R13
    "phone": ("電話", "Phone call"),
    "email": ("メール", "Email"),
    "ring": ("着信のみ", "Ring only (a missed call, no need to call back)"),
    "voicemail": ("留守電", "Voicemail message"),
    "none": ("連絡不要", "No contact (please check your usage status)"),
}
_WEEKDAYS_JA = "月火水木金土日"


# -- composing -------------------------------------------------------------------------


def _date_ja(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日({_WEEKDAYS_JA[day.weekday()]})"


def _date_en(day: dt.date) -> str:
    return f"{day:%A}, {day.day} {day:%B %Y}"


def _point_names(settings: Settings, code: str) -> tuple[str, str]:
    point = settings.profile.point(code)
    return point.name_ja, point.name_en


def _signature(settings: Settings) -> str:
    p = settings.profile
    return (
        "――――――――――――――――――――\n"
        f"{p.name_ja} / {p.name_en}\n"
        f"電話 / Phone: {p.phone}\n"
        "このメールは送信専用です。ご返信いただいてもお答えできません。\n"
        "This address only sends mail; replies are not read.\n"
    )


def _status_url(settings: Settings) -> str:
    return f"{settings.public_url}/status"  # R18


def _reservation_confirmation(
    settings: Settings, *, patron_name: str, items: list[dict], pickup: str, contact: str
) -> tuple[str, str]:
    point_ja, point_en = _point_names(settings, pickup)
    contact_ja, contact_en = CONTACT_NAMES[contact]
    lines_ja = "\n".join(f"・{i['title']}(予約順位 {i['position']} 番)" for i in items)
    lines_en = "\n".join(f"- {i['title']} (position in the queue: {i['position']})" for i in items)
    subject = "予約受付のお知らせ / Reservation received"
    body = f"""{patron_name} 様

{settings.profile.name_ja}をご利用いただき、ありがとうございます。
次の資料のご予約を承りました。

{lines_ja}

受取館: {point_ja}
連絡方法: {contact_ja}

ご用意ができましたら、ご指定の方法でお知らせします。
予約の状況は次のページでご確認いただけます。
{_status_url(settings)}
「受取可」になる前でしたら、利用状況のページから予約を取り消せます。
それ以降の取り消しはお電話({settings.profile.phone})でお願いします。

Dear {patron_name},

Thank you for using {settings.profile.name_en}. We have received your reservation of:

{lines_en}

Pickup at: {point_en}
Contact: {contact_en}

We will let you know as you asked when it is ready for you.
You can check your reservations here:
{_status_url(settings)}
Until an item is ready for pickup you can cancel it on that page; after that, please
phone us ({settings.profile.phone}).

{_signature(settings)}"""
    return subject, body


def _hold_ready(
    settings: Settings,
    *,
    patron_name: str,
    title: str,
    pickup: str,
    pickup_deadline: dt.date | None,
) -> tuple[str, str]:
    point_ja, point_en = _point_names(settings, pickup)
    days = settings.profile.hold_days
    if pickup_deadline is not None:
        until_ja = f"{_date_ja(pickup_deadline)}までにお受け取りください。"
        until_en = f"Please collect it by {_date_en(pickup_deadline)}."
    else:
        until_ja = f"ご連絡日の翌日から開館日{days}日間お取り置きします。"
        until_en = f"We keep it for {days} opening days from the day after we contact you."
    subject = "予約資料のご用意ができました / Your reservation is ready"
    body = f"""{patron_name} 様

ご予約の資料のご用意ができました。

資料名: {title}
受取館: {point_ja}
{until_ja}
期限を過ぎますと、ご予約は自動的に取り消されます。
お受け取りの際は利用者カードをお持ちください。

予約の状況は次のページでご確認いただけます。
{_status_url(settings)}

Dear {patron_name},

The item you reserved is ready for you.

Title: {title}
Pickup at: {point_en}
{until_en}
After that the reservation is cancelled automatically.
Please bring your library card.

You can check your reservations here:
{_status_url(settings)}

{_signature(settings)}"""
    return subject, body


def _email_changed(settings: Settings, *, patron_name: str, email: str) -> tuple[str, str]:
    subject = "メールアドレス変更完了のお知らせ / Email address changed"  # R15
    body = f"""{patron_name} 様

メールアドレスの変更が完了しました。
今後、{settings.profile.name_ja}からのお知らせは次のアドレスにお送りします。
{email}

お心当たりのない場合は、お手数ですが図書館までお電話ください。

Dear {patron_name},

Your email address has been changed. From now on, mail from
{settings.profile.name_en} goes to:
{email}

If you did not change it, please phone the library.

{_signature(settings)}"""
    return subject, body


def _email_changed_notice(settings: Settings, *, patron_name: str, email: str) -> tuple[str, str]:
    subject = "メールアドレスが変更されました / Your email address was changed"
    body = f"""{patron_name} 様

利用者設定のメールアドレスが変更されたため、以前のアドレスにお知らせしています。
新しいアドレス: {email}
このアドレスには今後お知らせをお送りしません。
お心当たりのない場合は、至急図書館までお電話ください。

Dear {patron_name},

The email address of your library account was changed; this note goes to the
address used before. New address: {email}
No more mail will be sent here. If you did not change it, please phone the library
at once.

{_signature(settings)}"""
    return subject, body


def _password_reset(
    settings: Settings, *, patron_name: str, token: str, expires_minutes: int
) -> tuple[str, str]:
    url = f"{settings.public_url}/reset?token={urllib.parse.quote(token, safe='')}"  # R17
    subject = "パスワード再設定のご案内 / Resetting your password"
    body = f"""{patron_name} 様

パスワード再設定のお申し込みを受け付けました。
次のURLを開いて、新しいパスワードを設定してください。
{url}

このURLは{expires_minutes}分間、一度だけ有効です。
お申し込みに心当たりのない場合は、このメールを破棄してください。
パスワードは変更されません。

Dear {patron_name},

We received a request to reset your password. Open this URL to set a new one:
{url}

It works once, for {expires_minutes} minutes. If you did not ask for this, you can
ignore this mail; your password stays as it is.

{_signature(settings)}"""
    return subject, body


def _password_changed(settings: Settings, *, patron_name: str) -> tuple[str, str]:
    subject = "パスワード変更のお知らせ / Your password was changed"
    body = f"""{patron_name} 様

パスワードが変更されました。
お心当たりのない場合は、至急図書館までお電話ください。

Dear {patron_name},

The password of your library account has been changed.
If you did not change it, please phone the library at once.

{_signature(settings)}"""
    return subject, body


COMPOSERS = {
    "reservation_confirmation": _reservation_confirmation,  # R10
    "hold_ready": _hold_ready,  # R13
    "email_changed": _email_changed,  # R15
    "email_changed_notice": _email_changed_notice,
    "password_reset": _password_reset,  # R17
    "password_changed": _password_changed,
}


def compose(settings: Settings, kind: str, **context) -> tuple[str, str]:
    """Subject and body of a mail of `kind` (see COMPOSERS for the context each takes)."""
    if kind not in COMPOSERS:
        raise ValueError(f"unknown mail kind: {kind}")
    return COMPOSERS[kind](settings, **context)


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
