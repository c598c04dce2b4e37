"""What the patron pages need besides their words: the language choice, the names of
statuses, dates as a patron reads them (contact methods: `profile.contact_name`).

The pages' words are English source strings in the templates (`_("...")`) and in
pages.py, translated by gettext (`libcli.server.i18n`, the `libcli_server` catalogue);
refusals of the library itself come from `libcli.server.errors.MESSAGES`.
"""

from __future__ import annotations

import datetime as dt

from libcli.server.i18n import N_

LANGS = ("ja", "en")
DEFAULT_LANG = "ja"
_WEEKDAYS_JA = "月火水木金土日"

# The link to the other language, in that language (not translated: each names itself).
SWITCH_TO = {"ja": ("日本語", "日本語で表示"), "en": ("English", "Switch to English")}

STATE_NAMES = {  # a reservation's status as the pages name it
    "waiting": N_("Waiting"),
    "in_transit": N_("On its way to the pickup point"),
    "ready": N_("Ready for pickup"),
}


def pick_lang(value: str | None) -> str | None:
    """A supported language from a query or cookie value, or None."""
    value = (value or "").strip().lower()[:8]
    return value if value in LANGS else None


def date_text(lang: str, day: dt.date | str | None) -> str:
    """A day as a patron reads it: 2026年12月15日(火) / Tue 15 Dec 2026."""
    if day is None:
        return ""
    if isinstance(day, str):
        day = dt.date.fromisoformat(day[:10])
    if lang == "ja":
        return f"{day.year}年{day.month}月{day.day}日({_WEEKDAYS_JA[day.weekday()]})"
    return f"{day:%a} {day.day} {day:%b %Y}"
