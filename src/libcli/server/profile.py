"""The library profile (TOML): name, phone, mail domain, service points and rule settings."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from libcli.server.i18n import N_, _

#: The contact methods the service knows how to carry out (R13); a profile offers some or all.
CONTACT_METHODS = ("phone", "email", "ring", "voicemail", "none")
#: Their names, as the pages and the mails give them (translated with `libcli.server.i18n._`).
CONTACT_NAMES = {
    "phone": N_("Phone call"),
    "email": N_("Email"),
    "ring": N_("Ring only"),
    "voicemail": N_("Voicemail"),
    "none": N_("No contact"),
}
#: The material types of the catalogue (the importers map records to these).
MATERIAL_TYPES = ("book", "magazine", "av")


def contact_name(code: str, lang: str) -> str:
    """A contact method's name in `lang` (the code itself when unknown)."""
    return _(CONTACT_NAMES[code], lang) if code in CONTACT_NAMES else code


@dataclass(frozen=True)
class ServicePoint:
    """A service point (館): where copies live and reservations are picked up (R4)."""

    code: str
    name_ja: str
    name_en: str
    #: other names patrons use for it (南郷 for 南郷図書館), accepted wherever a point is named
    short_names: tuple[str, ...] = ()

    def name(self, lang: str) -> str:
        return self.name_ja if lang == "ja" else self.name_en


@dataclass(frozen=True)
class LibraryProfile:
    name_ja: str
    name_en: str
    phone: str
    mail_domain: str
    mail_sender: str
    reservation_limit: int
    hold_days: int
    online_types: tuple[str, ...]
    loan_days: int
    timezone: str
    points: tuple[ServicePoint, ...]
    contact_methods: tuple[str, ...] = CONTACT_METHODS
    renewals: int = 1  # how many times a loan may be renewed (延長)
    reminder_days: int = 2  # a reminder mail this many days before a due date

    @property
    def point_codes(self) -> tuple[str, ...]:
        return tuple(p.code for p in self.points)

    def point(self, code: str) -> ServicePoint:
        for p in self.points:
            if p.code == code:
                return p
        raise KeyError(code)

    @property
    def sender_address(self) -> str:
        return f"{self.mail_sender}@{self.mail_domain}"

    def name(self, lang: str) -> str:
        return self.name_ja if lang == "ja" else self.name_en

    def day_of(self, instant: dt.datetime) -> dt.date:
        """The library's calendar day at `instant` (due dates and the hold shelf count in
        local days)."""
        return instant.astimezone(ZoneInfo(self.timezone)).date()


def load_profile(path: str | Path | None = None) -> LibraryProfile:
    """Read a profile file; without one, Hachinohe's built-in profile."""
    if path is None:
        text = (
            resources.files("libcli.server")
            .joinpath("profiles/hachinohe.toml")
            .read_text(encoding="utf-8")
        )
    else:
        text = Path(path).read_text(encoding="utf-8")
    data = tomllib.loads(text)
    lib, rules = data["library"], data.get("rules", {})
    online_types = tuple(rules.get("online_types", ["book"]))
    contact_methods = tuple(rules.get("contact_methods", CONTACT_METHODS))
    _known("online_types", online_types, MATERIAL_TYPES)
    _known("contact_methods", contact_methods, CONTACT_METHODS)
    return LibraryProfile(
        name_ja=lib["name_ja"],
        name_en=lib["name_en"],
        phone=lib["phone"],
        mail_domain=lib["mail_domain"],
        mail_sender=lib.get("mail_sender", "noreply"),
        reservation_limit=int(rules.get("reservation_limit", 10)),
        hold_days=int(rules.get("hold_days", 10)),
        online_types=online_types,
        loan_days=int(rules.get("loan_days", 14)),
        timezone=lib.get("timezone", "Asia/Tokyo"),
        reminder_days=int(rules.get("reminder_days", 2)),
        points=tuple(
            ServicePoint(
                p["code"], p["name_ja"], p["name_en"], tuple(map(str, p.get("short_names", ())))
            )
            for p in data["points"]
        ),
        contact_methods=contact_methods,
        renewals=int(rules.get("renewals", 1)),
    )


def _known(key: str, values: tuple[str, ...], known: tuple[str, ...]) -> None:
    unknown = [v for v in values if v not in known]
    if unknown or not values:
        raise ValueError(f"profile: {key} must be some of {', '.join(known)}, not {unknown}")
