"""The one check of a patron's email address, for every entry point (counter, API, pages, mail).

Syntax only, by email-validator (the library pydantic's `EmailStr` uses): no DNS lookup,
since the library's own mail server decides deliverability and a counter must not stall on
DNS. One plain address and nothing else: no display name, no list, no quoted local part, no
control characters, and an ASCII local part (our SMTP relay is not assumed to speak
SMTPUTF8).
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

MAX_LENGTH = 254  # RFC 5321 path limit, and the width of the column


class InvalidEmail(ValueError):
    """Not one plain email address; the message says why (in English, for staff and logs)."""


def normalized(address: object) -> str:
    """The address as stored and sent (domain lower-cased); InvalidEmail otherwise."""
    if not isinstance(address, str) or not address.strip():
        raise InvalidEmail("the email address is empty")
    if len(address) > MAX_LENGTH:
        raise InvalidEmail("the email address is too long")
    try:
        result = validate_email(
            address.strip(),
            check_deliverability=False,
            allow_smtputf8=False,
            allow_quoted_local=False,
            allow_display_name=False,
            allow_domain_literal=False,
        )
    except EmailNotValidError as e:
        raise InvalidEmail(f"not an email address: {e}") from None
    return result.normalized


def is_valid(address: object) -> bool:
    try:
        normalized(address)
    except InvalidEmail:
        return False
    return True
