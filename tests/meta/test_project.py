"""The project's own promises: lint clean, and the client never imports the server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)


SKIPPING = """
import pytest

def test_needs_a_service():
    pytest.skip("the service is not here")

@pytest.mark.skipif(True, reason="not on this machine")
def test_marked():
    pass
"""
SKIPPING_FILES = ("test_skipping.py", "test_skipped_module.py")
SKIPPED_MODULE = """
import pytest

pytest.importorskip("no_such_module_here")
"""


def _pytest(tmp_path, test_file: str, ci: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CI": ci, "PYTHONPATH": str(ROOT)}
    plugins = ["-p", "tests.conftest", "-p", "no:cacheprovider"]  # the suite's hooks, no cache
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *plugins, test_file],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("ci", ["true", ""])
def test_a_skip_is_a_failure_under_ci(tmp_path, ci):
    (tmp_path / "test_skipping.py").write_text(SKIPPING)
    (tmp_path / "test_skipped_module.py").write_text(SKIPPED_MODULE)
    tests, module = (_pytest(tmp_path, name, ci) for name in SKIPPING_FILES)
    if ci:  # a skip in the test fails it, one at setup (a skipif mark) is an error
        assert tests.returncode == 1 and "1 failed, 1 error" in tests.stdout, tests.stdout
        assert module.returncode not in (0, 5) and "skipped under CI=true" in module.stdout
    else:
        assert tests.returncode == 0 and "2 skipped" in tests.stdout, tests.stdout
        assert module.returncode in (0, 5) and "1 skipped" in module.stdout, module.stdout


def test_cli_unit_tests_claim_no_rule():
    """The CLI's unit tests answer from a mock, so they prove how libcli handles a verdict,
    not the rule behind it: a rule is proven against the real server (tests/e2e, server)."""
    named = [
        f"{path.name}::{line.split('(')[0][4:]}"
        for path in (ROOT / "tests" / "cli").glob("test_*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.match(r"def test_r\d", line)
    ]
    assert named == []


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


def test_no_dead_code_in_src():
    """vulture over src/ with the names it cannot see used listed in pyproject.toml."""
    result = _run(str(Path(sys.executable).parent / "vulture"))
    assert result.returncode == 0, result.stdout + result.stderr


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


def test_nothing_shipped_or_documented_points_outside_the_project():
    """The project stands alone: a clone has no ../shared (tests and benches may read
    data from there and skip when it is absent), and its readers cannot see the issues."""
    places = [ROOT / "README.md", ROOT / "SECURITY.md", ROOT / "pyproject.toml"]
    for folder in ("docs", "src", "man", "completions"):
        places += [p for p in (ROOT / folder).rglob("*") if p.is_file() and p.suffix != ".mo"]
    assert len(places) > 50
    pointing = [
        str(p.relative_to(ROOT))
        for p in places
        if re.search(
            r"\.\./shared|shared/(data|seed|docs)|\b[Ii]ssues? #?[0-9]+",
            p.read_text("utf-8", "replace"),
        )
    ]
    assert pointing == []
