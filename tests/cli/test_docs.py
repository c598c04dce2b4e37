"""Help for every command in the patron's words and language, catalogues current (Click's own
strings included), generated files current."""

from __future__ import annotations

import importlib.util
import inspect
import re
from pathlib import Path

import click
import pytest

from libcli.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]


def load_script(name: str):
    """A script of scripts/ as a module (registered, so its dataclasses resolve)."""
    import sys

    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def all_commands():
    def walk(cmd, ctx, path):
        yield " ".join(path), cmd, ctx
        if isinstance(cmd, click.Group):
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                sub_ctx = click.Context(sub, info_name=name, parent=ctx, **sub.context_settings)
                yield from walk(sub, sub_ctx, [*path, name])

    root = click.Context(cli, info_name="libcli", **cli.context_settings)
    return list(walk(cli, root, ["libcli"]))


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

    texts = [inspect.cleandoc(cmd.help)]
    texts += [p.help for p in cmd.get_params(ctx) if isinstance(p, click.Option)]
    i18n.set_language("ja")
    try:
        assert [t for t in texts if i18n._(t) == t] == []
    finally:
        i18n.reset()


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize(("path", "cmd", "ctx"), COMMANDS, ids=[c[0] for c in COMMANDS])
def test_help_speaks_to_the_patron_without_rule_numbers(path, cmd, ctx, lang, run):
    out = run("--lang", lang, *path.split()[1:], "--help").stdout
    assert out.strip()
    assert re.findall(r"\bR\d+\b", out) == []


def test_catalogues_are_current():
    """Extracted with Babel from the sources and the installed Click, every message
    translated, placeholders kept, the .mo compiled from the .po."""
    assert load_script("i18n").main(["--check"]) == 0


def click_messages() -> list[str | tuple[str, str]]:
    from babel.messages.extract import extract_from_dir

    found = extract_from_dir(Path(click.__file__).parent)
    return list(dict.fromkeys(message for _f, _l, message, _c, _x in found))


def test_every_click_string_is_translated():
    """Checked against Click's own translatable strings, extracted from the installed Click:
    a new Click release with a new message fails here until it is translated."""
    import gettext

    from libcli import i18n

    path = Path(i18n.LOCALE_DIR) / "ja" / "LC_MESSAGES" / f"{i18n.DOMAIN}.mo"
    with open(path, "rb") as fh:
        ja = gettext.GNUTranslations(fh)
    messages = click_messages()
    assert len(messages) > 50
    untranslated = [
        m
        for m in messages
        if (ja.ngettext(*m, 2) == m[1] if isinstance(m, tuple) else ja.gettext(m) == m)
    ]
    assert untranslated == []


def test_clicks_own_messages_reach_the_patron_in_japanese(run):
    result = run("--lang", "ja", "reserve", "--pikup", "main")
    assert result.exit_code == 2
    assert "'--pikup' というオプションはありません。 '--pickup' のことですか?" in result.stderr
    top = run("--lang", "ja", "--help").stdout
    assert "-h, --help      このヘルプを表示して終了する。" in top
    assert "Show this message" not in top


@pytest.mark.parametrize("columns", [50, 60, 80])
@pytest.mark.parametrize(("path", "cmd", "ctx"), COMMANDS, ids=[c[0] for c in COMMANDS])
def test_japanese_help_fits_the_terminal_by_display_width(path, cmd, ctx, columns):
    from click.testing import CliRunner

    from libcli import i18n
    from libcli.textwidth import display_width

    i18n.reset()
    args = ["--lang", "ja", *path.split()[1:], "--help"]
    # CliRunner forces Click's width to 80; a context setting is what a terminal would give.
    out = CliRunner().invoke(cli, args, terminal_width=columns, catch_exceptions=False).stdout
    too_wide = [line for line in out.splitlines() if display_width(line) > columns]
    # Only what cannot be broken may stay wider: an option's own names and metavar.
    assert [line for line in too_wide if not line.lstrip().startswith("-")] == []


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
