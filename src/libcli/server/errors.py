"""The service's refusals: one stable code each, with the words for people.

The English text is the msgid of the `libcli_server` catalogue; the Japanese is in
`locale/ja` (see `libcli.server.i18n`).
"""

from __future__ import annotations

from libcli.server.i18n import N_, _

MESSAGES: dict[str, tuple[int, str]] = {
    # code: (HTTP status, the words, in English)
    "auth_required": (401, N_("Please log in.")),
    "invalid_credentials": (401, N_("The card number or password is wrong.")),
    "wrong_password": (403, N_("The current password is wrong.")),
    "not_found": (404, N_("Not found.")),
    "invalid_request": (422, N_("The request is not valid.")),
    "weak_password": (
        422,
        N_(
            "This password cannot be used: use at least 8 characters, not counting spaces at"
            " either end, and not a common password or one that contains your card number."
        ),
    ),
    "invalid_token": (
        400,
        N_("This link is invalid, expired or already used: please request a new one."),
    ),
    "email_required": (422, N_("Contact by email needs a registered email address.")),
    "ready_cannot_cancel": (
        409,
        N_("A reservation ready for pickup cannot be cancelled online: please phone the library."),
    ),
    "rate_limited": (429, N_("Too many attempts: please wait a while and try again.")),
    "unavailable": (503, N_("The service is unavailable: please try again later.")),
    "busy": (503, N_("The service is busy: please try again in a moment.")),
    "conflict": (409, N_("Not possible in the current state.")),
    "not_a_book": (
        422,
        N_("Only books can be reserved online: reserve magazines and AV at the counter."),
    ),
    "on_shelf": (422, N_("A copy is on the shelf: please come to the library and borrow it.")),
    "reference_only": (422, N_("Reference only: please use it inside the library.")),
    "no_copies": (422, N_("The library holds no copy of this title.")),
    "limit_reached": (422, N_("You have reached the reservation limit.")),
    "already_reserved": (409, N_("You already have a reservation for this title.")),
    "borrowed_by_you": (409, N_("You are borrowing this title right now.")),
    "card_deactivated": (
        403,
        N_("This library card is no longer in use: please ask at the counter."),
    ),
}


def message(code: str, lang: str) -> str:
    return _(MESSAGES.get(code, MESSAGES["conflict"])[1], lang)


class LibraryError(Exception):
    """A request the library refuses; nothing it would have changed is kept."""

    def __init__(self, code: str, detail: str | None = None, **extra: object):
        super().__init__(code)
        self.code = code
        self.status = MESSAGES.get(code, (409,))[0]
        self.detail = detail
        self.extra = extra

    def __str__(self) -> str:
        return self.detail or message(self.code, "en")
