"""The database invariants of reservations, copies and loans, checked after a fault."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from libcli.server.db.models import ACTIVE_RESERVATION, Copy, Loan, Reservation


def violations(session: Session, limit: int) -> list[str]:
    """Every broken invariant, as one line each; an empty list when all hold.

    - at most `limit` active reservations per patron (R3);
    - at most one active reservation per patron and title (R21);
    - a copy is held or in transit iff exactly one active reservation holds it, and that
      reservation is `ready` / `in_transit` for a copy of its own title;
    - a copy is on loan iff it has exactly one open loan.
    """
    found: list[str] = []
    active = session.scalars(
        select(Reservation).where(Reservation.status.in_(ACTIVE_RESERVATION))
    ).all()
    for card, n in Counter(r.card for r in active).items():
        if n > limit:
            found.append(f"patron {card} has {n} active reservations (limit {limit})")
    for (card, title), n in Counter((r.card, r.title_id) for r in active).items():
        if n > 1:
            found.append(f"patron {card} has {n} active reservations of {title}")
    copies = {c.barcode: c for c in session.scalars(select(Copy))}
    holding = Counter(r.copy_barcode for r in active if r.copy_barcode)
    for r in active:
        if r.status == "waiting" and r.copy_barcode:
            found.append(f"waiting reservation {r.id} holds copy {r.copy_barcode}")
        if r.status in ("ready", "in_transit"):
            copy = copies.get(r.copy_barcode or "")
            if copy is None or copy.title_id != r.title_id:
                found.append(f"reservation {r.id} ({r.status}) holds no copy of its title")
            elif (r.status == "ready") != (copy.state == "held") or (
                r.status == "in_transit" and copy.state != "in_transit"
            ):
                found.append(
                    f"reservation {r.id} is {r.status} but copy {copy.barcode} is {copy.state}"
                )
    for barcode, copy in copies.items():
        if copy.state in ("held", "in_transit") and holding[barcode] != 1:
            found.append(f"copy {barcode} is {copy.state} for {holding[barcode]} reservations")
        elif copy.state not in ("held", "in_transit") and holding[barcode]:
            found.append(f"copy {barcode} is {copy.state} yet held by a reservation")
    open_loans = Counter(
        loan.barcode for loan in session.scalars(select(Loan).where(Loan.returned_on.is_(None)))
    )
    for barcode, copy in copies.items():
        if (copy.state == "on_loan") != (open_loans[barcode] == 1) or open_loans[barcode] > 1:
            found.append(f"copy {barcode} is {copy.state} with {open_loans[barcode]} open loans")
    return found
