"""Migrations: safe to start several at once on a fresh database, and the queue numbers
(R22) of reservations made before them follow the old order (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import uuid

import pytest

from tests.conftest import _pg_admin, bin_path

PROCESSES = 3
ROUNDS = 3


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_database(request, tmp_path):
    """A factory of empty databases (no schema at all)."""
    made = []

    def make() -> str:
        if request.param == "sqlite":
            folder = tmp_path / uuid.uuid4().hex
            folder.mkdir()
            return f"sqlite:///{folder / 'library.db'}"
        admin, admin_url = _pg_admin()
        name = f"libcli_test_{uuid.uuid4().hex[:12]}"
        admin.execute(f'CREATE DATABASE "{name}"')
        made.append((admin, name))
        return admin_url.set(database=name).render_as_string(hide_password=False)

    yield make
    for admin, name in made:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _head(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


@pytest.mark.e2e
def test_three_consoles_migrating_a_fresh_database_at_once_all_succeed(fresh_database, tmp_path):
    from alembic.script import ScriptDirectory

    from libcli.server.db.migrate import alembic_config

    for _round in range(ROUNDS):
        url = fresh_database()
        env = {**os.environ, "LIBCLI_SERVER_DATA_DIR": str(tmp_path)}
        runs = [
            subprocess.Popen(
                [bin_path("libcli-server"), "init", "--database", url],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(PROCESSES)
        ]
        outputs = [run.communicate(timeout=120)[0] for run in runs]
        assert [run.returncode for run in runs] == [0] * PROCESSES, outputs
        head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
        assert _head(url) == head


def test_r22_reservations_made_before_the_queue_number_keep_their_order(fresh_database, clock):
    """Upgrading numbers each title's existing queue by the old order (placed_at, id)."""
    import datetime as dt

    from alembic import command
    from sqlalchemy import create_engine, text

    from libcli.server.db.migrate import alembic_config, upgrade

    url = fresh_database()
    command.upgrade(alembic_config(url), "0002")
    engine = create_engine(url)
    now = clock.now()
    rows = [  # (id, title, placed_at): id 3 came before id 1 for title A
        (1, "A", now),
        (2, "B", now),
        (3, "A", now - dt.timedelta(minutes=5)),
        (4, "A", now),
        (5, "B", now - dt.timedelta(minutes=1)),
    ]
    with engine.begin() as connection:
        for title in ("A", "B"):
            connection.execute(
                text(
                    "INSERT INTO title (id, title, author, publisher, type, search_text)"
                    " VALUES (:i, :name, '', '', 'book', '')"
                ),
                {"i": title, "name": title},
            )
        for rid, title, placed in rows:  # a patron each (R21: one per patron and title)
            card = f"10000000{rid}"
            connection.execute(
                text(
                    "INSERT INTO patron (card, name, failed_logins, created_at)"
                    " VALUES (:c, :c, 0, :t)"
                ),
                {"c": card, "t": now},
            )
            connection.execute(
                text(
                    "INSERT INTO reservation (id, card, title_id, pickup, contact, status, via,"
                    " placed_at) VALUES (:id, :c, :t, 'main', 'phone', 'waiting', 'online', :p)"
                ),
                {"id": rid, "c": card, "t": title, "p": placed},
            )
    engine.dispose()
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as connection:
        numbers = dict(connection.execute(text("SELECT id, queue_number FROM reservation")).all())
    engine.dispose()
    assert numbers == {3: 1, 1: 2, 4: 3, 5: 1, 2: 2}
