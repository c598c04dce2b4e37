"""Running a library as its IT person would: one configuration, no silent databases, a
demo that cannot hurt, one public URL. Each test runs the real `libcli-server` in a
subprocess with a fresh HOME and none of the caller's LIBCLI_SERVER_* variables."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
from pathlib import Path

import pytest

from tests.conftest import bin_path, free_port, make_database

pytestmark = pytest.mark.e2e


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LIBCLI_SERVER_", "XDG_")) and k != "LIBCLI_SERVER"
    }
    return {**env, "HOME": str(home), **extra}


def server(env: dict, *args, input: str | None = None, timeout: float = 120):
    return subprocess.run(
        [bin_path("libcli-server"), *map(str, args)],
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def one_line_error(result) -> str:
    """The refusal: a non-zero exit and exactly one line on stderr, no traceback."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_init_with_a_fresh_home_makes_a_private_library(tmp_path):
    env = clean_env(tmp_path)
    result = server(env, "init")
    assert result.returncode == 0, result.stderr
    folder = tmp_path / ".local" / "share" / "libcli-server"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "library.db").stat().st_mode) == 0o600
    assert server(env, "mail", "list").returncode == 0


def test_init_makes_an_older_0644_library_file_private(tmp_path):
    env = clean_env(tmp_path, LIBCLI_SERVER_DATA_DIR=str(tmp_path / "lib"))
    assert server(env, "init").returncode == 0
    (tmp_path / "lib" / "library.db").chmod(0o644)
    assert server(env, "init").returncode == 0
    assert stat.S_IMODE((tmp_path / "lib" / "library.db").stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "args, env_extra, says",
    [
        (("mail", "list"), {"LIBCLI_SERVER_SMTP_PORT": "abc"}, "LIBCLI_SERVER_SMTP_PORT=abc"),
        (("init", "--database", "postgresql+psycopg://nobody@127.0.0.1:1/x"), {}, "127.0.0.1"),
        (("init", "--database", "nonsense://"), {}, "nonsense"),
        (("serve",), {"LIBCLI_SERVER_PUBLIC_URL": "library.example"}, "http"),
        (("mail", "list", "--database", "sqlite:///{tmp}/nowhere.db"), {}, "init"),
    ],
)
def test_bad_values_are_one_line_errors(tmp_path, args, env_extra, says):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    line = one_line_error(server(clean_env(tmp_path, **env_extra), *args))
    assert says in line


@pytest.mark.parametrize(
    "args, env_extra, exit_code, says",
    [
        (
            ("mail", "list"),
            {"LIBCLI_SERVER_SMTP_PORT": "abc"},
            2,
            "LIBCLI_SERVER_SMTP_PORT=abc: この値は使えません",
        ),
        (
            ("init", "--database", "postgresql+psycopg://nobody@127.0.0.1:1/x"),
            {},
            3,
            "データベース postgresql+psycopg://nobody@127.0.0.1:1/x を使えません",
        ),
        (
            ("mail", "list", "--database", "sqlite:///{tmp}/nowhere.db"),
            {},
            6,
            "に図書館のデータベースがありません: `libcli-server init` で作成してください",
        ),
        (("init", "--calendar", "{tmp}/broken.toml"), {}, 2, "カレンダー {tmp}/broken.toml を"),
        (("serve", "--host", "0.0.0.0"), {}, 2, "0.0.0.0 で公開するには public_url"),
        (("demo", "--data-dir", "{tmp}/lib"), {}, 5, "には図書館のデータがあります"),
        (("backup", "{tmp}/lib/library.db"), {}, 5, "はすでにあります"),
    ],
)
def test_newcomer_failures_are_one_line_in_japanese_with_an_exit_code_per_kind(
    tmp_path, args, env_extra, exit_code, says
):
    """The issue's newcomer failures, told to Japanese staff: one line each, no traceback,
    no English, and the exit code of its kind (2 usage, 3 unreachable, 5 refused, 6 none)."""
    (tmp_path / "broken.toml").write_text("[main\nclosed = [", encoding="utf-8")
    lib = tmp_path / "lib"
    env = clean_env(tmp_path, LIBCLI_SERVER_DATA_DIR=str(lib), **env_extra)
    if args[0] in ("demo", "backup", "serve"):
        assert server(env, "init").returncode == 0
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = server(env, "--lang", "ja", *args)
    line = one_line_error(result)
    assert says.replace("{tmp}", str(tmp_path)) in line
    assert result.returncode == exit_code, line


def test_a_bad_calendar_file_is_a_one_line_error(tmp_path):
    calendar = tmp_path / "calendar.toml"
    calendar.write_text("[nowhere]\nclosed = []\n", encoding="utf-8")
    line = one_line_error(server(clean_env(tmp_path), "init", "--calendar", calendar))
    assert "nowhere" in line


@pytest.mark.parametrize(
    "args",
    [
        ("serve",),
        ("mail", "list"),
        ("mail", "deliver"),
        ("run-daily",),
        ("patron", "add", "100000001", "--name", "青森 花子"),
        ("migrate",),
    ],
)
def test_only_init_creates_a_library(tmp_path, args):
    """A mistyped --database used to create an empty library silently and answer `no
    patron with card ...`; now every other command names the database and says `init`."""
    missing = tmp_path / "typo" / "library.db"
    url = f"sqlite:///{missing}"
    line = one_line_error(server(clean_env(tmp_path), *args, "--database", url))
    assert str(missing) in line and "libcli-server init" in line
    assert not missing.exists() and not missing.parent.exists()


@pytest.mark.postgres
def test_a_postgres_database_without_schema_is_refused_and_not_migrated(tmp_path):
    from sqlalchemy import create_engine, inspect

    from tests.conftest import _pg_admin

    admin, admin_url = _pg_admin()
    name = f"libcli_empty_{os.getpid()}"
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        line = one_line_error(server(clean_env(tmp_path), "mail", "list", "--database", url))
        assert name in line and "libcli-server init" in line
        engine = create_engine(url)
        assert inspect(engine).get_table_names() == []
        engine.dispose()
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def test_commands_do_not_migrate_an_older_schema_migrate_does(tmp_path):
    from alembic import command

    from libcli.server.db.migrate import alembic_config, head_revision

    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0002")
    env = clean_env(tmp_path, LIBCLI_SERVER_DATABASE_URL=url)
    for args in (("mail", "list"), ("serve", "--port", "0")):
        line = one_line_error(server(env, *args))
        assert "0002" in line and "libcli-server migrate" in line
        assert _revision(url) == "0002"
    assert server(env, "migrate").returncode == 0
    assert _revision(url) == head_revision()
    assert server(env, "mail", "list").returncode == 0


def test_config_file_then_variables_then_flags(tmp_path):
    config = tmp_path / "libcli-server.toml"
    config.write_text(
        f'database_url = "sqlite:///{tmp_path / "file.db"}"\n'
        'public_url = "https://library.example/"\n'
        "smtp_port = 2525\n"
        'smtp_password = "s3cret"\n'
        "address_failed_logins = 7\n",
        encoding="utf-8",
    )
    env = clean_env(tmp_path, LIBCLI_SERVER_CONFIG=str(config), LIBCLI_SERVER_SMTP_PORT="587")
    shown = server(env, "config", "show", "--json")
    assert shown.returncode == 0, shown.stderr
    rows = {r["name"]: r for r in json.loads(shown.stdout)["settings"]}
    assert rows["public_url"]["value"] == "https://library.example"
    assert rows["public_url"]["origin"] == "file"
    assert rows["smtp_port"] == {
        "name": "smtp_port",
        "value": 587,
        "origin": "env",
        "where": "LIBCLI_SERVER_SMTP_PORT",
    }
    assert rows["smtp_password"]["value"] == "********"
    assert "s3cret" not in shown.stdout
    assert rows["session_absolute_days"]["origin"] == "default"

    flagged = server(env, "config", "show", "--database", "postgresql+psycopg://u:pw@db/lib")
    assert flagged.returncode == 0, flagged.stderr
    line = next(x for x in flagged.stdout.splitlines() if x.startswith("database_url"))
    assert "postgresql+psycopg://u:***@db/lib" in line and "--database" in line
    assert "pw@" not in flagged.stdout

    # The same file reaches every command: init creates the file's database.
    assert server(env, "init").returncode == 0
    assert (tmp_path / "file.db").exists()
    assert server(env, "--config", config, "mail", "list").returncode == 0


def test_the_default_config_file_lives_under_xdg_config_home(tmp_path):
    folder = tmp_path / ".config" / "libcli-server"
    folder.mkdir(parents=True)
    (folder / "config.toml").write_text(f'data_dir = "{tmp_path / "lib"}"\n', encoding="utf-8")
    env = clean_env(tmp_path)
    assert server(env, "init").returncode == 0
    assert (tmp_path / "lib" / "library.db").exists()
    shown = json.loads(server(env, "config", "show", "--json").stdout)
    assert shown["config_file"] == str(folder / "config.toml")


def test_an_unknown_key_or_a_missing_config_file_is_one_line(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('databse_url = "sqlite:///x.db"\n', encoding="utf-8")
    line = one_line_error(server(clean_env(tmp_path), "--config", config, "mail", "list"))
    assert "databse_url" in line
    missing = tmp_path / "none.toml"
    line = one_line_error(server(clean_env(tmp_path, LIBCLI_SERVER_CONFIG=str(missing)), "init"))
    assert str(missing) in line


@pytest.fixture
def library_env(tmp_path):
    url, cleanup = make_database("sqlite", tmp_path)
    yield clean_env(tmp_path, LIBCLI_SERVER_DATABASE_URL=url)
    cleanup()


def test_serve_without_public_url_refuses_a_non_loopback_address(library_env):
    line = one_line_error(server(library_env, "serve", "--host", "0.0.0.0", "--port", "0"))
    assert "public_url" in line and "0.0.0.0" in line


def test_serve_without_public_url_refuses_a_port_its_links_would_miss(library_env):
    """`serve --port 18766` used to link its mails to :18766 and the console's to :8765."""
    line = one_line_error(server(library_env, "serve", "--port", str(free_port())))
    assert "public_url" in line and "8765" in line


def test_serve_on_a_busy_port_fails_before_any_banner(library_env):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**library_env, "LIBCLI_SERVER_PUBLIC_URL": f"http://127.0.0.1:{port}"}
        result = server(env, "serve", "--port", port, timeout=60)
    line = one_line_error(result)
    assert str(port) in line and "serving" not in result.stderr


def test_demo_refuses_a_folder_holding_a_library_unless_replace(tmp_path):
    """`demo --data-dir` used to delete the library it found there without a word."""
    folder = tmp_path / "library"
    env = clean_env(tmp_path, LIBCLI_SERVER_DATA_DIR=str(folder))
    assert server(env, "init").returncode == 0
    added = server(env, "patron", "add", "100000009", "--name", "本物 の人")
    assert added.returncode == 0, added.stderr
    before = (folder / "library.db").read_bytes()

    result = server(env, "demo", "--data-dir", folder, "--no-serve")
    line = one_line_error(result)
    assert str(folder) in line and "--replace" in line
    assert result.stdout == ""
    assert (folder / "library.db").read_bytes() == before

    replaced = server(env, "demo", "--data-dir", folder, "--no-serve", "--replace")
    assert replaced.returncode == 0, replaced.stderr
    assert "Cards" in replaced.stdout


def test_demo_without_data_dir_leaves_nothing_behind(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = clean_env(tmp_path, TMPDIR=str(scratch))
    result = server(env, "demo", "--no-serve")
    assert result.returncode == 0, result.stderr
    database = Path(next(x for x in result.stdout.splitlines() if x.startswith("Database:"))[10:])
    assert database.is_relative_to(scratch)
    assert list(scratch.iterdir()) == []
    assert not (tmp_path / ".local").exists()  # nor the configured library's folder


def test_demo_on_a_busy_port_fails_before_any_banner(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = server(clean_env(tmp_path), "demo", "--port", port, timeout=60)
    line = one_line_error(result)
    assert str(port) in line and result.stdout == ""


def test_backup_while_serving_restores_with_the_data(tmp_path, clock):
    """`backup FILE` on a served SQLite library; the copy, put in place of library.db in
    another folder, is a library with the same patrons and catalogue."""
    from sqlalchemy import create_engine, text

    from tests.conftest import start_live_server

    folder = tmp_path / "lib"
    env = clean_env(tmp_path, LIBCLI_SERVER_DATA_DIR=str(folder))
    assert server(env, "init").returncode == 0
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(
        "title_id,title,author,publisher,year,type,isbn,barcode,point,loanable\n"
        "B1,吾輩は猫である,夏目漱石,岩波書店,1990,book,,B1-1,main,true\n",
        encoding="utf-8",
    )
    assert server(env, "import-catalog", catalog).returncode == 0
    assert server(env, "patron", "add", "100000001", "--name", "青森 花子").returncode == 0
    live = start_live_server(f"sqlite:///{folder / 'library.db'}", tmp_path, clock)
    try:
        target = tmp_path / "backup.db"
        result = server(env, "backup", target)
        assert result.returncode == 0, result.stderr
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        again = server(env, "backup", target)
        assert "exists" in one_line_error(again)
    finally:
        live.stop()

    restored = tmp_path / "restored"
    restored.mkdir(mode=0o700)
    (restored / "library.db").write_bytes(target.read_bytes())
    renv = clean_env(tmp_path, LIBCLI_SERVER_DATA_DIR=str(restored))
    assert server(renv, "run-daily").returncode == 0  # a current library
    engine = create_engine(f"sqlite:///{restored / 'library.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT name FROM patron")).scalars().all() == ["青森 花子"]
        assert connection.execute(text("SELECT title FROM title")).scalars().all() == [
            "吾輩は猫である"
        ]
    engine.dispose()


@pytest.mark.postgres
def test_backup_on_postgres_points_to_pg_dump(tmp_path):
    url, cleanup = make_database("postgres", tmp_path)
    try:
        line = one_line_error(
            server(clean_env(tmp_path), "backup", tmp_path / "b", "--database", url)
        )
        assert "pg_dump" in line
        assert not (tmp_path / "b").exists()
    finally:
        cleanup()
