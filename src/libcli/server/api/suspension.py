"""Suspending a waiting reservation (休止) and resuming it."""

from __future__ import annotations

from fastapi import APIRouter, Response

from libcli.server.api.deps import Config, CurrentPatron, Db
from libcli.server.api.reservations import ReservationId
from libcli.server.api.schemas import SuspendRequest
from libcli.server.service import suspension

router = APIRouter(tags=["reservations"])


@router.put("/reservations/{reservation_id}/suspension", status_code=204, response_class=Response)
def suspend(
    reservation_id: ReservationId,
    body: SuspendRequest,
    caller: CurrentPatron,
    db: Db,
    settings: Config,
):
    """Returned copies pass over the reservation until `until`; it keeps its place."""
    with db.write() as session:
        suspension.suspend(session, settings, caller.card, reservation_id, body.until)


@router.delete(
    "/reservations/{reservation_id}/suspension", status_code=204, response_class=Response
)
def resume(
    reservation_id: ReservationId,
    caller: CurrentPatron,
    db: Db,
    settings: Config,
):
    with db.write() as session:
        suspension.resume(session, settings, caller.card, reservation_id)
