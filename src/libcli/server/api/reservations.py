"""Reserving, usage status and cancelling (R3, R9–R13, R21, R22)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from libcli.server.api import schemas
from libcli.server.api.deps import Config, CurrentPatron, Db
from libcli.server.service import reservations

router = APIRouter(tags=["reservations"])
# Ids are 32-bit integers in the database: a larger one names no reservation.
ReservationId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.post("/reservations", response_model=schemas.ReserveResponse)
def reserve(
    body: schemas.ReserveRequest,
    caller: CurrentPatron,
    db: Db,
    settings: Config,
):
    with db.write() as session:
        result = reservations.place(
            session,
            settings,
            caller.card,
            body.title_ids,
            pickup=body.pickup,
            contact=body.contact,
            email_confirmation=body.email_confirmation,
        )
    return result


@router.get("/status", response_model=schemas.StatusOut)
async def usage_status(caller: CurrentPatron, db: Db, settings: Config):
    # Two short indexed reads that wait for no lock (WAL snapshot, MVCC): on the event
    # loop, without the thread-pool hop that costs more than they do.
    with db.read() as session:
        return reservations.status(session, settings, caller.card)


@router.delete("/reservations/{reservation_id}", status_code=204, response_class=Response)
def cancel(
    reservation_id: ReservationId,
    caller: CurrentPatron,
    db: Db,
    settings: Config,
):
    with db.write() as session:
        reservations.cancel(session, settings, caller.card, reservation_id)
