"""The catalogue as patrons see it: titles, copies and the online verdict (R5–R8)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from libcli.server import search as catalogue_search
from libcli.server.db.models import Copy, Loan, Title
from libcli.server.errors import LibraryError
from libcli.server.rules.reservability import CopyState, available_count, online_refusal
from libcli.server.settings import Settings


def copies_of(session: DbSession, title_ids: Sequence[str]) -> dict[str, list[Copy]]:
    by_title: dict[str, list[Copy]] = defaultdict(list)
    if title_ids:
        for copy in session.scalars(
            select(Copy).where(Copy.title_id.in_(title_ids)).order_by(Copy.barcode)
        ):
            by_title[copy.title_id].append(copy)
    return by_title


def copy_states(copies: Sequence[Copy]) -> list[CopyState]:
    return [CopyState(loanable=c.loanable, state=c.state) for c in copies]


def summary(title: Title, copies: Sequence[Copy], settings: Settings) -> dict:
    """A title with its copy counts and the online verdict: what a result row shows."""
    states = copy_states(copies)
    reason = online_refusal(title.type, states, settings.profile.online_types)
    return {
        "id": title.id,
        "title": title.title,
        "author": title.author,
        "publisher": title.publisher,
        "year": title.year,
        "type": title.type,
        "isbn": title.isbn,
        "copies": len(states),
        "available": available_count(states),
        "reservable": reason is None,
        "reason": reason,
    }


def summaries(session: DbSession, settings: Settings, titles: Sequence[Title]) -> list[dict]:
    copies = copies_of(session, [t.id for t in titles])
    return [summary(t, copies[t.id], settings) for t in titles]


def search(
    session: DbSession,
    settings: Settings,
    query: str,
    *,
    type: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> dict:
    titles, total = catalogue_search.search_titles(
        session, query, type=type, limit=limit, offset=offset
    )
    return {"items": summaries(session, settings, titles), "total": total}


def title_detail(session: DbSession, settings: Settings, title_id: str) -> dict:
    title = session.get(Title, title_id)
    if title is None:
        raise LibraryError("not_found", f"no title {title_id}")
    copies = copies_of(session, [title_id])[title_id]
    due = dict(
        session.execute(
            select(Loan.barcode, Loan.due_on).where(
                Loan.barcode.in_([c.barcode for c in copies]), Loan.returned_on.is_(None)
            )
        ).all()
    )
    detail = summary(title, copies, settings)
    detail["copies"] = [
        {
            "barcode": c.barcode,
            "point": c.point,
            "loanable": c.loanable,
            "state": c.state,
            "due_date": due[c.barcode].isoformat() if c.barcode in due else None,
        }
        for c in copies
    ]
    return detail
