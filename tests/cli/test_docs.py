"""Help for every command, catalogues complete in both languages, generated files current."""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path

import click
import pytest

from libcli.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return module


def all_commands():
    def walk(cmd, ctx, path):
        yield " ".join(path), cmd, ctx
        if isinstance(cmd, click.Group):
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                yield from walk(sub, click.Context(sub, info_name=name, parent=ctx), [*path, name])

    return list(walk(cli, click.Context(cli, info_name="libcli"), ["libcli"]))


COMMANDS = all_commands()


def test_every_contract_command_exists():
    names = {path for path, _c, _x in COMMANDS}
    for wanted in (
        "login",
        "logout",
        "whoami",
        "search",
        "show",
        "fav add",
        "fav list",
        "fav remove",
        "reserve",
        "status",
        "cancel",
        "passwd",
        "email set",
        "config list",
        "config get",
        "config set",
        "config path",
    ):
        assert f"libcli {wanted}" in names


@pytest.mark.parametrize(("path", "cmd", "ctx"), COMMANDS, ids=[c[0] for c in COMMANDS])
def test_every_command_and_option_has_help(path, cmd, ctx):
    assert cmd.help and cmd.help.strip(), f"{path} has no help text"
    for param in cmd.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"{path} {param.opts} has no help text"


@pytest.mark.parametrize(("path", "cmd", "ctx"), COMMANDS, ids=[c[0] for c in COMMANDS])
def test_every_help_is_translated_to_japanese(path, cmd, ctx):
    from libcli import i18n

    i18n.set_language("ja")
    try:
        assert i18n._(inspect.cleandoc(cmd.help)) != inspect.cleandoc(cmd.help)
    finally:
        i18n.reset()


def test_every_patron_message_exists_in_both_languages():
    assert load_script("update_po").main(["--check"]) == 0


def test_compiled_catalogues_are_current_with_the_po_files():
    assert load_script("msgfmt").main(["--check"]) == 0


def test_msgfmt_round_trips_through_gettext(tmp_path):
    import gettext

    msgfmt = load_script("msgfmt")
    mo = tmp_path / "t.mo"
    mo.write_bytes(
        msgfmt.make_mo({"": "Content-Type: text/plain; charset=UTF-8\n", "on loan": "貸出中"})
    )
    with open(mo, "rb") as fh:
        assert gettext.GNUTranslations(fh).gettext("on loan") == "貸出中"


def test_completion_scripts_are_current():
    assert load_script("gen_completions").main(["--check"]) == 0


def test_man_pages_are_current():
    assert load_script("gen_man").main(["--check"]) == 0


def test_man_pages_cover_every_command_and_document_exit_codes_and_files():
    pages = {p.name for p in (ROOT / "man").glob("*.1")}
    for path, _c, _x in COMMANDS:
        assert path.replace(" ", "-") + ".1" in pages
    main_page = (ROOT / "man" / "libcli.1").read_text(encoding="utf-8")
    assert ".SH EXIT STATUS" in main_page and ".SH FILES" in main_page
    from libcli.exit_codes import ExitCode

    for code in ExitCode:
        assert f"\\fB{int(code)}\\fR ({code.name})" in main_page
