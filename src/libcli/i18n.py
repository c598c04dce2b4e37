"""Patron-facing text in Japanese and English through gettext catalogues shipped in the package.

Source strings are English; `locale/ja` holds the Japanese catalogue (library terms:
貸出中, 受取可, 禁帯出, ...), kept by `scripts/i18n.py` (Babel). The language is chosen
once per run: `--lang`, then `LIBCLI_LANG`, then the config file's `lang`, then the locale
(LC_ALL, LC_MESSAGES, LANG). Click's own strings ("Usage:", "Did you mean ...?") go through
the same catalogue because Click calls the global `gettext.gettext`/`ngettext`; we bind our
domain there too.
"""

from __future__ import annotations

import gettext
import os

DOMAIN = "libcli"
LOCALE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "locale")
LANGUAGES = ("ja", "en")
LANG_ENV = "LIBCLI_LANG"

_UNSET = object()
_state: dict[str, object] = {"lang": None, "translation": None, "saved_language": _UNSET}


def N_(message: str) -> str:
    """Mark a string for translation without translating it now (help texts, labels)."""
    return message


def normalize_lang(value: str | None) -> str | None:
    """'ja', 'ja_JP.UTF-8', 'JA' -> 'ja'; 'en_US' -> 'en'; anything else -> None."""
    if not value:
        return None
    value = value.strip().lower()
    for lang in LANGUAGES:
        if value == lang or value.startswith(lang + "_") or value.startswith(lang + "-"):
            return lang
    return None


def locale_lang(environ: os._Environ[str] | dict[str, str] | None = None) -> str:
    """The language the POSIX locale asks for: the first set of LC_ALL, LC_MESSAGES, LANG."""
    env = os.environ if environ is None else environ
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var)
        if value:
            return "ja" if value.lower().startswith("ja") else "en"
    return "en"


def resolve_lang(explicit: str | None = None, configured: object = None) -> str:
    """--lang > LIBCLI_LANG > `configured` (the config file's `lang`) > locale."""
    for candidate in (explicit, os.environ.get(LANG_ENV), configured):
        lang = normalize_lang(candidate if isinstance(candidate, str) else None)
        if lang:
            return lang
    return locale_lang()


def set_language(lang: str) -> None:
    """Use `lang` for every message of this run, Click's included."""
    lang = normalize_lang(lang) or "en"
    _state["lang"] = lang
    if _state["saved_language"] is _UNSET:
        _state["saved_language"] = os.environ.get("LANGUAGE")
    os.environ["LANGUAGE"] = lang  # what gettext.gettext (used by Click) looks at first
    if lang == "en":
        # Source strings are English: no catalogue to read, on every run and every TAB.
        _state["translation"] = gettext.NullTranslations()
        gettext.textdomain("messages")
        return
    _state["translation"] = gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)
    gettext.bindtextdomain(DOMAIN, LOCALE_DIR)
    gettext.textdomain(DOMAIN)


def reset() -> None:
    """Forget the chosen language (tests run many CLIs in one process)."""
    saved = _state["saved_language"]
    if saved is not _UNSET:
        if saved is None:
            os.environ.pop("LANGUAGE", None)
        else:
            os.environ["LANGUAGE"] = saved  # type: ignore[assignment]
    gettext.textdomain("messages")
    _state.update(lang=None, translation=None, saved_language=_UNSET)


def current_lang() -> str:
    if _state["lang"] is None:
        set_language(resolve_lang())
    return _state["lang"]  # type: ignore[return-value]


def _(message: str) -> str:
    """Translate `message` into the patron's language."""
    if _state["translation"] is None:
        current_lang()
    return _state["translation"].gettext(message)  # type: ignore[union-attr]
