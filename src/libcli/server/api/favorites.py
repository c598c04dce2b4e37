"""Favorites (お気に入り): where a reservation starts (R9)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from libcli.server.api import schemas
from libcli.server.api.deps import Config, CurrentPatron, Db
from libcli.server.service import catalog, reservations

router = APIRouter(tags=["favorites"])


@router.get("/favorites", response_model=schemas.Favorites)
def list_favorites(caller: CurrentPatron, db: Db, settings: Config):
    with db.read() as session:
        titles = reservations.favorite_titles(session, caller.card)
        return {"items": catalog.summaries(session, settings, titles, caller.card)}


@router.put(
    "/favorites/{title_id}",
    status_code=201,
    response_class=Response,
    responses={204: {"description": "Already a favorite: nothing changed."}},
)
def add_favorite(title_id: str, caller: CurrentPatron, db: Db, settings: Config):
    """201 when the title was added, 204 when it was a favorite already."""
    with db.write() as session:
        added = reservations.add_favorite(session, settings, caller.card, title_id)
    return Response(status_code=201 if added else 204)


@router.delete("/favorites/{title_id}", status_code=204, response_class=Response)
def remove_favorite(title_id: str, caller: CurrentPatron, db: Db):
    with db.write() as session:
        reservations.remove_favorite(session, caller.card, title_id)
