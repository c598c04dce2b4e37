"""Can a title be reserved online (R5–R8)?"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class CopyState:
    """One copy as the rules see it: 禁帯区分 (loanable) and 状態 (state)."""

    loanable: bool
    state: str  # on_shelf | on_loan | in_transit | held


def is_available(copy: CopyState) -> bool:
    """貸出可能: a loanable copy standing on the shelf (R8). Takes a `Copy` row too."""
    return copy.loanable and copy.state == "on_shelf"


def available_count(copies: Iterable[CopyState]) -> int:
    """貸出可能数: loanable copies standing on the shelf."""
    return sum(1 for c in copies if is_available(c))


def online_refusal(
    material_type: str, copies: Sequence[CopyState], online_types: Iterable[str]
) -> str | None:
    """The reason a title cannot be reserved online, or None when it can.

    R5: only the profile's online types (books). R7: reference-only copies (禁帯出) are
    used inside the library. R6/R8: while even one loanable copy is on the shelf the
    patron is asked to come and borrow it.
    """
    if material_type not in tuple(online_types):
        return "not_a_book"
    if not copies:
        return "no_copies"
    if not any(c.loanable for c in copies):
        return "reference_only"
    if available_count(copies) >= 1:
        return "on_shelf"
    return None


def counter_refusal(copies: Sequence[CopyState]) -> str | None:
    """At the counter any type may be reserved (R5), but still not a title nobody can borrow."""
    if not copies:
        return "no_copies"
    if not any(c.loanable for c in copies):
        return "reference_only"
    return None


def online_reservable_sql(title, copy, online_types: Iterable[str]):
    """`online_refusal(...) is None` as SQL over the Title and Copy tables, for filtering
    a search (R5: an online type; R7: some copy loanable; R6/R8: none of those on the shelf)."""
    from sqlalchemy import and_, exists, not_

    loanable = and_(copy.title_id == title.id, copy.loanable.is_(True))
    return and_(
        title.type.in_(tuple(online_types)),
        exists().where(loanable),
        not_(exists().where(loanable, copy.state == "on_shelf")),
    )
