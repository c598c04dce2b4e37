"""The catalogue: search and title detail with the online verdict (R5–R8)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from libcli.server.api import schemas
from libcli.server.api.deps import Config, Db, OptionalPatron
from libcli.server.service import catalog

router = APIRouter(tags=["catalogue"])


@router.get("/catalog/search", response_model=schemas.SearchResult)
def search(
    db: Db,
    settings: Config,
    caller: OptionalPatron,
    q: Annotated[str, Query(min_length=1, max_length=200)],
    type: schemas.MaterialType | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
):
    with db.read() as session:
        card = caller.card if caller else None
        return catalog.search(
            session, settings, q, type=type, limit=limit, offset=offset, card=card
        )


@router.get("/catalog/titles/{title_id}", response_model=schemas.TitleDetail)
def title(title_id: str, db: Db, settings: Config, caller: OptionalPatron):
    """The verdict is the caller's own when a token comes along (R3, R21)."""
    with db.read() as session:
        return catalog.title_detail(session, settings, title_id, caller.card if caller else None)
