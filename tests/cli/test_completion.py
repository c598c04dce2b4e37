"""TAB completion and start-up: no network, and none of requests, keyring, tabulate or the
server imported (checked in a fresh interpreter, since pytest itself imports them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.cli.conftest import API, title

HEAVY = ("requests", "urllib3", "keyring", "tabulate", "libcli.server", "libcli.client")

PROBE = f"""
import sys
sys.argv = ["libcli", *sys.argv[1:]]
from libcli.__main__ import main
try:
    main()
except SystemExit:
    pass
heavy = {HEAVY!r}
sys.stderr.write("\\nLOADED=" + ",".join(m for m in heavy if m in sys.modules) + "\\n")
"""


def probe(args: list[str], env: dict[str, str]) -> tuple[str, list[str]]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("LIBCLI_", "_LIBCLI"))}
    full_env.update(env)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
    )
    loaded = done.stderr.rsplit("LOADED=", 1)[1].strip()
    return done.stdout, [m for m in loaded.split(",") if m]


def complete(words: str, config_dir, **env) -> tuple[list[str], list[str]]:
    """What bash would offer after `words` (the cursor at its end)."""
    parts = words.split(" ")
    out, loaded = probe(
        [],
        {
            "_LIBCLI_COMPLETE": "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(parts) - 1),
            "LIBCLI_CONFIG_DIR": str(config_dir),
            **env,
        },
    )
    values = [line.split(",", 1)[1] for line in out.splitlines() if "," in line]
    return values, loaded


@pytest.fixture
def cache(isolated):
    path = isolated / "cache"
    path.mkdir(parents=True)
    (path / "default.json").write_text(
        json.dumps(
            {
                "favorites": [
                    {"id": "T100", "title": "ノルウェイの森"},
                    {"id": "T200", "title": "x"},
                ],
                "reservations": [{"id": 41, "title": "a", "status": "waiting"}],
                "titles": [{"id": "T300", "title": "y"}],
            }
        )
    )
    return isolated


@pytest.mark.parametrize(
    "args",
    [["--help"], ["reserve", "--help"], ["--lang", "ja", "--help"], ["config", "path"]],
    ids=lambda a: " ".join(a),
)
def test_help_imports_none_of_the_heavy_modules(args, isolated):
    out, loaded = probe(args, {"LIBCLI_CONFIG_DIR": str(isolated)})
    assert out
    assert loaded == []


def test_completing_commands_is_light(cache):
    values, loaded = complete("libcli rese", cache)
    assert values == ["reserve"]
    assert loaded == []


def test_completing_point_codes_and_contact_methods_before_any_login(cache):
    """Nothing cached from the server yet: the built-in list is the fallback."""
    assert complete("libcli reserve --pickup ", cache)[0] == ["main", "nango", "center"]
    values, loaded = complete("libcli reserve --contact ", cache)
    assert values == ["phone", "email", "ring", "voicemail", "none"]
    assert loaded == []


def test_completing_the_points_and_contact_methods_the_server_listed(cache):
    path = cache / "cache" / "default.json"
    data = json.loads(path.read_text())
    data["points"] = [
        {"id": "honkan", "name": {"ja": "みなと中央図書館", "en": "Minato Central Library"}},
        {"id": "kita", "name": {"ja": "北分館", "en": "North Branch"}},
    ]
    data["contact_methods"] = [{"id": "email"}, {"id": "none"}]
    path.write_text(json.dumps(data))
    values, loaded = complete("libcli reserve --pickup ", cache)
    assert values == ["honkan", "kita"]
    assert complete("libcli reserve --pickup k", cache)[0] == ["kita"]
    assert complete("libcli reserve --contact ", cache)[0] == ["email", "none"]
    assert loaded == []


def test_completing_ids_from_the_cache_without_network(cache):
    values, loaded = complete("libcli fav remove T", cache, LIBCLI_SERVER="http://192.0.2.1:9")
    assert values == ["T100", "T200"]
    assert loaded == []
    assert complete("libcli cancel ", cache)[0] == ["41"]
    assert complete("libcli reserve T", cache)[0] == ["T100", "T200", "T300"]


def test_completing_profiles_from_the_config(cache):
    (cache / "config.toml").write_text('[default]\npickup = "main"\n[hanako]\ncard = "1"\n')
    assert complete("libcli --profile ", cache)[0] == ["default", "hanako"]


def test_normal_commands_fill_the_cache(run, http, logged_in, isolated):
    from libcli import cache as completion_cache

    http.get(API + "/favorites", json={"items": [title("T7")]})
    http.get(
        API + "/status",
        json={
            "loans": [],
            "reservations": [{"reservation_id": 5, "id": "T1", "title": "t", "status": "waiting"}],
        },
    )
    run("fav", "list")
    run("status")
    assert [e["id"] for e in completion_cache.entries("default", "favorites")] == ["T7"]
    assert [e["id"] for e in completion_cache.entries("default", "reservations")] == [5]
    mode = os.stat(completion_cache.cache_path("default")).st_mode & 0o777
    assert mode == 0o600


def test_no_patron_module_imports_the_server():
    """Beyond the import-linter contract: every client-side module, the new ones included."""
    import ast
    from pathlib import Path

    src = Path(__file__).resolve().parents[2] / "src" / "libcli"
    offenders = []
    for path in src.rglob("*.py"):
        if "server" in path.relative_to(src).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            if any(n == "libcli.server" or n.startswith("libcli.server.") for n in names):
                offenders.append(str(path.relative_to(src)))
    assert offenders == []
