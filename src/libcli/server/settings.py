"""The server's settings: one TOML config file, `LIBCLI_SERVER_*` variables over it, the
console's flags over both (pydantic-settings reads and checks them).

`Config` is what an operator writes, each setting with its one default. `Settings` is what
the code reads: the same values resolved (the database URL, the outbox folder, the
library profile loaded, the clock). Every `libcli-server` command builds it through
`load_settings`, so `serve`, the console, `run-daily` and `mail deliver` agree.

The config file: `--config FILE`, else `LIBCLI_SERVER_CONFIG`, else
`$XDG_CONFIG_HOME/libcli-server/config.toml` (`~/.config/...`) when it exists. Keys are
the settings' names in lower case (`database_url = "postgresql+psycopg://..."`).
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from libcli.server.clock import Clock
from libcli.server.i18n import N_, Worded
from libcli.server.profile import LibraryProfile, load_profile

ENV_PREFIX = "LIBCLI_SERVER_"
CONFIG_ENV = ENV_PREFIX + "CONFIG"
DEFAULT_PORT = 8765
SECRETS = ("smtp_password",)  # masked by `config show`; the database URL's password too


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "libcli-server"


def default_config_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "libcli-server" / "config.toml"


class SettingsError(Worded, ValueError):
    """A setting that cannot be used, told in one line that names it and where it came from
    (in any language: `said(lang)`; what pydantic says of the value stays English)."""


_config_file: ContextVar[Path | None] = ContextVar("libcli_server_config_file", default=None)


class Config(BaseSettings):
    """Every setting of libcli-server with its default (the one place of each default)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_ignore_empty=True, extra="forbid", frozen=True
    )

    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default: library.db in data_dir"
    )
    data_dir: Path = Field(default_factory=default_data_dir, description="the library's folder")
    outbox: Path | None = Field(
        None, description="mail files without SMTP; default data_dir/outbox"
    )
    public_url: str | None = Field(
        None, description="the base of every link in mails (https://library.example)"
    )
    host: str = Field("127.0.0.1", description="serve: the address to listen on")
    port: int = Field(DEFAULT_PORT, ge=0, le=65535, description="serve: the port")
    workers: int = Field(1, ge=1, le=64, description="serve: worker processes")
    smtp_host: str | None = Field(None, description="without it mail goes to the outbox")
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    session_idle_minutes: int = Field(60 * 24 * 14, ge=1)
    session_absolute_days: int = Field(90, ge=1)
    reset_token_minutes: int = Field(30, ge=1)
    # Guessing throttles (SECURITY.md): failed logins per client address and across the
    # service, and password-reset requests per client address, each in a fixed window.
    address_failed_logins: int = Field(100, ge=1)
    address_window_seconds: int = Field(600, ge=1)
    global_failed_logins: int = Field(1000, ge=1)
    global_window_seconds: int = Field(60, ge=1)
    address_reset_requests: int = Field(100, ge=1)
    trusted_proxies: str = Field(
        "",
        description="reverse proxies (addresses or networks, comma-separated) whose "
        "X-Forwarded-For names the client; empty: the header is ignored",
    )
    # Mail delivery (docs/mail.md): a claim older than the lease is retaken; temporary
    # failures wait retry * 2**(attempts-1); `serve` runs one deliverer thread unless off.
    mail_lease_seconds: int = Field(600, ge=1)
    mail_retry_seconds: int = Field(60, ge=1)
    mail_poll_seconds: float = Field(5.0, gt=0)
    mail_deliver_in_serve: bool = True
    profile: Path | None = Field(None, description="a library profile TOML; default Hachinohe's")
    clock_offset: float = Field(0.0, description="seconds the library's clock runs ahead")

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _a_database_we_run_on(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            backend = make_url(value).get_backend_name()
        except ArgumentError:
            backend = None
        if backend not in ("sqlite", "postgresql"):
            raise ValueError("not a sqlite:///FILE or postgresql+psycopg://... URL")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Flags over variables over the config file over the defaults.
        return (init_settings, env_settings, _toml_source(_config_file.get()))


def _toml_source(path: Path | None) -> PydanticBaseSettingsSource:
    return TomlConfigSettingsSource(Config, toml_file=path) if path else _Empty(Config)


class _Empty(PydanticBaseSettingsSource):
    def get_field_value(self, field, field_name):
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True)
class Settings:
    """The settings as the code uses them (defaults and meanings: `Config`)."""

    database_url: str
    data_dir: Path
    outbox_dir: Path
    public_url: str
    public_url_given: bool  # False: public_url is the loopback default (serve checks it)
    host: str
    port: int
    workers: int
    smtp_host: str | None
    smtp_port: int
    smtp_user: str | None
    smtp_password: str | None
    smtp_starttls: bool
    session_idle_minutes: int
    session_absolute_days: int
    reset_token_minutes: int
    address_failed_logins: int
    address_window_seconds: int
    global_failed_logins: int
    global_window_seconds: int
    address_reset_requests: int
    trusted_proxies: str
    mail_lease_seconds: int
    mail_retry_seconds: int
    mail_poll_seconds: float
    mail_deliver_in_serve: bool
    profile: LibraryProfile
    clock: Clock
    config_file: Path | None = None  # the file read, if any

    def now(self) -> dt.datetime:
        """The current instant by the server's clock (clock.py)."""
        return self.clock.now()

    def today(self) -> dt.date:
        """Today at the library, by the server's clock."""
        return self.clock.today(self.profile.timezone)


def config_file(given: str | Path | None = None) -> Path | None:
    """The config file to read: the flag, LIBCLI_SERVER_CONFIG, or the default location
    when a file is there. A named file that is missing is an error."""
    named = given or os.environ.get(CONFIG_ENV)
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            origin = "--config" if given else CONFIG_ENV
            raise SettingsError(
                N_("config file {path} ({origin}) does not exist"), path=path, origin=origin
            )
        return path
    default = default_config_file()
    return default if default.is_file() else None


def _read_config(path: Path | None, flags: dict[str, Any]) -> Config:
    token = _config_file.set(path)
    try:
        return Config(**flags)
    except ValidationError as exc:
        raise _one_line(exc, path, flags) from None
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise SettingsError(
            N_("config file {path} cannot be read: {problem}"), path=path, problem=exc
        ) from None
    finally:
        _config_file.reset(token)


def _one_line(exc: ValidationError, path: Path | None, flags: dict[str, Any]) -> SettingsError:
    error = exc.errors()[0]
    name = str(error["loc"][0]) if error["loc"] else "?"
    if error["type"] == "extra_forbidden":
        return SettingsError(
            N_("config file {path}: unknown setting {name}"), path=path, name=repr(name)
        )
    value, why = error.get("input"), error["msg"][:1].lower() + error["msg"][1:]
    if name in flags:
        given = f"--{name.replace('_', '-')} {value}"
    elif os.environ.get(ENV_PREFIX + name.upper()):
        given = f"{ENV_PREFIX}{name.upper()}={value}"
    else:
        given = f"config file {path}: {name} = {value!r}"
    return SettingsError(N_("{setting}: {why}"), setting=given, why=why)


def load_settings(
    database_url: str | None = None, *, config: str | Path | None = None, **flags: Any
) -> Settings:
    """The effective settings; `database_url` and `flags` are the command's flags (None:
    not given). Raises SettingsError, one line, on a value that cannot be used."""
    given = {k: v for k, v in {"database_url": database_url, **flags}.items() if v is not None}
    path = config_file(config)
    cfg = _read_config(path, given)
    return _resolve(cfg, path)


def _resolve(cfg: Config, path: Path | None) -> Settings:
    data_dir = cfg.data_dir.expanduser()
    try:
        profile = load_profile(cfg.profile) if cfg.profile else load_profile()
    except (OSError, KeyError, ValueError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(
            N_("library profile {profile}: {problem}"), profile=cfg.profile, problem=exc
        ) from None
    return Settings(
        database_url=cfg.database_url or f"sqlite:///{data_dir / 'library.db'}",
        data_dir=data_dir,
        outbox_dir=(cfg.outbox or data_dir / "outbox").expanduser(),
        public_url=cfg.public_url or f"http://127.0.0.1:{DEFAULT_PORT}",
        public_url_given=cfg.public_url is not None,
        host=cfg.host,
        port=cfg.port,
        workers=cfg.workers,
        smtp_host=cfg.smtp_host,
        smtp_port=cfg.smtp_port,
        smtp_user=cfg.smtp_user,
        smtp_password=cfg.smtp_password,
        smtp_starttls=cfg.smtp_starttls,
        session_idle_minutes=cfg.session_idle_minutes,
        session_absolute_days=cfg.session_absolute_days,
        reset_token_minutes=cfg.reset_token_minutes,
        address_failed_logins=cfg.address_failed_logins,
        address_window_seconds=cfg.address_window_seconds,
        global_failed_logins=cfg.global_failed_logins,
        global_window_seconds=cfg.global_window_seconds,
        address_reset_requests=cfg.address_reset_requests,
        trusted_proxies=cfg.trusted_proxies,
        mail_lease_seconds=cfg.mail_lease_seconds,
        mail_retry_seconds=cfg.mail_retry_seconds,
        mail_poll_seconds=cfg.mail_poll_seconds,
        mail_deliver_in_serve=cfg.mail_deliver_in_serve,
        profile=profile,
        clock=Clock(dt.timedelta(seconds=cfg.clock_offset)),
        config_file=path,
    )


@dataclass(frozen=True)
class Explained:
    name: str
    value: Any
    origin: str  # "default", "file", "env" or "flag"
    where: str  # the file, the variable or the flag


def explain(
    database_url: str | None = None, *, config: str | Path | None = None, **flags: Any
) -> list[Explained]:
    """Each setting's effective value (secrets masked) and where it came from."""
    given = {k: v for k, v in {"database_url": database_url, **flags}.items() if v is not None}
    path = config_file(config)
    cfg = _read_config(path, given)
    settings = _resolve(cfg, path)
    env = EnvSettingsSource(Config)()
    token = _config_file.set(path)
    try:
        in_file = _toml_source(path)()
    finally:
        _config_file.reset(token)
    rows = []
    for name in Config.model_fields:
        if name in given:
            origin, where = "flag", f"--{name.replace('_', '-')}"
        elif name in env:
            origin, where = "env", ENV_PREFIX + name.upper()
        elif name in in_file:
            origin, where = "file", str(path)
        else:
            origin, where = "default", ""
        value = getattr(cfg, name)
        if name == "database_url":
            value = _masked_url(settings.database_url)
        elif name == "outbox":
            value = settings.outbox_dir
        elif name == "public_url":
            value = settings.public_url
        elif name in SECRETS and value:
            value = "********"
        shown = str(value) if isinstance(value, Path) else value
        rows.append(Explained(name, shown, origin, where))
    return rows


def _masked_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def as_environment(settings: Settings) -> dict[str, str]:
    """The variables that give a child process (a uvicorn worker) these same settings."""
    env = {
        ENV_PREFIX + "DATABASE_URL": settings.database_url,
        ENV_PREFIX + "DATA_DIR": str(settings.data_dir),
        ENV_PREFIX + "OUTBOX": str(settings.outbox_dir),
        ENV_PREFIX + "TRUSTED_PROXIES": settings.trusted_proxies,
        ENV_PREFIX + "CLOCK_OFFSET": f"{settings.clock.offset.total_seconds():.6f}",
    }
    if settings.public_url_given:
        env[ENV_PREFIX + "PUBLIC_URL"] = settings.public_url
    if settings.config_file:
        env[CONFIG_ENV] = str(settings.config_file)
    return env
