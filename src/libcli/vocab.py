"""The library's vocabulary: service points, contact methods, material types, states.

Codes are what the server speaks; labels are what the patron reads (translated through
the catalogue: 貸出中, 受取可, 禁帯出, ...). Which service points and contact methods a
library offers is the server's to say (GET /api/v1/library, from its profile): `Library`
holds that answer, kept in the completion cache. The built-in list of Hachinohe's points
is only a fallback for a machine that has never asked. Imported at TAB time: stdlib only.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from libcli.errors import SERVER_WORDS
from libcli.i18n import N_, _, current_lang

#: Hachinohe's service points (八戸市立図書館, 南郷図書館, 図書情報センター): used only until
#: libcli has asked the server, which says which points there are.
BUILT_IN_POINTS: dict[str, dict[str, str]] = {
    "main": {"ja": "八戸市立図書館", "en": "Hachinohe City Library"},
    "nango": {"ja": "南郷図書館", "en": "Nango Library"},
    "center": {"ja": "図書情報センター", "en": "Book Information Center"},
}

#: Short forms of Hachinohe's points, until libcli has asked the server (the profile's
#: `short_names`).
BUILT_IN_SHORT_NAMES: dict[str, tuple[str, ...]] = {
    "main": ("本館", "八戸図書館", "市立図書館", "Main Library"),
    "nango": ("南郷", "Nango"),
    "center": ("センター", "情報センター", "Center"),
}

#: Every contact method the service knows, in the order the web page lists them; a library
#: offers some or all of them.
CONTACT_METHODS: dict[str, str] = {
    "phone": N_("phone"),
    "email": N_("email"),
    "ring": N_("ring only"),
    "voicemail": N_("voicemail"),
    "none": N_("no contact"),
}

#: What else patrons call a contact method, in either language (the labels above are
#: accepted in both languages too).
CONTACT_SHORT_NAMES: dict[str, tuple[str, ...]] = {
    "phone": ("電話", "でんわ", "tel", "telephone"),
    "email": ("メール", "eメール", "電子メール", "mail", "e-mail"),
    "ring": ("着信のみ", "ワン切り", "ring"),
    "voicemail": ("留守電", "留守番電話", "voice mail"),
    "none": ("連絡不要", "なし", "no contact"),
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


class Library(NamedTuple):
    """The service points and contact methods of the patron's library, and where libcli
    learnt them: "server" (asked in this run), "cache" (asked before) or "built-in"."""

    points: dict[str, dict[str, str]]
    contact_methods: tuple[str, ...]
    source: str
    #: each point's short forms (南郷 for 南郷図書館), from the library's profile
    short_names: dict[str, tuple[str, ...]] = {}  # noqa: RUF012 - a NamedTuple default

    @classmethod
    def from_server(cls, info: Any) -> Library | None:
        """From GET /api/v1/library; None when the answer holds no usable point."""
        if not isinstance(info, dict):
            return None
        points = _points(info.get("points"))
        methods = tuple(
            m for m in info.get("contact_methods") or () if isinstance(m, str) and m.strip()
        )
        if not points or not methods:
            return None
        return cls(points, methods, "server", _short_names(info.get("points")))

    @classmethod
    def cached(cls, profile: str | None) -> Library:
        """What the last answer said (the completion cache), else the built-in list."""
        from libcli import cache

        data = cache.load(profile)
        entries = [
            {"code": e.get("id"), "name": e.get("name"), "short_names": e.get("short_names")}
            for e in _entries(data, "points")
        ]
        points = _points(entries)
        methods = tuple(str(e["id"]) for e in _entries(data, "contact_methods"))
        if points and methods:
            return cls(points, methods, "cache", _short_names(entries))
        return cls(BUILT_IN_POINTS, tuple(CONTACT_METHODS), "built-in", BUILT_IN_SHORT_NAMES)

    def cache_sections(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "points": [
                {"id": code, "name": names, "short_names": list(self.short_names.get(code, ()))}
                for code, names in self.points.items()
            ],
            "contact_methods": [{"id": m} for m in self.contact_methods],
        }

    def point_name(self, code: str | None) -> str:
        """The point's name in the patron's language (the code itself when unknown)."""
        if code is None:
            return ""
        names = self.points.get(code) or {}
        return names.get(current_lang()) or names.get("en") or code

    def point_code(self, value: str) -> str | None:
        """'main', 'MAIN', '八戸市立図書館', 'Nango Library' -> the point code; None if none.

        Every name the server gives a point is accepted, so a name the profile adds (a
        short form) is accepted here without a change.
        """
        folded = fold(value)
        for code, names in self.points.items():
            known = (code, *names.values(), *self.short_names.get(code, ()))
            if folded in (fold(n) for n in known):
                return code
        return None

    def contact_code(self, value: str) -> str | None:
        """'email', 'EMAIL', 'ring only', or the label in the patron's language -> the code."""
        folded = fold(value)
        for code in self.contact_methods:
            text = CONTACT_METHODS.get(code, code)
            known = (code, text, _(text), *CONTACT_SHORT_NAMES.get(code, ()))
            if folded in (fold(n) for n in known):
                return code
        return None


def fold(text: str) -> str:
    """What two spellings of a name have in common: full-width letters and digits made
    half-width (NFKC), case and spaces ignored ('ＥＭＡＩＬ ' is 'email')."""
    import unicodedata

    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def _short_names(items: Any) -> dict[str, tuple[str, ...]]:
    """{code: short forms} from the points of GET /api/v1/library (or the cache)."""
    found: dict[str, tuple[str, ...]] = {}
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, dict) or not isinstance(item.get("code"), str):
            continue
        names = item.get("short_names")
        if isinstance(names, list):
            found[item["code"]] = tuple(n for n in names if isinstance(n, str) and n.strip())
    return found


def _entries(data: dict[str, Any], section: str) -> list[dict[str, Any]]:
    items = data.get(section)
    if not isinstance(items, list):
        return []
    return [i for i in items if isinstance(i, dict) and isinstance(i.get("id"), str)]


def _points(items: Any) -> dict[str, dict[str, str]]:
    """{code: {lang: name}} from [{"code", "name": {lang: name}}], bad entries left out."""
    points: dict[str, dict[str, str]] = {}
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, dict):
            continue
        code, names = item.get("code"), item.get("name")
        if not isinstance(code, str) or not code.strip():
            continue
        names = names if isinstance(names, dict) else {}
        points[code] = {k: v for k, v in names.items() if isinstance(k, str) and isinstance(v, str)}
    return points


def label(table: dict, code: object) -> str:
    """The translated label of `code` in `table`, or the code itself when unknown."""
    if code is None:
        return ""
    text = table.get(code)
    return _(text) if text else str(code)


def reason_text(reason: str | None) -> str:
    """Why the server did not take a title, in its own words (those of its pages)."""
    return label(SERVER_WORDS, reason) if reason else ""
