"""The patron's dates as an iCalendar file (RFC 5545): due dates of loans and pickup
deadlines of ready holds (R14), for `libcli calendar` and the subscribed feed.

The feed is `/api/v1/calendar/SECRET.ics`: SECRET is 256 random bits, stored only as its
SHA-256 (like session tokens), one per card; subscribing again replaces it, and a
password change or reset ends it. Events carry titles and points, never the card number
or the patron's name; their UIDs stay the same from one download to the next (a renewal
moves its loan's event), so a calendar that imports the file again updates its events.
"""

from __future__ import annotations

import datetime as dt

import icalendar
from sqlalchemy import delete, select
from sqlalchemy.orm import Session as DbSession

from libcli.server import security
from libcli.server.db.models import CalendarFeed, Copy, Loan, Patron, Reservation, Title
from libcli.server.errors import LibraryError
from libcli.server.i18n import LANGUAGES, N_, _
from libcli.server.settings import Settings

_DUE = N_("Due back")  # 返却期限
_PICKUP = N_("Pick up by")  # 取置期限 (R14)
_CHECK = N_("Your loans and reservations:")


def _both(message: str) -> str:
    return " / ".join(_(message, lang) for lang in LANGUAGES)


def patron_dates(session: DbSession, card: str) -> list[dict]:
    """The dates of one patron's calendar, by date: open loans, ready holds with a deadline."""
    loans = session.execute(
        select(Loan.id, Loan.due_on, Title.title)
        .join(Copy, Copy.barcode == Loan.barcode)
        .join(Title, Title.id == Copy.title_id)
        .where(Loan.card == card, Loan.returned_on.is_(None))
    ).all()
    holds = session.execute(
        select(Reservation.id, Reservation.pickup_deadline, Reservation.pickup, Title.title)
        .join(Title, Title.id == Reservation.title_id)
        .where(
            Reservation.card == card,
            Reservation.status == "ready",
            Reservation.pickup_deadline.is_not(None),
        )
    ).all()
    dates = [{"kind": "due", "id": i, "date": d, "title": t} for i, d, t in loans]
    dates += [
        {"kind": "pickup", "id": i, "date": d, "pickup": p, "title": t} for i, d, p, t in holds
    ]
    return sorted(dates, key=lambda e: (e["date"], e["kind"], e["id"]))


def ics(settings: Settings, dates: list[dict]) -> bytes:
    """The iCalendar file of `dates` (patron_dates): one all-day event per date."""
    profile = settings.profile
    status_url = f"{settings.public_url}/status"  # R18
    cal = icalendar.Calendar()
    cal.add("prodid", f"-//libcli//{profile.name_en}//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{profile.name_ja} / {profile.name_en}")
    stamp = settings.now()
    for item in dates:
        event = icalendar.Event()
        uid = "loan" if item["kind"] == "due" else "pickup"
        event.add("uid", f"{uid}-{item['id']}@{profile.mail_domain}")
        event.add("dtstamp", stamp)
        event.add("dtstart", item["date"])
        event.add("dtend", item["date"] + dt.timedelta(days=1))
        event.add("transp", "TRANSPARENT")  # a reminder, not a busy day
        label = _DUE if item["kind"] == "due" else _PICKUP
        event.add("summary", f"{_both(label)}: {item['title']}")
        if item["kind"] == "pickup":
            point = profile.point(item["pickup"])
            event.add("location", f"{point.name_ja} / {point.name_en}")
        event.add("description", f"{_both(_CHECK)}\n{status_url}")
        event.add("url", status_url)
        cal.add_component(event)
    return cal.to_ical()


def subscribe(session: DbSession, settings: Settings, card: str) -> str:
    """A new feed secret for the card; the previous one (if any) stops working."""
    end_feed(session, card)
    secret = security.new_token()
    session.add(
        CalendarFeed(token_hash=security.token_hash(secret), card=card, created_at=settings.now())
    )
    return secret


def end_feed(session: DbSession, card: str) -> bool:
    """The card's feed stops working (revoke, password change or reset); False: none was."""
    return session.execute(delete(CalendarFeed).where(CalendarFeed.card == card)).rowcount > 0


def feed_card(session: DbSession, secret: str) -> str:
    """The card behind a feed secret; `not_found` for an unknown or ended one (or a card
    no longer in use)."""
    card = None
    if secret and len(secret) <= 128:
        card = session.scalar(
            select(CalendarFeed.card)
            .join(Patron, Patron.card == CalendarFeed.card)
            .where(
                CalendarFeed.token_hash == security.token_hash(secret),
                Patron.deactivated_at.is_(None),
            )
        )
    if card is None:
        raise LibraryError("not_found", "no such calendar")
    return card
