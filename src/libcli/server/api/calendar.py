"""The patron's dates as iCalendar: the file (`libcli calendar`) and the secret feed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from libcli.server.api import schemas
from libcli.server.api.deps import Config, CurrentPatron, Db
from libcli.server.service import calendar_feed

router = APIRouter(tags=["calendar"])
ICS = "text/calendar; charset=utf-8"
_ICS_RESPONSE = {200: {"content": {"text/calendar": {}}}}
# Nobody in between keeps a copy: the dates are the patron's.
_NO_STORE = {"Cache-Control": "no-store"}


def _ics(db, settings, card: str) -> Response:
    with db.read() as session:
        dates = calendar_feed.patron_dates(session, card)
    return Response(calendar_feed.ics(settings, dates), media_type=ICS, headers=_NO_STORE)


@router.get("/me/calendar.ics", response_class=Response, responses=_ICS_RESPONSE)
def my_calendar(caller: CurrentPatron, db: Db, settings: Config):
    """Your due dates and pickup deadlines, one all-day event each."""
    return _ics(db, settings, caller.card)


@router.post("/me/calendar/feed", response_model=schemas.CalendarFeedOut)
def subscribe(caller: CurrentPatron, db: Db, settings: Config, request: Request):
    """A new secret feed URL (the previous one stops working)."""
    with db.write() as session:
        secret = calendar_feed.subscribe(session, settings, caller.card)
    path = request.app.url_path_for("calendar_feed", secret=secret)
    return {"url": f"{settings.public_url}{path}"}


@router.delete("/me/calendar/feed", response_model=schemas.CalendarFeedRevoked)
def revoke(caller: CurrentPatron, db: Db):
    with db.write() as session:
        return {"revoked": calendar_feed.end_feed(session, caller.card)}


@router.get(
    "/calendar/{secret}.ics",
    name="calendar_feed",
    response_class=Response,
    responses=_ICS_RESPONSE,
)
def feed(secret: Annotated[str, Path(max_length=128)], db: Db, settings: Config):
    """The subscribed feed: no login, the secret in the URL is the key."""
    with db.read() as session:
        card = calendar_feed.feed_card(session, secret)
    return _ics(db, settings, card)
