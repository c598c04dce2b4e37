"""Events between visits for `libcli news`: a read-only list, told-or-not is the client's."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from libcli.server.api import schemas
from libcli.server.api.deps import Config, CurrentPatron, Db
from libcli.server.service import events

router = APIRouter(tags=["reservations"])


@router.get("/me/events", response_model=schemas.EventsOut)
def patron_events(
    caller: CurrentPatron,
    db: Db,
    settings: Config,
    due_within: Annotated[int, Query(ge=0, le=events.MAX_DUE_WITHIN)] = 2,
):
    with db.read() as session:
        return {
            "events": events.patron_events(session, settings, caller.card, due_within=due_within)
        }
