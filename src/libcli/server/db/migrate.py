"""Alembic, driven from code: creating a library, bringing its schema to the newest
revision (only `init` and `migrate` do), and checking it before any other command uses it.

Safe to start twice at once (two servers or consoles on a fresh database): the
migration runs under a lock that every migrator takes first, a session advisory lock
on PostgreSQL and a file lock beside the SQLite file. The second one waits, then finds
the schema current and does nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from libcli.server.i18n import N_, Worded

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


NO_LIBRARY = N_("no library at {database}: run `libcli-server init` to create one")


class NotReady(Worded):
    """The database cannot be used as it is; the message is one line for the operator,
    in any language (`said(lang)`). `kind`: "missing" (no library there), "unreachable"
    (the database did not answer or refused us) or "outdated" (an older schema)."""

    def __init__(self, message: str, *, kind: str = "missing", **fields: object):
        super().__init__(message, **fields)
        self.kind = kind


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def create_library(url: str) -> None:
    """`init`: the database made (a SQLite file 0600 in a 0700 folder) and migrated."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if not path.parent.exists():
            path.parent.mkdir(mode=0o700, parents=True)
            path.parent.chmod(0o700)  # whatever the umask
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
        for part in (path, *path.parent.glob(path.name + "-*")):
            part.chmod(0o600)  # also an older library made 0644
    else:
        try:
            current_revision(url)  # reachable, and the database exists
        except NotReady as exc:
            if exc.message != NO_LIBRARY:
                raise
            raise NotReady(
                N_(
                    "database {database} does not exist: create it first (createdb, or "
                    "CREATE DATABASE as its owner), then run init again"
                ),
                database=parsed.render_as_string(hide_password=True),
            ) from None
    upgrade(url)


def current_revision(url: str) -> str | None:
    """The schema's revision (None: no schema). NotReady when the database is missing or
    cannot be reached. A missing SQLite file is never created here."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.exc import DBAPIError

    shown = make_url(url).render_as_string(hide_password=True)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise NotReady(N_("{database}: an in-memory database holds no library"), database=shown)
        if not Path(parsed.database).is_file():
            raise NotReady(NO_LIBRARY, database=shown)
        url = f"sqlite:///file:{Path(parsed.database).resolve()}?mode=rw&uri=true"
    engine = create_engine(url, poolclass=pool.NullPool, **_connect_args(parsed))
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        if "does not exist" in reason:
            raise NotReady(NO_LIBRARY, database=shown) from None
        raise NotReady(
            N_("database {database} cannot be used: {reason}"),
            kind="unreachable",
            database=shown,
            reason=reason,
        ) from None
    finally:
        engine.dispose()


def _connect_args(parsed) -> dict:
    if parsed.get_backend_name() == "sqlite":
        return {}
    return {"connect_args": {"connect_timeout": 5}}


def require_current(url: str) -> None:
    """Refuse (NotReady) a database that is missing, has no schema or an older one."""
    shown = make_url(url).render_as_string(hide_password=True)
    revision = current_revision(url)
    if revision is None:
        raise NotReady(NO_LIBRARY, database=shown)
    if revision != head_revision():
        raise NotReady(
            N_(
                "the library at {database} has schema {revision}, this libcli-server needs "
                "{needed}: run `libcli-server migrate`"
            ),
            kind="outdated",
            database=shown,
            revision=revision,
            needed=head_revision(),
        )
