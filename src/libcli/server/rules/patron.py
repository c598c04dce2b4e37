"""What a patron may hold: the reservation limit (R3), one per title (R21), mail (R13, R19)."""

from __future__ import annotations


def reservation_refusal(
    *, active_reservations: int, limit: int, already_reserved: bool, borrowing: bool
) -> str | None:
    """Why this patron cannot take one more reservation of this title, or None.

    R3: at most `limit` active reservations across all service points, counter
    reservations included. R21: never two for the same title. A patron who has the
    title on loan right now has nothing to wait for.
    """
    if already_reserved:
        return "already_reserved"
    if borrowing:
        return "borrowed_by_you"
    if active_reservations >= limit:
        return "limit_reached"
    return None


def can_receive_mail(*, has_password: bool, email: str | None) -> bool:
    """R19: only a patron with a registered password and email address gets mail."""
    return has_password and bool(email)


def contact_refusal(
    *, contact: str, email_confirmation: bool, has_password: bool, email: str | None
) -> str | None:
    """R13/R19: contact by email, or a confirmation mail, needs a registered address."""
    wants_mail = contact == "email" or email_confirmation
    if wants_mail and not can_receive_mail(has_password=has_password, email=email):
        return "email_required"
    return None
