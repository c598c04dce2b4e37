"""The server's words for people (refusals, pages, mails, the staff console) through gettext.

Source strings are English; `locale/ja` holds the Japanese catalogue of the `libcli_server`
domain, kept by `scripts/i18n.py` (Babel) like the CLI's own. The server speaks to many
people at once, so the language is an argument, not process state: `_(message, lang)`.
The staff console picks one language per run with `console_lang()` (`--lang`,
`LIBCLI_LANG`, then the locale, as `libcli` does).
"""

from __future__ import annotations

import functools
import gettext
import os

DOMAIN = "libcli_server"
LOCALE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "locale")
LANGUAGES = ("ja", "en")


def N_(message: str) -> str:
    """Mark a string for translation without translating it now."""
    return message


@functools.cache
def translation(lang: str) -> gettext.NullTranslations:
    if lang == "en":  # source strings are English
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)


def _(message: str, lang: str) -> str:
    """`message` in `lang` ('ja' or 'en')."""
    return translation(lang).gettext(message)


def ngettext(singular: str, plural: str, n: int, lang: str) -> str:
    return translation(lang).ngettext(singular, plural, n)


def console_lang(explicit: str | None = None) -> str:
    """The staff console's language: --lang > LIBCLI_LANG > the locale."""
    from libcli.i18n import resolve_lang

    return resolve_lang(explicit)


class Worded(Exception):
    """An error told in one line: an English msgid of this catalogue with named fields, so
    that it can be said in any language (`said(lang)`); `str()` is the English line."""

    def __init__(self, message: str, **fields: object):
        self.message = message
        self.fields = fields
        super().__init__(message.format(**fields))

    def said(self, lang: str) -> str:
        return _(self.message, lang).format(**self.fields)
