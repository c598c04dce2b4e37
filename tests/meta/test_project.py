"""The project's own promises: lint clean, and the client never imports the server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_client_side_never_imports_the_server():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = _run(str(lint_imports), "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_lint_and_format_are_clean():
    ruff = str(Path(sys.executable).parent / "ruff")
    check = _run(ruff, "check", "src", "tests", "scripts")
    assert check.returncode == 0, check.stdout
    fmt = _run(ruff, "format", "--check", "src", "tests", "scripts")
    assert fmt.returncode == 0, fmt.stdout


def test_migrations_match_the_models(tmp_path):
    """A model change without a migration fails here (alembic's autogenerate diff)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from libcli.server.db.migrate import upgrade
    from libcli.server.db.models import Base

    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []
