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
    "already_cancelled": (409, N_("This reservation is already cancelled.")),
    "overdue": (409, N_("This loan is overdue: please return it to the library.")),
    "renewal_limit": (409, N_("This loan has been renewed as often as the library allows.")),
    "not_suspendable": (
        409,
        N_("Only a waiting reservation can be suspended: this one is in transit or ready."),
    ),
    "invalid_suspension": (
        422,
        N_("Suspend until a day after today and within a year."),
    ),
    "reserved_by_others": (
        409,
        N_("Another patron is waiting for this title: it cannot be renewed."),
    ),
}

#: The fields of the API's requests, as a person names them (a 422 says which one was wrong).
FIELDS: dict[str, str] = {
    "card": N_("card number"),
    "password": N_("password"),
    "current_password": N_("current password"),
    "new_password": N_("new password"),
    "email": N_("email address"),
    "token": N_("reset link"),
    "q": N_("search words"),
    "limit": N_("number of results"),
    "offset": N_("offset"),
    "type": N_("material type"),
    "title_ids": N_("title IDs"),
    "title_id": N_("title ID"),
    "reservation_id": N_("reservation number"),
    "pickup": N_("pickup point"),
    "contact": N_("contact method"),
    "email_confirmation": N_("confirmation mail"),
    "barcodes": N_("barcodes"),
    "all": N_("all loans"),
    "until": N_("end date"),
}

#: What was wrong with a field, by pydantic's error type ({field} and the type's context).
FIELD_PROBLEMS: dict[str, str] = {
    "missing": N_("{field} is missing."),
    "string_too_short": N_("{field} must have at least {min_length} characters."),
    "string_too_long": N_("{field} must have at most {max_length} characters."),
    "too_short": N_("{field} must have at least {min_length} items."),
    "too_long": N_("{field} must have at most {max_length} items."),
    "string_pattern_mismatch": N_("{field} is not in the expected form."),
    "int_parsing": N_("{field} must be a whole number."),
    "greater_than_equal": N_("{field} must be {ge} or more."),
    "less_than_equal": N_("{field} must be {le} or less."),
    "extra_forbidden": N_("{field} is not expected here."),
    "email": N_("{field} is not an email address."),
    "card": N_("{field} must be the 9 digits under the barcode of the card."),
}


def field_message(error: dict, lang: str) -> str:
    """One field's problem in `lang`: "card number must have at least 9 characters."."""
    loc = [str(p) for p in error.get("loc") or () if not isinstance(p, int)]
    name = loc[-1] if loc else ""
    field = _(FIELDS[name], lang) if name in FIELDS else name
    template = FIELD_PROBLEMS.get(str(error.get("type")))
    if template is None:
        return f"{field}: {error.get('msg', '')}" if field else str(error.get("msg", ""))
    context = {k: v for k, v in (error.get("ctx") or {}).items() if isinstance(v, int | str)}
    try:
        return _(template, lang).format(field=field, **context)
    except (KeyError, IndexError, ValueError):
        return f"{field}: {error.get('msg', '')}"


def field_messages(errors: list[dict]) -> dict[str, str]:
    """Every field's problem, in each language, one sentence after another."""
    return {lang: " ".join(field_message(e, lang) for e in errors) for lang in ("ja", "en")}


def message(code: str, lang: str) -> str:
    return _(MESSAGES.get(code, MESSAGES["conflict"])[1], lang)


class LibraryError(Exception):
    """A request the library refuses; nothing it would have changed is kept."""

    def __init__(
        self,
        code: str,
        detail: str | None = None,
        *,
        about: dict[str, object] | None = None,
        **extra: object,
    ):
        super().__init__(code)
        self.code = code
        self.status = MESSAGES.get(code, (409,))[0]
        # With `about` (its named fields), `detail` is a msgid of this catalogue: which
        # card, which copy, in any language. Without, the detail is English only.
        self.template = detail
        self.about = about
        self.detail = detail.format(**about) if detail and about is not None else detail
        self.extra = extra

    def detail_in(self, lang: str) -> str | None:
        """The detail in `lang`, or None when there is none in that language."""
        if not self.template:
            return None
        if self.about is not None:
            return _(self.template, lang).format(**self.about)
        return self.detail if lang == "en" else None

    def __str__(self) -> str:
        return self.detail or message(self.code, "en")
