#!/usr/bin/env python3
"""Collect every patron-facing string and bring both catalogues up to date.

    python scripts/update_po.py           # rewrite ja/en libcli.po (keeps translations)
    python scripts/update_po.py --check   # exit 1 if a string is missing or untranslated

Strings come from `_()` / `N_()` calls in src/libcli (not the server), the help texts of
every command and option (walked through the lazy group), and the Click strings a patron
sees. The English catalogue maps each string to itself; Japanese ones are filled by hand.
"""

from __future__ import annotations

import ast
import inspect
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "libcli"
LOCALE_DIR = SRC / "locale"
sys.path.insert(0, str(Path(__file__).resolve().parent))

#: Click's own strings shown to patrons (Click looks them up in our domain, see i18n.py).
CLICK_STRINGS = [
    "Usage:",
    "Options",
    "Commands",
    "Show this message and exit.",
    "Show the version and exit.",
    "Error: {message}",
    "Try '{command} {option}' for help.",
    "Missing argument",
    "Missing option",
    "Missing parameter: {param_name}",
    "Missing command.",
    "No such command {name!r}.",
    "Invalid value for {param_hint}: {message}",
    "Invalid value: {message}",
    "Option {name!r} does not take a value.",
    "Repeat for confirmation",
    "Error: The two entered values do not match.",
    "Error: invalid input",
    "default: {default}",
    "env var: {var}",
    "{value!r} is not a valid {number_type}.",
    "{value} is not in the range {range}.",
]


def from_source() -> list[str]:
    found: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        if "server" in path.relative_to(SRC).parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("_", "N_")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.append(node.args[0].value)
    return found


def from_commands() -> list[str]:
    import click

    from libcli.cli.main import cli

    found: list[str] = []

    def walk(cmd: click.Command, ctx: click.Context) -> None:
        for text in (cmd.help, cmd.short_help, cmd.epilog):
            if text:
                found.append(inspect.cleandoc(text))
        for param in cmd.params:
            text = getattr(param, "help", None)
            if text:
                found.append(text)
        if isinstance(cmd, click.Group):
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                if sub is not None:
                    walk(
                        sub, click.Context(sub, info_name=name, parent=ctx, **sub.context_settings)
                    )

    walk(cli, click.Context(cli, info_name="libcli"))
    return found


def msgids() -> list[str]:
    return list(dict.fromkeys([*from_source(), *from_commands(), *CLICK_STRINGS]))


def quote(text: str) -> str:
    body = text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\b", "\\b")
    lines = body.split("\n")
    if len(lines) == 1:
        return f'"{lines[0]}"'
    parts = [f'"{line}\\n"' for line in lines[:-1]] + ([f'"{lines[-1]}"'] if lines[-1] else [])
    return '""\n' + "\n".join(parts)


HEADER = (
    "Project-Id-Version: libcli\n"
    "Language: {lang}\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=UTF-8\n"
    "Content-Transfer-Encoding: 8bit\n"
)


def render(lang: str, ids: list[str], translations: dict[str, str]) -> str:
    out = [
        f"# libcli patron messages ({lang}). Source strings: scripts/update_po.py.",
        'msgid ""',
        "msgstr " + quote(HEADER.format(lang=lang)),
        "",
    ]
    for msgid in ids:
        msgstr = msgid if lang == "en" else translations.get(msgid, "")
        out += [f"msgid {quote(msgid)}", f"msgstr {quote(msgstr)}", ""]
    return "\n".join(out)


def main(argv: list[str]) -> int:
    from msgfmt import parse_po

    check = "--check" in argv
    ids = msgids()
    problems = []
    for lang in ("ja", "en"):
        po = LOCALE_DIR / lang / "LC_MESSAGES" / "libcli.po"
        old = parse_po(po.read_text(encoding="utf-8")) if po.exists() else {}
        text = render(lang, ids, old)
        if check:
            missing = [i for i in ids if not old.get(i)]
            problems += [f"{lang}: untranslated: {m!r}" for m in missing]
            if not missing and po.read_text(encoding="utf-8") != text:
                problems.append(f"{lang}: {po.relative_to(ROOT)} is not in canonical order")
        else:
            po.parent.mkdir(parents=True, exist_ok=True)
            po.write_text(text, encoding="utf-8")
            untranslated = sum(1 for i in ids if not (old.get(i) or lang == "en"))
            print(f"wrote {po.relative_to(ROOT)} ({len(ids)} strings, {untranslated} untranslated)")
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
