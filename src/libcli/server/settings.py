"""The server's settings, in one object, from the environment (and console flags)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

from libcli.server.clock import Clock
from libcli.server.profile import LibraryProfile, load_profile


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "libcli-server"


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    outbox_dir: Path
    public_url: str = "http://127.0.0.1:8765"
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    session_idle_minutes: int = 60 * 24 * 14
    session_absolute_days: int = 90
    reset_token_minutes: int = 30
    # Guessing throttles (SECURITY.md): failed logins per client address and across the
    # service, and password-reset requests per client address, each in a fixed window.
    address_failed_logins: int = 100
    address_window_seconds: int = 600
    global_failed_logins: int = 1000
    global_window_seconds: int = 60
    address_reset_requests: int = 100
    # The reverse proxies (addresses or networks, comma-separated) whose X-Forwarded-For
    # names the client; empty: the header is ignored and the peer is the client.
    trusted_proxies: str = ""
    # Mail delivery (docs/mail.md): a claim older than the lease is retaken; temporary
    # failures wait retry * 2**(attempts-1); `serve` runs one deliverer thread unless off.
    mail_lease_seconds: int = 600
    mail_retry_seconds: int = 60
    mail_poll_seconds: float = 5.0
    mail_deliver_in_serve: bool = True
    profile: LibraryProfile = field(default_factory=load_profile)
    clock: Clock = field(default_factory=Clock)

    def now(self) -> dt.datetime:
        """The current instant by the server's clock (clock.py)."""
        return self.clock.now()

    def today(self) -> dt.date:
        """Today at the library, by the server's clock."""
        return self.clock.today(self.profile.timezone)


_YES = ("1", "true", "yes")


def load_settings(database_url: str | None = None) -> Settings:
    """Settings from LIBCLI_SERVER_* variables; `database_url` (a --database flag) wins."""
    env = os.environ.get
    data_dir = Path(env("LIBCLI_SERVER_DATA_DIR") or default_data_dir())
    url = (
        database_url or env("LIBCLI_SERVER_DATABASE_URL") or f"sqlite:///{data_dir / 'library.db'}"
    )
    profile_path = env("LIBCLI_SERVER_PROFILE")
    return Settings(
        database_url=url,
        data_dir=data_dir,
        outbox_dir=Path(env("LIBCLI_SERVER_OUTBOX") or data_dir / "outbox"),
        public_url=(env("LIBCLI_SERVER_PUBLIC_URL") or "http://127.0.0.1:8765").rstrip("/"),
        smtp_host=env("LIBCLI_SERVER_SMTP_HOST") or None,
        smtp_port=int(env("LIBCLI_SERVER_SMTP_PORT") or 25),
        smtp_user=env("LIBCLI_SERVER_SMTP_USER") or None,
        smtp_password=env("LIBCLI_SERVER_SMTP_PASSWORD") or None,
        smtp_starttls=(env("LIBCLI_SERVER_SMTP_STARTTLS") or "") in _YES,
        session_idle_minutes=int(env("LIBCLI_SERVER_SESSION_IDLE_MINUTES") or 60 * 24 * 14),
        session_absolute_days=int(env("LIBCLI_SERVER_SESSION_ABSOLUTE_DAYS") or 90),
        reset_token_minutes=int(env("LIBCLI_SERVER_RESET_TOKEN_MINUTES") or 30),
        address_failed_logins=int(env("LIBCLI_SERVER_ADDRESS_FAILED_LOGINS") or 100),
        address_window_seconds=int(env("LIBCLI_SERVER_ADDRESS_WINDOW_SECONDS") or 600),
        global_failed_logins=int(env("LIBCLI_SERVER_GLOBAL_FAILED_LOGINS") or 1000),
        global_window_seconds=int(env("LIBCLI_SERVER_GLOBAL_WINDOW_SECONDS") or 60),
        address_reset_requests=int(env("LIBCLI_SERVER_ADDRESS_RESET_REQUESTS") or 100),
        trusted_proxies=(env("LIBCLI_SERVER_TRUSTED_PROXIES") or "").strip(),
        mail_lease_seconds=int(env("LIBCLI_SERVER_MAIL_LEASE_SECONDS") or 600),
        mail_retry_seconds=int(env("LIBCLI_SERVER_MAIL_RETRY_SECONDS") or 60),
        mail_poll_seconds=float(env("LIBCLI_SERVER_MAIL_POLL_SECONDS") or 5),
        mail_deliver_in_serve=(env("LIBCLI_SERVER_MAIL_DELIVER_IN_SERVE") or "1") in _YES,
        profile=load_profile(profile_path) if profile_path else load_profile(),
        clock=Clock(dt.timedelta(seconds=float(env("LIBCLI_SERVER_CLOCK_OFFSET") or 0))),
    )
