"""The lazy root group: `libcli --help` and TAB list the commands from the static table in
cli/main.py without importing a command module, and show exactly what the commands would."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from libcli import i18n
from libcli.cli.main import SUBCOMMANDS, cli

COMMAND_MODULES = sorted({target.split(":")[0] for _n, target, _s in SUBCOMMANDS})


def real(name: str) -> click.Command:
    cmd = cli.get_command(click.Context(cli, info_name="libcli"), name)
    assert cmd is not None, name
    return cmd


@pytest.mark.parametrize(("name", "target", "summary"), SUBCOMMANDS, ids=lambda v: str(v)[:20])
def test_table_summary_is_the_first_paragraph_of_the_command_help(name, target, summary):
    cmd = real(name)
    assert cmd.name == name
    assert inspect.cleandoc(cmd.help).split("\n\n")[0] == summary
    # What the listing relies on: no explicit short help, nothing hidden or deprecated.
    assert not cmd.short_help and not cmd.hidden and not cmd.deprecated


def test_table_lists_every_command_once():
    names = [n for n, _t, _s in SUBCOMMANDS]
    assert len(names) == len(set(names))
    assert cli.list_commands(click.Context(cli)) == names


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize(("name", "target", "summary"), SUBCOMMANDS, ids=lambda v: str(v)[:20])
def test_listed_short_help_equals_the_command_short_help(lang, name, target, summary):
    i18n.set_language(lang)
    ctx = click.Context(cli, info_name="libcli")
    listed = cli.listed_command(ctx, name)
    for limit in (20, 30, 45, 60, 75, 86, 94, 200):
        assert listed.get_short_help_str(limit) == real(name).get_short_help_str(limit), limit


def _output(args: list[str], env: dict[str, str], lazy: bool, monkeypatch) -> str:
    if not lazy:  # what Click itself would print: every command imported and asked
        monkeypatch.setattr(cli, "listed_command", cli.get_command)
    i18n.reset()
    result = CliRunner().invoke(cli, args, env=env, prog_name="libcli", catch_exceptions=False)
    monkeypatch.undo()
    return result.output


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("columns", ["40", "80", "120"])
def test_help_listing_is_what_the_imported_commands_give(lang, columns, monkeypatch):
    env = {"LIBCLI_LANG": lang, "COLUMNS": columns}
    lazy = _output(["--help"], env, True, monkeypatch)
    assert lazy == _output(["--help"], env, False, monkeypatch)
    assert "reserve" in lazy


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
@pytest.mark.parametrize("words", ["libcli ", "libcli re", "libcli --"])
def test_completing_commands_is_what_the_imported_commands_give(lang, shell, words, monkeypatch):
    parts = words.split(" ")
    env = {
        "LIBCLI_LANG": lang,
        "_LIBCLI_COMPLETE": f"{shell}_complete",
        "COMP_WORDS": words,
        # fish passes the word being completed, bash and zsh its index
        "COMP_CWORD": parts[-1] if shell == "fish" else str(len(parts) - 1),
    }
    lazy = _output([], env, True, monkeypatch)
    assert lazy == _output([], env, False, monkeypatch)
    assert "Usage" not in lazy
    assert ("reserve" in lazy) == (words != "libcli --")


PROBE = """
import sys
sys.argv = ["libcli", *sys.argv[1:]]
from libcli.__main__ import main
try:
    main()
except SystemExit:
    pass
sys.stderr.write("\\nLOADED=" + ",".join(sorted(m for m in sys.modules if m.startswith("libcli"))))
"""


@pytest.mark.parametrize(
    ("args", "completing", "wanted"),
    [
        (["--help"], None, []),
        (["--lang", "ja", "--help"], None, []),
        ([], "libcli ", []),
        (["status", "--help"], None, ["libcli.cli.reservations"]),
        ([], "libcli cancel ", ["libcli.cli.reservations"]),
        ([], "libcli config ", ["libcli.cli.configure"]),
    ],
)
def test_only_the_command_run_is_imported(args, completing, wanted, isolated):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIBCLI_", "_LIBCLI"))}
    env["LIBCLI_CONFIG_DIR"] = str(isolated)
    if completing:
        env.update(
            _LIBCLI_COMPLETE="bash_complete",
            COMP_WORDS=completing,
            COMP_CWORD=str(len(completing.split(" ")) - 1),
        )
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env, timeout=60
    )
    loaded = done.stderr.rsplit("LOADED=", 1)[1].split(",")
    assert done.stdout
    assert [m for m in COMMAND_MODULES if m in loaded] == wanted
