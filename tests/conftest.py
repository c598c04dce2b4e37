"""Shared fixtures: one clock, fresh databases (SQLite and PostgreSQL), the app, and a
live server.

PostgreSQL comes from LIBCLI_TEST_POSTGRES_URL (default: the local server, trust auth).
Locally the PostgreSQL variants skip when no server answers; under CI they fail.

Time: every test that needs a date or an instant takes it from the `clock` fixture,
which sets the server's clock (libcli.server.clock) for the service, the console and
the server processes alike. The suite's day is LIBCLI_TEST_TODAY (YYYY-MM-DD), by
default the real day at the library; tests/meta/test_time_travel.py runs every test
that uses the clock again a year ahead and across a year end.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
PG_ADMIN_URL = os.environ.get(
    "LIBCLI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ["sqlite", "postgres"]
LIBRARY_TIMEZONE = ZoneInfo("Asia/Tokyo")  # the built-in profile's


def suite_today() -> dt.date:
    """The day the suite runs on: LIBCLI_TEST_TODAY, or the real day at the library."""
    given = os.environ.get("LIBCLI_TEST_TODAY")
    if given:
        return dt.date.fromisoformat(given)
    return dt.datetime.now(LIBRARY_TIMEZONE).date()


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI=true a skip is a failure: CI has every service and file the suite needs, so
    a test that skipped there proved nothing while looking green."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and under_ci() and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which counts as a failure: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """The same for a whole module skipped at collection (importorskip, skip at import)."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and under_ci():
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which counts as a failure: {reason}"


def pytest_collection_modifyitems(items):
    # A test on the clock is date-sensitive: the time-travel run selects it with -m clock.
    for item in items:
        if {"clock", "module_clock"} & set(getattr(item, "fixturenames", ())):
            item.add_marker("clock")


def make_clock():
    """The server's clock, at noon at the library on the suite's day; it ticks from there
    (so the day does not change during a test) and `clock.advance(...)` moves it on."""
    from libcli.server.clock import Clock

    noon = dt.datetime.combine(suite_today(), dt.time(12), LIBRARY_TIMEZONE)
    return Clock(noon - dt.datetime.now(dt.UTC))


@pytest.fixture
def clock():
    return make_clock()


@pytest.fixture(scope="module")
def module_clock():
    """The clock for a library a whole module shares."""
    return make_clock()


def clock_env(clock) -> dict[str, str]:
    """The variable that gives a server or console process the same clock."""
    return {"LIBCLI_SERVER_CLOCK_OFFSET": f"{clock.offset.total_seconds():.6f}"}


def bin_path(name: str) -> str:
    """An executable of this venv (the installed console scripts)."""
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else (shutil.which(name) or name)


def _pg_admin():
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(PG_ADMIN_URL)
    try:
        return psycopg.connect(
            host=url.host,
            port=url.port or 5432,
            user=url.username,
            dbname=url.database,
            password=url.password,
            autocommit=True,
            connect_timeout=3,
        ), url
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI and did not answer: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}")


def _schema_version() -> str:
    """A digest of the migrations: a template database is reused only for the same ones."""
    import hashlib

    versions = ROOT / "src" / "libcli" / "server" / "db" / "migrations" / "versions"
    digest = hashlib.sha256()
    for path in sorted(versions.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:12]


_templates: dict[str, object] = {}


def _sqlite_template() -> Path:
    """One migrated SQLite file per run, copied for each test."""
    import tempfile

    from libcli.server.db.migrate import upgrade

    if "sqlite" not in _templates:
        path = Path(tempfile.mkdtemp(prefix="libcli-template-")) / "library.db"
        upgrade(f"sqlite:///{path}")
        _templates["sqlite"] = path
    return _templates["sqlite"]


def _postgres_template(admin, admin_url) -> str:
    """A migrated PostgreSQL template database, made once for these migrations (and kept
    between runs), that each test's database is created from."""
    from libcli.server.db.migrate import upgrade

    name = f"libcli_template_{_schema_version()}"
    exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    if not exists:
        # Built under another name and renamed, so a parallel run never sees it half-made.
        building = f"{name}_{uuid.uuid4().hex[:6]}"
        admin.execute(f'CREATE DATABASE "{building}"')
        upgrade(admin_url.set(database=building).render_as_string(hide_password=False))
        try:
            admin.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
        except Exception:  # another run finished first: use its template
            admin.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
    return name


def make_database(backend: str, tmp_path: Path):
    """A fresh, migrated database: (url, cleanup)."""
    if backend == "sqlite":
        path = tmp_path / "library.db"
        shutil.copyfile(_sqlite_template(), path)
        return f"sqlite:///{path}", lambda: None
    admin, admin_url = _pg_admin()
    template = _postgres_template(admin, admin_url)
    name = f"libcli_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    url = admin_url.set(database=name).render_as_string(hide_password=False)

    def drop():
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    return url, drop


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    url, cleanup = make_database(request.param, tmp_path)
    yield url
    cleanup()


@pytest.fixture
def settings(database_url, tmp_path, clock):
    from dataclasses import replace

    from libcli.server.settings import load_settings

    return replace(
        load_settings(database_url),
        data_dir=tmp_path,
        outbox_dir=tmp_path / "outbox",
        public_url="https://library.example",
        clock=clock,
    )


@pytest.fixture
def db(settings):
    from libcli.server.db.session import Database

    database = Database(settings.database_url)
    yield database
    database.dispose()


@pytest.fixture
def api(settings, db):
    from fastapi.testclient import TestClient

    from libcli.server.api.app import create_app

    with TestClient(create_app(settings, db)) as client:
        yield client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    """A real `libcli-server serve` process and its console on the same database."""

    url: str
    database_url: str
    env: dict
    outbox: Path
    clock: object
    process: subprocess.Popen | None = None
    log: Path | None = None
    extra: dict = field(default_factory=dict)

    def console(self, *args, input: str | None = None, check: bool = True):
        result = subprocess.run(
            [bin_path("libcli-server"), *map(str, args)],
            input=input,
            capture_output=True,
            text=True,
            env={**self.env, **clock_env(self.clock)},  # the clock as it is now
            timeout=120,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"libcli-server {' '.join(map(str, args))} exited {result.returncode}:\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result

    def mails(self) -> list[dict]:
        return json.loads(self.console("mail", "list", "--json").stdout)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def today(self) -> dt.date:
        return self.clock.today(LIBRARY_TIMEZONE.key)

    def start(self, workers: int = 1) -> None:
        """Start the server; it keeps the clock as it is at its start."""
        port = int(self.url.rsplit(":", 1)[1])
        self.log = self.outbox.parent / f"server-{port}.log"
        handle = open(self.log, "ab")  # noqa: SIM115 - the process owns it until it ends
        self.process = subprocess.Popen(
            [bin_path("libcli-server"), "serve", "--port", str(port), "--workers", str(workers)],
            env={**self.env, **clock_env(self.clock)},
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
        wait_for_health(self.url, self.process, self.log)


def wait_for_health(url: str, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not answer within {timeout}s:\n{log.read_text()}")


def start_live_server(
    database_url: str, tmp_path: Path, clock, workers: int = 1, **extra_env: str
) -> LiveServer:
    """`extra_env`: more LIBCLI_SERVER_* settings, e.g. another library's PROFILE."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    outbox = tmp_path / "outbox"
    env = {
        **os.environ,
        "LIBCLI_SERVER_DATABASE_URL": database_url,
        "LIBCLI_SERVER_DATA_DIR": str(tmp_path),
        "LIBCLI_SERVER_OUTBOX": str(outbox),
        "LIBCLI_SERVER_PUBLIC_URL": url,
        "LIBCLI_SERVER_MAIL_POLL_SECONDS": "0.5",  # serve's deliverer thread, not too lazy
    }
    env.pop("LIBCLI_SERVER_SMTP_HOST", None)
    env.update(extra_env)
    server = LiveServer(url=url, database_url=database_url, env=env, outbox=outbox, clock=clock)
    server.start(workers)
    return server


@pytest.fixture
def live_server(tmp_path, clock):
    """A real server on a fresh temporary SQLite database with an empty library."""
    url, cleanup = make_database("sqlite", tmp_path)
    server = start_live_server(url, tmp_path, clock)
    yield server
    server.stop()
    cleanup()


@pytest.fixture(params=BACKENDS)
def live_server_any(request, tmp_path, clock):
    """A real server on SQLite and, in a second run, on PostgreSQL."""
    url, cleanup = make_database(request.param, tmp_path)
    server = start_live_server(url, tmp_path, clock)
    server.extra["backend"] = request.param
    yield server
    server.stop()
    cleanup()


@pytest.fixture
def aozora_csv() -> Path:
    path = SHARED / "data" / "aozora_works.csv"
    if not path.exists():
        pytest.skip("../shared/data/aozora_works.csv is not here")
    return path
