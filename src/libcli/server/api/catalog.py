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
    q: Annotated[str | None, Query(max_length=200)] = None,
    title: Annotated[str | None, Query(max_length=200)] = None,
    author: Annotated[str | None, Query(max_length=200)] = None,
    publisher: Annotated[str | None, Query(max_length=200)] = None,
    isbn: Annotated[str | None, Query(max_length=40)] = None,
    type: schemas.MaterialType | None = None,
    reservable: bool = False,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
):
    """Free text `q` and/or fields, all combined; `reservable`: only titles the caller
    can reserve online now (R5–R8). `total_exact` is false when `total` is an upper bound."""
    with db.read() as session:
        return catalog.search(
            session,
            settings,
            q,
            type=type,
            title=title,
            author=author,
            publisher=publisher,
            isbn=isbn,
            reservable=reservable,
            limit=limit,
            offset=offset,
            card=caller.card if caller else None,
        )


@router.get("/catalog/titles/{title_id}", response_model=schemas.TitleDetail)
def title(title_id: str, db: Db, settings: Config, caller: OptionalPatron):
    """The verdict is the caller's own when a token comes along (R3, R21)."""
    with db.read() as session:
        return catalog.title_detail(session, settings, title_id, caller.card if caller else None)
