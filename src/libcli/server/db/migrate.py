"""Alembic, driven from code: the schema of a database is brought to the newest revision.

Safe to start twice at once (two servers or consoles on a fresh database): the
migration runs under a lock that every migrator takes first, a session advisory lock
on PostgreSQL and a file lock beside the SQLite file. The second one waits, then finds
the schema current and does nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

_ADVISORY_LOCK = 0x11B_DB  # PostgreSQL: one migrator at a time per database


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option(
        "script_location", str(resources.files("libcli.server.db").joinpath("migrations"))
    )
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@contextmanager
def migration_lock(url: str) -> Iterator[None]:
    """Held while migrating; released when the process ends, however it ends."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            yield
            return
        from pathlib import Path

        from filelock import FileLock

        path = Path(parsed.database)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with FileLock(path.with_name(path.name + ".migrate-lock"), mode=0o600):
            yield
        return
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _ADVISORY_LOCK})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _ADVISORY_LOCK})
    finally:
        engine.dispose()


def upgrade(url: str) -> None:
    with migration_lock(url):
        command.upgrade(alembic_config(url), "head")
