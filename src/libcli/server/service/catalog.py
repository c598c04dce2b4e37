"""The catalogue as patrons see it: titles, copies and the online verdict (R5–R8)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession

from libcli.server import search as catalogue_search
from libcli.server.db.models import ACTIVE_RESERVATION, Copy, Loan, Reservation, Title
from libcli.server.errors import LibraryError
from libcli.server.i18n import N_
from libcli.server.rules.patron import reservation_refusal
from libcli.server.rules.reservability import CopyState, available_count, online_refusal
from libcli.server.settings import Settings


@dataclass(frozen=True)
class PatronHoldings:
    """What one patron already has: the per-patron part of a verdict (R3, R21)."""

    reserved: frozenset[str]  # titles with an active reservation
    borrowing: frozenset[str]  # titles on loan to the patron now

    def refusal(self, title_id: str, limit: int) -> str | None:
        return reservation_refusal(
            active_reservations=len(self.reserved),
            limit=limit,
            already_reserved=title_id in self.reserved,
            borrowing=title_id in self.borrowing,
        )


def patron_holdings(session: DbSession, card: str) -> PatronHoldings:
    reserved = session.scalars(
        select(Reservation.title_id).where(
            Reservation.card == card, Reservation.status.in_(ACTIVE_RESERVATION)
        )
    )
    borrowing = session.scalars(
        select(Copy.title_id)
        .join(Loan, Loan.barcode == Copy.barcode)
        .where(Loan.card == card, Loan.returned_on.is_(None))
    )
    return PatronHoldings(frozenset(reserved), frozenset(borrowing))


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


def summary(
    title: Title,
    copies: Sequence[Copy],
    settings: Settings,
    holdings: PatronHoldings | None = None,
) -> dict:
    """A title with its copy counts and the online verdict: what a result row shows.

    With a patron's holdings the verdict is theirs: red for a title they already
    reserved or borrow, or when they are at the limit (what the web page shows)."""
    states = copy_states(copies)
    reason = online_refusal(title.type, states, settings.profile.online_types)
    if reason is None and holdings is not None:
        reason = holdings.refusal(title.id, settings.profile.reservation_limit)
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


def summaries(
    session: DbSession, settings: Settings, titles: Sequence[Title], card: str | None = None
) -> list[dict]:
    copies = copies_of(session, [t.id for t in titles])
    holdings = patron_holdings(session, card) if card else None
    return [summary(t, copies[t.id], settings, holdings) for t in titles]


def search(
    session: DbSession,
    settings: Settings,
    query: str | None,
    *,
    type: str | None = None,
    title: str | None = None,
    author: str | None = None,
    publisher: str | None = None,
    isbn: str | None = None,
    reservable: bool = False,
    limit: int = 20,
    offset: int = 0,
    card: str | None = None,
) -> dict:
    """A page of titles matching the free text and every field given (QUERY may be
    left out when a field is given); `reservable`: only those reservable online now."""
    fields = {"title": title, "author": author, "publisher": publisher, "isbn": isbn}
    fields = {k: v for k, v in fields.items() if not catalogue_search.is_blank(v)}
    if catalogue_search.is_blank(query) and not fields:
        raise LibraryError("invalid_request", "the query is empty")
    filters = catalogue_search.Filters(
        **fields,
        type=type,
        reservable_in=tuple(settings.profile.online_types) if reservable else None,
    )
    found = catalogue_search.search_titles(
        session, query or "", filters=filters, limit=limit, offset=offset
    )
    return {
        "items": summaries(session, settings, found.titles, card),
        "total": found.total,
        "total_exact": found.exact,
    }


def find_title(session: DbSession, title_id: str) -> Title | None:
    """The title with this id, as typed or in another case or width (`t0001`, `Ｔ0001`)."""
    title = session.get(Title, title_id)
    if title is None:
        folded = catalogue_search.fold_id(title_id)
        title = session.scalars(
            select(Title).where(func.lower(Title.id) == folded).order_by(Title.id).limit(1)
        ).first()
    return title


def title_detail(
    session: DbSession, settings: Settings, title_id: str, card: str | None = None
) -> dict:
    title = find_title(session, title_id)
    if title is None:
        raise LibraryError("not_found", N_("no title {title}"), about={"title": title_id})
    copies = copies_of(session, [title.id])[title.id]
    due = dict(
        session.execute(
            select(Loan.barcode, Loan.due_on).where(
                Loan.barcode.in_([c.barcode for c in copies]), Loan.returned_on.is_(None)
            )
        ).all()
    )
    holdings = patron_holdings(session, card) if card else None
    detail = summary(title, copies, settings, holdings)
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
