"""Database errors told apart: only a lock or serialization conflict is "busy, retry"
(503 with Retry-After); any other database error is a logged 500, and `libcli` says the
library's server has a problem."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

from libcli.server.api import problems


def _app(error: Exception) -> TestClient:
    app = FastAPI()
    problems.install(app)

    @app.get("/fails")
    def fails():
        raise OperationalError("SELECT 1", {}, error)

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize(
    "error",
    [
        sqlite3.OperationalError("database is locked"),
        psycopg.errors.SerializationFailure("could not serialize access"),
        psycopg.errors.DeadlockDetected("deadlock detected"),
        psycopg.errors.LockNotAvailable("could not obtain lock"),
    ],
)
def test_lock_and_serialization_conflicts_are_503_with_retry_after(error):
    response = _app(error).get("/fails")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.json()["code"] == "busy"


@pytest.mark.parametrize(
    "error",
    [
        sqlite3.OperationalError("disk I/O error"),
        sqlite3.OperationalError("no such table: title"),
        psycopg.OperationalError("connection to server at 127.0.0.1 failed: Connection refused"),
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
    ],
)
def test_other_database_errors_are_a_logged_500(error, caplog):
    with caplog.at_level(logging.ERROR, logger="libcli.server"):
        response = _app(error).get("/fails")
    assert response.status_code == 500
    assert "Retry-After" not in response.headers
    assert response.json()["code"] == "internal_error"
    assert any(r.levelno == logging.ERROR and r.exc_info for r in caplog.records)


@pytest.mark.e2e
def test_a_broken_database_is_not_busy_for_libcli(live_server, tmp_path):
    """A real server whose SQLite file lost a table: the patron is told the server has a
    problem (it used to be "busy, try again in a moment")."""
    from tests.e2e.test_cli_flow import libcli_bin

    engine = create_engine(live_server.database_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE title RENAME TO title_gone")
    engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIBCLI_", "LC_"))}
    env.update(
        LIBCLI_SERVER=live_server.url,
        LIBCLI_CONFIG_DIR=str(tmp_path / "config"),
        HOME=str(tmp_path),
        LANG="C",
        LIBCLI_LANG="en",
        PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
    )
    done = subprocess.run(
        [libcli_bin(), "show", "T1"], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "had a problem" in done.stderr and "busy" not in done.stderr
    assert "database error" in live_server.log.read_text()
