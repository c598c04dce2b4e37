"""The library's vocabulary: service points, contact methods, material types, states.

Codes are what the server speaks; labels are what the patron reads (translated through
the catalogue: 貸出中, 受取可, 禁帯出, ...). Imported at TAB time, so stdlib only.
"""

from __future__ import annotations

from libcli.i18n import N_, _

#: ServicePoint codes and names (R4). 八戸市立図書館, 南郷図書館, 図書情報センター.
POINTS: dict[str, dict[str, str]] = {
    "main": {"ja": "八戸市立図書館", "en": "Hachinohe City Library"},
    "nango": {"ja": "南郷図書館", "en": "Nango Library"},
    "center": {"ja": "図書情報センター", "en": "Book Information Center"},
}

#: Contact methods (R13), in the order the web page lists them.
CONTACT_METHODS: dict[str, str] = {
    "phone": N_("phone"),
    "email": N_("email"),
    "ring": N_("ring only"),
    "voicemail": N_("voicemail"),
    "none": N_("no contact"),
}

MATERIAL_TYPES: dict[str, str] = {
    "book": N_("book"),
    "magazine": N_("magazine"),
    "av": N_("AV"),
}

#: 状態 of a copy.
COPY_STATES: dict[str, str] = {
    "on_shelf": N_("available"),
    "on_loan": N_("on loan"),
    "in_transit": N_("in transit"),
    "held": N_("on hold shelf"),
}

#: 禁帯区分 of a copy.
LOAN_CATEGORIES: dict[bool, str] = {
    True: N_("loanable"),
    False: N_("reference only"),
}

#: Status of a reservation (予約待ち, 回送中, 受取可).
RESERVATION_STATES: dict[str, str] = {
    "waiting": N_("waiting"),
    "in_transit": N_("in transit"),
    "ready": N_("ready for pickup"),
}

#: The server's per-title reason codes, as the patron reads them.
REASONS: dict[str, str] = {
    "not_a_book": N_("not a book: magazines and AV are reserved at the counter"),
    "on_shelf": N_("available on the shelf: come to the library and borrow it"),
    "reference_only": N_("reference only: use it inside the library"),
    "no_copies": N_("the library holds no copy"),
    "limit_reached": N_("reservation limit reached: cancel one or wait for a pickup"),
    "already_reserved": N_("you have already reserved this title"),
    "borrowed_by_you": N_("you are borrowing this title now"),
    "not_found": N_("no such title"),
    "ready_cannot_cancel": N_("ready for pickup: phone the library to cancel"),
    "not_cancellable": N_("this reservation cannot be cancelled"),
}


def point_name(code: str | None) -> str:
    if code is None:
        return ""
    names = POINTS.get(code)
    if names is None:
        return code
    from libcli.i18n import current_lang

    return names.get(current_lang(), names["en"])


def normalize_point(value: str) -> str:
    """'main', 'MAIN', '八戸市立図書館', 'Nango Library' -> the point code; ValueError if none."""
    key = value.strip()
    folded = key.casefold()
    for code, names in POINTS.items():
        if folded == code or key == names["ja"] or folded == names["en"].casefold():
            return code
    raise ValueError(value)


def normalize_contact(value: str) -> str:
    folded = value.strip().casefold()
    for code, label in CONTACT_METHODS.items():
        if folded == code or folded == label.casefold() or value.strip() == _(label):
            return code
    raise ValueError(value)


def label(table: dict, code: object) -> str:
    """The translated label of `code` in `table`, or the code itself when unknown."""
    if code is None:
        return ""
    text = table.get(code)
    return _(text) if text else str(code)


def reason_text(reason: str | None) -> str:
    return label(REASONS, reason) if reason else ""
