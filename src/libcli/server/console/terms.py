"""The library's terms as console choices: a service point or a contact method, given by
its code or by its name in Japanese or English (main, 八戸市立図書館, Nango Library;
phone, 電話, ring only), as `libcli` accepts them. The profile says which exist."""

from __future__ import annotations

import functools
from typing import Any

import click

from libcli.server.i18n import N_


def _profile():
    from libcli.server.settings import load_settings

    return load_settings().profile


@functools.cache
def _client_ja():
    """`libcli`'s Japanese catalogue: the patron's words for contact methods (電話, ...)."""
    import gettext

    from libcli.i18n import DOMAIN, LOCALE_DIR

    return gettext.translation(DOMAIN, LOCALE_DIR, languages=["ja"], fallback=True)


def point_names(profile) -> dict[str, tuple[str, ...]]:
    return {p.code: (p.code, p.name_ja, p.name_en) for p in profile.points}


def contact_names(profile) -> dict[str, tuple[str, ...]]:
    from libcli.vocab import CONTACT_METHODS

    names = {}
    for code in profile.contact_methods:
        label = CONTACT_METHODS.get(code, code)
        names[code] = (code, label, _client_ja().gettext(label))
    return names


def reservation_state(code: str, lang: str) -> str:
    """A reservation's status as staff read it in a table: 予約待ち, 回送中, 受取可 (the
    patron's words, `libcli.vocab`); an unknown status stays its code."""
    from libcli.vocab import RESERVATION_STATES

    label = RESERVATION_STATES.get(code)
    if label is None:
        return code
    return _client_ja().gettext(label) if lang == "ja" else label


class TermChoice(click.ParamType):
    """One of the profile's terms, by code or name (case and width folded)."""

    what = ""

    def names(self, profile) -> dict[str, tuple[str, ...]]:
        raise NotImplementedError

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        try:
            return "[" + "|".join(self.names(_profile())) + "]"
        except Exception:  # help shows even when the profile is broken
            return self.name.upper()

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        import unicodedata

        from libcli.server.console.output import t

        def fold(text: str) -> str:
            return unicodedata.normalize("NFKC", text).strip().casefold()

        names = self.names(_profile())
        wanted = fold(str(value))
        for code, known in names.items():
            if wanted in (fold(n) for n in known):
                return code
        self.fail(
            t(self.what).format(value=value, choices=", ".join(names)),
            param,
            ctx,
        )

    def shell_complete(self, ctx, param, incomplete):
        from click.shell_completion import CompletionItem

        return [
            CompletionItem(code, help=names[-1])
            for code, names in self.names(_profile()).items()
            if code.startswith(incomplete)
        ]


class PointChoice(TermChoice):
    name = "point"
    what = N_("{value!r} is not a service point of the library: use one of {choices}.")

    def names(self, profile) -> dict[str, tuple[str, ...]]:
        return point_names(profile)


class ContactChoice(TermChoice):
    name = "contact"
    what = N_("{value!r} is not a contact method the library offers: use one of {choices}.")

    def names(self, profile) -> dict[str, tuple[str, ...]]:
        return contact_names(profile)


POINT = PointChoice()
CONTACT = ContactChoice()
