"""Mail to patrons (R10, R13, R15, R17–R20): composed, queued, delivered.

`queue` adds a `Mail` row in the caller's transaction (a transactional outbox): a mail
exists if and only if the change it reports was committed. `deliver_pending` sends what
is queued later, by SMTP when `settings.smtp_host` is set, otherwise as .eml files in
`settings.outbox_dir`.

Delivery claims each mail before sending it (sent_at set, error = CLAIMED) so that two
servers delivering at once never send one mail twice; a failure releases the claim and
records the error for a later try. A process that dies between claiming and sending
leaves the mail claimed but unsent: `list_mail` shows it with error "claimed", for
staff to see. A late mail is better than a double one.

Bodies are plain UTF-8 text: Japanese first, then English, signed with the library's
name and phone number from the profile. Subjects are fixed texts, never patron data.
"""

from __future__ import annotations

import datetime as dt
import os
import smtplib
import ssl
import tempfile
import urllib.parse
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from libcli.server.db.models import Mail
from libcli.server.db.session import Database
from libcli.server.settings import Settings

CLAIMED = "claimed"  # Mail.error while a deliverer holds the mail
_BATCH = 50
_SMTP_TIMEOUT = 30
# One address and nothing else: no control characters (header injection), no spaces,
# no list or display-name syntax that could add recipients.
_FORBIDDEN_IN_ADDRESS = set(' ,;:<>()[]"\\')

CONTACT_NAMES = {  # R13
    "phone": ("電話", "Phone call"),
    "email": ("メール", "Email"),
    "ring": ("着信のみ", "Ring only (a missed call, no need to call back)"),
    "voicemail": ("留守電", "Voicemail message"),
    "none": ("連絡不要", "No contact (please check your usage status)"),
}
_WEEKDAYS_JA = "月火水木金土日"


def check_address(address: str) -> str:
    """The address itself if it is one plain address; ValueError otherwise."""
    if not isinstance(address, str) or not address:
        raise ValueError("mail address is empty")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F or ch in _FORBIDDEN_IN_ADDRESS for ch in address):
        raise ValueError(f"mail address contains a forbidden character: {address!r}")
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain or "@" in local:
        raise ValueError(f"not a mail address: {address!r}")
    return address


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


def queue(session: Session, settings: Settings, *, to: str, kind: str, **context) -> Mail:
    """Compose a mail and add it to the outbox in the caller's transaction."""
    subject, body = compose(settings, kind, **context)
    mail = Mail(
        to_addr=check_address(to),
        subject=subject,
        body=body,
        kind=kind,
        created_at=settings.now(),
    )
    session.add(mail)
    return mail


# -- delivering ------------------------------------------------------------------------


def to_message(mail: Mail, settings: Settings) -> EmailMessage:
    """The RFC 5322 message of a queued mail, from the library's own domain (R20)."""
    profile = settings.profile
    msg = EmailMessage()
    msg["From"] = formataddr((profile.name_ja, profile.sender_address))
    msg["To"] = check_address(mail.to_addr)
    msg["Subject"] = mail.subject
    msg["Date"] = format_datetime(mail.created_at)
    msg["Message-ID"] = make_msgid(idstring=f"mail{mail.id}", domain=profile.mail_domain)
    msg.set_content(mail.body, charset="utf-8", cte="base64")
    return msg


def _claim(db: Database, settings: Settings, after_id: int) -> tuple[list[Mail], int | None]:
    """Take the next unsent mails after `after_id`, each only if no one else took it first.

    Returns the mails taken and the last id looked at (None: nothing left to look at).
    """
    claimed = []
    with db.write() as session:
        ids = session.scalars(
            select(Mail.id)
            .where(Mail.sent_at.is_(None), Mail.id > after_id)
            .order_by(Mail.id)
            .limit(_BATCH)
        ).all()
        now = settings.now()
        for mail_id in ids:
            taken = session.execute(
                update(Mail)
                .where(Mail.id == mail_id, Mail.sent_at.is_(None))
                .values(sent_at=now, error=CLAIMED)
            )
            if taken.rowcount == 1:
                claimed.append(mail_id)
        mails = session.scalars(select(Mail).where(Mail.id.in_(claimed)).order_by(Mail.id))
        return list(mails), (ids[-1] if ids else None)


def _record(db: Database, settings: Settings, results: dict[int, str | None]) -> None:
    with db.write() as session:
        now = settings.now()
        for mail_id, error in results.items():
            if error is None:
                values = {"sent_at": now, "error": None}
            else:
                values = {"sent_at": None, "error": error}  # released for a later try
            session.execute(update(Mail).where(Mail.id == mail_id).values(**values))


def _write_eml(outbox: Path, mail: Mail, msg: EmailMessage) -> None:
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


def _send_batch(settings: Settings, mails: list[Mail]) -> dict[int, str | None]:
    results: dict[int, str | None] = {}
    if not settings.smtp_host:
        for mail in mails:
            try:
                _write_eml(Path(settings.outbox_dir), mail, to_message(mail, settings))
                results[mail.id] = None
            except (OSError, ValueError) as e:
                results[mail.id] = f"outbox: {e}"
        return results
    try:
        smtp = _smtp(settings)
    except (OSError, smtplib.SMTPException) as e:
        return {mail.id: f"smtp {settings.smtp_host}:{settings.smtp_port}: {e}" for mail in mails}
    with smtp:
        for mail in mails:
            try:
                smtp.send_message(to_message(mail, settings))
                results[mail.id] = None
            except (OSError, ValueError, smtplib.SMTPException) as e:
                results[mail.id] = f"smtp: {e}"
    return results


def deliver_pending(db: Database, settings: Settings) -> int:
    """Send every unsent mail once; returns how many went out. Safe to run concurrently."""
    sent, after_id = 0, 0
    while True:
        mails, last_seen = _claim(db, settings, after_id)
        if last_seen is None:
            return sent
        after_id = last_seen  # a mail that fails now waits for the next call
        if mails:
            results = _send_batch(settings, mails)
            _record(db, settings, results)
            sent += sum(1 for error in results.values() if error is None)


def list_mail(session: Session) -> list[dict]:
    """The outbox, oldest first, for `libcli-server mail list`."""
    return [
        {
            "id": m.id,
            "to": m.to_addr,
            "subject": m.subject,
            "date": m.created_at.isoformat(),
            "body": m.body,
            "sent": m.sent_at is not None and m.error is None,
            "sent_at": m.sent_at.isoformat() if m.sent_at and m.error is None else None,
            "error": m.error,
            "kind": m.kind,
        }
        for m in session.scalars(select(Mail).order_by(Mail.id))
    ]
