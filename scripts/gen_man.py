#!/usr/bin/env python3
"""Generate man/ (libcli.1 and one page per subcommand) by walking the lazy Click group.

    python scripts/gen_man.py          # rewrite man/
    python scripts/gen_man.py --check  # exit 1 when a checked-in page is stale

Our own walker (not click-man, which misses lazily loaded subcommands). No dates in the
output, so the pages only change when the commands do.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "man"


def esc(text: str) -> str:
    text = text.replace("\\", "\\e").replace("-", "\\-")
    lines = []
    for line in text.split("\n"):
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


def paragraphs(text: str) -> list[str]:
    out = []
    for para in text.strip().split("\n\n"):
        if para.startswith("\b\n") or para.startswith("\b"):
            body = para.lstrip("\b").strip("\n")
            out.append(".PP\n.nf\n" + esc(body) + "\n.fi")
        else:
            out.append(".PP\n" + esc(" ".join(para.split())))
    return out


def walk(cmd: click.Command, ctx: click.Context, path: list[str]):
    yield path, cmd, ctx
    if isinstance(cmd, click.Group):
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            if sub is None or sub.hidden:
                continue
            sub_ctx = click.Context(sub, info_name=name, parent=ctx, **sub.context_settings)
            yield from walk(sub, sub_ctx, [*path, name])


def page_name(path: list[str]) -> str:
    return "-".join(path)


def options_section(cmd: click.Command, ctx: click.Context) -> list[str]:
    out = []
    for param in cmd.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None or isinstance(param, click.Argument):
            continue
        names, help_text = record
        out += [".TP", f"\\fB{esc(names)}\\fR", esc(" ".join(help_text.split())) or "\\&"]
    return out


def render(path: list[str], cmd: click.Command, ctx: click.Context, subpages: list[str]) -> str:
    import libcli

    name = page_name(path)
    version = libcli.__version__
    short = cmd.get_short_help_str(limit=200).rstrip(".")
    usage = " ".join(cmd.collect_usage_pieces(ctx))
    lines = [
        f'.TH "{name.upper()}" "1" "" "libcli {version}" "libcli manual"',
        ".SH NAME",
        f"{esc(name)} \\- {esc(short)}",
        ".SH SYNOPSIS",
        f"\\fB{esc(' '.join(path))}\\fR {esc(usage)}",
        ".SH DESCRIPTION",
        *paragraphs(cmd.help or ""),
    ]
    opts = options_section(cmd, ctx)
    if opts:
        lines += [".SH OPTIONS", *opts]
    if isinstance(cmd, click.Group):
        lines.append(".SH COMMANDS")
        for sub_name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, sub_name)
            if sub is None or sub.hidden:
                continue
            lines += [
                ".TP",
                f"\\fB{esc(sub_name)}\\fR",
                esc(sub.get_short_help_str(limit=200)),
                f"See \\fB{esc(page_name([*path, sub_name]))}\\fR(1).",
            ]
    if len(path) == 1:
        lines += MAIN_EXTRA
    lines += [".SH SEE ALSO"]
    see = ["libcli"] if len(path) > 1 else []
    see += [p for p in subpages if p != name and (len(path) == 1 or p.startswith(name + "-"))]
    lines.append(", ".join(f"\\fB{esc(p)}\\fR(1)" for p in see) or "\\fBlibcli\\fR(1)")
    return "\n".join(lines) + "\n"


def _exit_codes() -> list[str]:
    from libcli.exit_codes import ExitCode

    texts = {
        ExitCode.OK: "Done (also when a search finds nothing).",
        ExitCode.UNEXPECTED: "Unexpected error; run again with --debug to see the traceback.",
        ExitCode.USAGE: "Wrong options or arguments, or a confirmation was needed without"
        " a terminal (use --yes).",
        ExitCode.UNREACHABLE: "Cannot reach the server: connection refused, timeout,"
        " TLS failure or a server error (5xx).",
        ExitCode.AUTH: "Not logged in, session expired, wrong credentials, or no usable keyring.",
        ExitCode.REFUSED: "Refused by a library rule: a requested title or reservation was"
        " refused; the rest was still done and listed.",
        ExitCode.NOT_FOUND: "No such title, favorite or reservation.",
        ExitCode.INTERRUPTED: "Interrupted (Ctrl-C).",
    }
    out = [".SH EXIT STATUS"]
    for code in ExitCode:
        out += [".TP", f"\\fB{int(code)}\\fR ({code.name})", esc(texts[code])]
    return out


MAIN_EXTRA = [
    *_exit_codes(),
    ".SH ENVIRONMENT",
    ".TP",
    "\\fBLIBCLI_SERVER\\fR",
    "Address of the library server (like \\fB\\-\\-server\\fR).",
    ".TP",
    "\\fBLIBCLI_PROFILE\\fR, \\fBLIBCLI_LANG\\fR",
    "Like \\fB\\-\\-profile\\fR and \\fB\\-\\-lang\\fR.",
    ".TP",
    "\\fBLIBCLI_TOKEN\\fR",
    "A session token to use instead of the stored one (cron, CI). Looked up first.",
    ".TP",
    "\\fBLIBCLI_PICKUP\\fR, \\fBLIBCLI_CONTACT\\fR, \\fBLIBCLI_EMAIL_CONFIRMATION\\fR",
    "Defaults for \\fBreserve\\fR; a flag wins over these, these win over the config file.",
    ".TP",
    "\\fBLIBCLI_CONFIG_DIR\\fR",
    "Directory of the config file, the token file and the completion cache.",
    ".TP",
    "\\fBLIBCLI_KEYRING_TIMEOUT\\fR",
    "Seconds to wait for the system keyring (default 5).",
    ".TP",
    "\\fBLIBCLI_TIMEOUT\\fR",
    "Seconds to wait for the server's answer (default 30; GETs are retried 3 times).",
    ".TP",
    "\\fBNO_COLOR\\fR",
    "When set, nothing is coloured.",
    ".SH FILES",
    ".TP",
    "\\fI~/.config/libcli/config.toml\\fR",
    "Settings, one table per profile (mode 0600). The directory is"
    ' \\fBclick.get_app_dir("libcli")\\fR: on macOS'
    " \\fI~/Library/Application Support/libcli\\fR; \\fBlibcli config path\\fR prints it.",
    ".TP",
    "\\fI~/.config/libcli/tokens.toml\\fR",
    "Session tokens in plain text (mode 0600), only after \\fBlogin \\-\\-insecure\\-storage\\fR.",
    ".TP",
    "\\fI~/.config/libcli/cache/PROFILE.json\\fR",
    "What TAB completes from: favorite, reservation and recent title ids, and the library's"
    " service points and contact methods as the server last listed them (also used to check"
    " \\fB\\-\\-pickup\\fR and \\fB\\-\\-contact\\fR). Never needed: a missing cache is"
    " rebuilt by \\fBlogin\\fR and \\fBstatus\\fR.",
    ".SH CREDENTIALS",
    ".PP",
    "The session token is looked up in this order: \\fBLIBCLI_TOKEN\\fR; the system keyring"
    " (service \\fBlibcli\\fR, one entry \\fICARD@SERVER\\fR per server and card); the token"
    " file, only if you logged in with \\fB\\-\\-insecure\\-storage\\fR. A keyring that is"
    " missing, locked or does not answer is an error, never a silent fall back to a file.",
]


def pages() -> dict[str, str]:
    import os
    import tempfile

    from libcli.cli.main import cli
    from libcli.files import CONFIG_DIR_ENV
    from libcli.i18n import set_language

    set_language("en")  # the pages are written in English whatever the locale
    saved = os.environ.get(CONFIG_DIR_ENV)
    with tempfile.TemporaryDirectory() as empty:
        # No cache: the point codes in the pages are the built-in ones, not this machine's.
        os.environ[CONFIG_DIR_ENV] = empty
        try:
            root_ctx = click.Context(cli, info_name="libcli", **cli.context_settings)
            found = list(walk(cli, root_ctx, ["libcli"]))
            names = [page_name(p) for p, _c, _x in found]
            return {f"{page_name(p)}.1": render(p, c, x, names) for p, c, x in found}
        finally:
            if saved is None:
                os.environ.pop(CONFIG_DIR_ENV, None)
            else:
                os.environ[CONFIG_DIR_ENV] = saved


def main(argv: list[str]) -> int:
    check = "--check" in argv
    wanted = pages()
    stale = []
    if check:
        for name, text in wanted.items():
            path = OUT / name
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        stale += [p.name for p in OUT.glob("*.1") if p.name not in wanted]
    else:
        OUT.mkdir(exist_ok=True)
        for old in OUT.glob("*.1"):
            if old.name not in wanted:
                old.unlink()
        for name, text in wanted.items():
            (OUT / name).write_text(text, encoding="utf-8")
        print(f"wrote {len(wanted)} pages to {OUT.relative_to(ROOT)}/")
    for name in stale:
        print(f"stale: man/{name} (run python scripts/gen_man.py)", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
