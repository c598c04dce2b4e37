"""The patron's settings: a TOML file with one table per profile (a family shares a machine).

```toml
[default]
server = "https://library.example.org"
pickup = "main"

[hanako]
card = "123456789"
contact = "email"
```
Each value comes from, in order: a command-line flag, an environment variable, the
profile's table, the `[default]` table (for shared keys), the built-in default.
The file lives in `click.get_app_dir("libcli")` or `$LIBCLI_CONFIG_DIR`, is read with
tomllib, written with tomli-w, and created 0600 (it names the card).
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any, NamedTuple

from libcli.files import DEFAULT_PROFILE, config_location, write_private
from libcli.i18n import N_

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from libcli.errors import ConfigError

# tomllib, pathlib and the errors are imported where they are needed: every run (TAB too)
# reads the file for `lang`, and most find none.

PROFILE_ENV = "LIBCLI_PROFILE"
CONFIG_FILE = "config.toml"
DEFAULT_SERVER = "http://127.0.0.1:8765"
_PROFILE_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def config_dir() -> Path:
    from pathlib import Path

    return Path(config_location())


def config_path() -> Path:
    return config_dir() / CONFIG_FILE


def check_profile(name: str) -> str:
    if not _PROFILE_RE.match(name):
        from libcli.errors import UsageProblem

        raise UsageProblem("profile_name", name=name)
    return name


# -- value checks -------------------------------------------------------------------------


def _server(value: Any, profile: str) -> str:
    text = str(value).strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", text):
        raise ValueError(N_("give an address like https://library.example.org"))
    if text.endswith("/api/v1"):
        text = text[: -len("/api/v1")]
    return text


def _pickup(value: Any, profile: str) -> str:
    """A service point of the patron's library, as the server last listed it."""
    from libcli.vocab import Library

    library = Library.cached(profile)
    code = library.point_code(str(value))
    if code is None:
        raise ValueError(N_("one of {choices}"), {"choices": ", ".join(library.points)})
    return code


def _contact(value: Any, profile: str) -> str:
    """A contact method the patron's library offers, as the server last listed them."""
    from libcli.vocab import Library

    library = Library.cached(profile)
    code = library.contact_code(str(value))
    if code is None:
        raise ValueError(N_("one of {choices}"), {"choices": ", ".join(library.contact_methods)})
    return code


def _lang(value: Any, profile: str) -> str:
    from libcli.i18n import normalize_lang

    lang = normalize_lang(str(value))
    if lang is None:
        raise ValueError(N_("ja or en"))
    return lang


def parse_bool(value: Any, profile: str = DEFAULT_PROFILE) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on", "y"):
        return True
    if text in ("0", "false", "no", "off", "n", ""):
        return False
    raise ValueError(N_("true or false"))


#: What people type between the digits of a card number: spaces, hyphens, and the dash
#: or long-vowel mark a Japanese IME gives for "-".
CARD_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212\u30fc\uff70]")


def normalize_card(value: Any) -> str:
    """'１２３ ４５６-７８９' -> '123456789': full-width digits made ASCII, separators dropped."""
    import unicodedata

    return CARD_SEPARATORS.sub("", unicodedata.normalize("NFKC", str(value)))


def _card(value: Any, profile: str) -> str:
    text = normalize_card(value)
    if not re.fullmatch(r"[0-9]{9}", text, re.ASCII):
        raise ValueError(
            N_("a card number is the 9 digits under the barcode of your card ({count} given)"),
            {"count": len(text)},
        )
    return text


def _storage(value: Any, profile: str) -> str:
    if value not in ("keyring", "file"):
        raise ValueError(N_("keyring or file"))
    return str(value)


class Key(NamedTuple):
    """One setting: its environment variable, default, check, and whether profiles inherit it."""

    name: str
    help: str
    check: Callable[[Any, str], Any]  # (value, profile) -> the value to use; ValueError
    env: str | None = None
    default: Any = None
    inherit: bool = True  # falls back on [default]; never for what identifies a patron
    public: bool = True  # listed by `config list` and settable by `config set`


KEYS: dict[str, Key] = {
    k.name: k
    for k in (
        Key(
            "server", N_("address of the library server"), _server, "LIBCLI_SERVER", DEFAULT_SERVER
        ),
        Key(
            "card", N_("your library card number (set by login)"), _card, None, None, inherit=False
        ),
        Key("pickup", N_("default pickup point for reserve"), _pickup, "LIBCLI_PICKUP"),
        Key("contact", N_("default contact method for reserve"), _contact, "LIBCLI_CONTACT"),
        Key(
            "email_confirmation",
            N_("send a confirmation mail after reserve"),
            parse_bool,
            "LIBCLI_EMAIL_CONFIRMATION",
            False,
        ),
        Key("lang", N_("language of messages: ja or en"), _lang, "LIBCLI_LANG"),
        Key(
            "token_storage",
            N_("where login stored the session token"),
            _storage,
            None,
            None,
            inherit=False,
            public=False,
        ),
    )
}


def check_value(key: str, value: Any, profile: str = DEFAULT_PROFILE) -> Any:
    """`value` checked (and normalised) for `key`; a ConfigError that says what is accepted."""
    from libcli.errors import ConfigError

    spec = KEYS.get(key)
    if spec is None:
        raise ConfigError("config_unknown_key", key=key)
    try:
        return spec.check(value, profile)
    except ValueError as exc:
        from libcli.i18n import _

        hint, params = [*exc.args, "", {}][:2]
        hint = _(hint).format(**params) if params else _(hint)
        raise ConfigError("config_value", key=key, value=str(value), hint=hint) from None


# -- the file -----------------------------------------------------------------------------


def load_file(path: Path | str | None = None) -> dict[str, Any]:
    try:
        # A str path will do, and tomllib only once there is a file to parse: light start-up.
        fh = open(path or os.path.join(config_location(), CONFIG_FILE), "rb")  # noqa: SIM115
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise _invalid(path, exc) from exc
    import tomllib

    with fh:
        try:
            return tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise _invalid(path, exc) from exc


def _invalid(path: Path | str | None, exc: Exception) -> ConfigError:
    from pathlib import Path

    from libcli.errors import ConfigError

    shown = str(Path(path)) if path else str(config_path())
    return ConfigError("config_invalid", path=shown, detail=str(exc))


def file_value(key: str, profile: str | None = None) -> Any:
    """A value from the file only (used early, e.g. for the language)."""
    data = load_file()
    profile = profile or os.environ.get(PROFILE_ENV) or DEFAULT_PROFILE
    for name in (profile, DEFAULT_PROFILE):
        table = data.get(name)
        if isinstance(table, dict) and key in table:
            return table[key]
        if not KEYS.get(key, Key(key, "", str)).inherit:
            break
    return None


def save_file(data: dict[str, Any], path: Path | None = None) -> None:
    import tomli_w

    path = path or config_path()
    try:
        write_private(path, tomli_w.dumps(data).encode("utf-8"))
    except OSError as exc:
        from libcli.errors import ConfigError

        raise ConfigError("config_write_failed", path=str(path), detail=str(exc)) from exc


# -- resolved settings --------------------------------------------------------------------


class Settings:
    """The settings of one profile, each with where its value came from."""

    def __init__(
        self,
        profile: str = DEFAULT_PROFILE,
        overrides: dict[str, tuple[Any, str]] | None = None,
        path: Path | None = None,
    ) -> None:
        self.profile = check_profile(profile)
        # A str until `path` is asked for: a command that only reads needs no pathlib.
        self._path: Path | str = path or os.path.join(config_location(), CONFIG_FILE)
        self.overrides = dict(overrides or {})
        self._data: dict[str, Any] | None = None

    @property
    def path(self) -> Path:
        if isinstance(self._path, str):
            from pathlib import Path

            self._path = Path(self._path)
        return self._path

    @property
    def data(self) -> dict[str, Any]:
        if self._data is None:
            self._data = load_file(self._path)
        return self._data

    def lookup(self, key: str) -> tuple[Any, str]:
        """(value, source) where source is 'flag', 'env:NAME', 'file:[profile]' or 'default'."""
        spec = KEYS[key]
        if key in self.overrides:
            value, source = self.overrides[key]
            return check_value(key, value, self.profile), source
        if spec.env and os.environ.get(spec.env):
            return check_value(key, os.environ[spec.env], self.profile), f"env:{spec.env}"
        tables = [self.profile]
        if spec.inherit and self.profile != DEFAULT_PROFILE:
            tables.append(DEFAULT_PROFILE)
        for name in tables:
            table = self.data.get(name)
            if isinstance(table, dict) and key in table:
                return check_value(key, table[key], self.profile), f"file:[{name}]"
        return spec.default, "default"

    def get(self, key: str) -> Any:
        return self.lookup(key)[0]

    def set(self, key: str, value: Any) -> Any:
        value = check_value(key, value, self.profile)
        data = load_file(self.path)
        table = data.setdefault(self.profile, {})
        if not isinstance(table, dict):
            from libcli.errors import ConfigError

            raise ConfigError("config_invalid", path=str(self.path), detail=self.profile)
        table[key] = value
        save_file(data, self.path)
        self._data = data
        return value

    def unset(self, key: str) -> bool:
        if key not in KEYS:
            from libcli.errors import ConfigError

            raise ConfigError("config_unknown_key", key=key)
        data = load_file(self.path)
        table = data.get(self.profile)
        if not isinstance(table, dict) or key not in table:
            return False
        del table[key]
        save_file(data, self.path)
        self._data = data
        return True


def profile_names() -> list[str]:
    """Profiles in the config file, for completion (no network, stdlib only)."""
    from libcli.errors import ConfigError

    try:
        data = load_file()
    except ConfigError:
        return []
    return sorted(k for k, v in data.items() if isinstance(v, dict))
