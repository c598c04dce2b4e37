"""The README's "Run a real library" block, run line for line against PostgreSQL with a
fresh HOME: every step reaches the same database (the config file it writes), which
used to be split between PostgreSQL and a SQLite file nobody asked for."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.conftest import ROOT, _pg_admin, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

README_URL = "postgresql+psycopg://library@db/library"
CALENDAR = '[all]\nclosed = ["2030-12-29..2031-01-03"]\n'
HOLDINGS = (
    "title_id,title,author,publisher,year,type,isbn,barcode,point,loanable\n"
    "B1,吾輩は猫である,夏目漱石,岩波書店,1990,book,,B1-1,main,true\n"
    "B2,こころ,夏目漱石,岩波書店,1991,book,,B2-1,nango,true\n"
)


def readme_steps() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(
        r"<!-- real-library.*?-->\n```sh\n(.*?)```\n<!-- /real-library -->", readme, re.S
    )
    assert found, "the README's real-library block is missing its markers"
    return found.group(1)


@pytest.fixture
def empty_database():
    admin, admin_url = _pg_admin()
    name = f"libcli_readme_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')  # what `createdb` does
    yield admin_url.set(database=name).render_as_string(hide_password=False)
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def test_readme_real_library_steps_all_reach_one_postgres_database(tmp_path, empty_database):
    steps = readme_steps()
    assert README_URL in steps and "--port 8765" in steps
    port = free_port()
    script = steps.replace(README_URL, empty_database).replace("--port 8765", f"--port {port}")
    (tmp_path / "closed.toml").write_text(CALENDAR, encoding="utf-8")
    (tmp_path / "holdings.csv").write_text(HOLDINGS, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIBCLI_SERVER", "XDG_"))}
    env.update(HOME=str(tmp_path), PATH=f"{Path(sys.executable).parent}:{env['PATH']}")
    log = tmp_path / "steps.log"
    with open(log, "w") as out:
        done = subprocess.run(
            ["bash", "-euc", script + 'echo "SERVE_PID=$!"\n'],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=300,
        )
    output = log.read_text()
    pid = int(re.search(r"SERVE_PID=(\d+)", output).group(1)) if "SERVE_PID=" in output else None
    try:
        assert done.returncode == 0, output
        assert "Traceback" not in output
        assert "database_url" in output and "(config file: " in output  # config show
        # The server started by the block answers from the same database.
        url = f"http://127.0.0.1:{port}"
        _wait(url, log)
        title = requests.get(f"{url}/api/v1/catalog/titles/B1", timeout=30)
        assert title.status_code == 200 and title.json()["title"] == "吾輩は猫である"
    finally:
        if pid:
            os.kill(pid, signal.SIGTERM)
    engine = create_engine(empty_database)
    with engine.connect() as connection:
        patrons = connection.execute(text("SELECT card, password_hash FROM patron")).all()
        titles = connection.execute(text("SELECT count(*) FROM title")).scalar()
    engine.dispose()
    assert [card for card, _hash in patrons] == ["123456789"] and patrons[0][1]
    assert titles == 2
    assert not list(tmp_path.rglob("*.db"))  # no SQLite library on the side


def _wait(url: str, log: Path) -> None:
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise AssertionError(f"the README's serve did not answer:\n{log.read_text()}")
