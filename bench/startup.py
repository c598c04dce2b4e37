"""1. Start-up and 2. TAB completion, whole processes, beside a bare Click app."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import clean_env, summary_ms, time_commands, venv_bin

HELLO = str(Path(__file__).with_name("hello_click.py"))


def _isolated(tmp: Path) -> dict:
    (tmp / "cache").mkdir(parents=True, exist_ok=True)
    (tmp / "cache" / "default.json").write_text(
        json.dumps(
            {
                "favorites": [{"id": "T100", "title": "こころ"}],
                "reservations": [
                    {"id": 40 + n, "title": f"本 {n}", "status": "waiting"} for n in range(10)
                ],
                "titles": [],
            }
        )
    )
    return clean_env(LIBCLI_CONFIG_DIR=str(tmp), HOME=str(tmp), LANG="C")


def _completion(env: dict, var: str, words: str) -> dict:
    return {
        **env,
        var: "bash_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split(" ")) - 1),
    }


def run(runs: int) -> dict:
    py = sys.executable
    libcli = venv_bin("libcli")
    # An installed package has its bytecode; PYTHONDONTWRITEBYTECODE may be set here.
    subprocess.run([py, "-m", "compileall", "-q", str(Path(__file__).parents[1] / "src")])
    with tempfile.TemporaryDirectory() as tmp:
        env = _isolated(Path(tmp))
        cases = {
            "python -c pass": [py, "-c", "pass"],
            "bare Click --help": [py, HELLO, "--help"],
            "libcli --help": [libcli, "--help"],
            "libcli status --help": [libcli, "status", "--help"],
            "http --version (httpie)": [venv_bin("http"), "--version"],
        }
        timed = time_commands({name: (argv, env) for name, argv in cases.items()}, runs)
        startup = {name: summary_ms(t) for name, t in timed.items()}

        completions = {
            "bare Click: subcommand": (
                [py, HELLO],
                _completion(env, "_HELLO_COMPLETE", "hello gr"),
            ),
            "bare Click: --pickup value": (
                [py, HELLO],
                _completion(env, "_HELLO_COMPLETE", "hello greet --pickup "),
            ),
            "libcli: subcommand": ([libcli], _completion(env, "_LIBCLI_COMPLETE", "libcli re")),
            "libcli: --pickup value": (
                [libcli],
                _completion(env, "_LIBCLI_COMPLETE", "libcli reserve --pickup "),
            ),
            "libcli: cancel <reservation id>": (
                [libcli],
                _completion(env, "_LIBCLI_COMPLETE", "libcli cancel "),
            ),
        }
        timed = time_commands(completions, runs)
        completion = {name: summary_ms(t) for name, t in timed.items()}
        offered = {}
        for name, (argv, cenv) in completions.items():
            out = subprocess.run(argv, env=cenv, capture_output=True, text=True).stdout
            offered[name] = [line.split(",", 1)[-1] for line in out.splitlines()][:12]
        importtime = _importtime(libcli, env)
    return {
        "startup": startup,
        "completion": completion,
        "offered": offered,
        "importtime": importtime,
    }


def _importtime(libcli: str, env: dict) -> list[tuple[str, int]]:
    """The ten most expensive imports (cumulative µs) of `libcli --help`."""
    done = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-c",
            "import sys; sys.argv=['libcli','--help']; from libcli.__main__ import main; main()",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self, cumulative, name = line[len("import time:") :].split("|")
        if len(name) - len(name.lstrip()) <= 3:  # top level (and one below)
            rows.append((name.strip(), int(cumulative)))
    return sorted(rows, key=lambda r: -r[1])[:12]
