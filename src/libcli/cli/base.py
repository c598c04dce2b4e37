"""Building blocks shared by the commands: translated help, the lazy group, common options,
prompts that never hang without a terminal, and completion from the local cache."""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from libcli.i18n import _

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem


@contextmanager
def _translated(obj: Any, *attrs: str):
    saved = {a: getattr(obj, a) for a in attrs}
    try:
        for attr, value in saved.items():
            if isinstance(value, str) and value:
                # Docstrings keep their indentation; the catalogue holds the cleaned text.
                setattr(obj, attr, _(inspect.cleandoc(value)))
        yield
    finally:
        for attr, value in saved.items():
            setattr(obj, attr, value)


class LocalizedCommand(click.Command):
    """Help text is written in English and shown in the patron's language."""

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with _translated(self, "help"):
            super().format_help_text(ctx, formatter)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with _translated(self, "epilog"):
            super().format_epilog(ctx, formatter)

    def get_short_help_str(self, limit: int = 45) -> str:
        with _translated(self, "short_help", "help"):
            return super().get_short_help_str(limit)


class LocalizedOption(click.Option):
    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        with _translated(self, "help"):
            return super().get_help_record(ctx)


class LocalizedGroup(LocalizedCommand, click.Group):
    command_class = LocalizedCommand
    group_class = type  # subgroups are LocalizedGroups too


class LazyGroup(LocalizedGroup):
    """Subcommands are imported only when one is run or its own help is shown.

    `lazy_subcommands` holds (name, "module:attribute", first paragraph of its help): the
    listing of `--help` and TAB completion of command names use that summary alone, so they
    import no command module. tests/cli/test_lazy.py checks the table against the commands.
    """

    def __init__(
        self,
        *args: Any,
        lazy_subcommands: Iterable[tuple[str, str, str]] = (),
        **kw: Any,
    ) -> None:
        super().__init__(*args, **kw)
        self.lazy_subcommands = {
            name: (target, summary) for name, target, summary in lazy_subcommands
        }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.lazy_subcommands) + sorted(
            n for n in super().list_commands(ctx) if n not in self.lazy_subcommands
        )

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = self.lazy_subcommands.get(cmd_name)
        if entry is None:
            return super().get_command(ctx, cmd_name)
        module_name, attr = entry[0].split(":")
        return getattr(importlib.import_module(module_name), attr)

    def listed_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """What a listing needs of a command (name, short help), without importing it."""
        entry = self.lazy_subcommands.get(cmd_name)
        if entry is None:
            return self.get_command(ctx, cmd_name)
        return LocalizedCommand(cmd_name, help=entry[1])

    def _listed(self, ctx: click.Context, incomplete: str = "") -> list[tuple[str, click.Command]]:
        found = []
        for name in self.list_commands(ctx):
            if name.startswith(incomplete):
                cmd = self.listed_command(ctx, name)
                if cmd is not None and not cmd.hidden:
                    found.append((name, cmd))
        return found

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Click's Group.format_commands, with listed_command instead of get_command.
        commands = self._listed(ctx)
        if commands:
            limit = formatter.width - 6 - max(len(name) for name, _cmd in commands)
            rows = [(name, cmd.get_short_help_str(limit)) for name, cmd in commands]
            with formatter.section(_("Commands")):
                formatter.write_dl(rows)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        # Click's Group.shell_complete, with listed_command instead of get_command.
        from click.shell_completion import CompletionItem

        results = [
            CompletionItem(name, help=cmd.get_short_help_str())
            for name, cmd in self._listed(ctx, incomplete)
        ]
        results.extend(click.Command.shell_complete(self, ctx, incomplete))
        return results


command = functools.partial(click.command, cls=LocalizedCommand)
group = functools.partial(click.group, cls=LocalizedGroup)
option = functools.partial(click.option, cls=LocalizedOption)


def json_option(f: Callable) -> Callable:
    return option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(f)


def yes_option(f: Callable) -> Callable:
    return option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")(f)


def password_stdin_option(help: str) -> Callable[[Callable], Callable]:
    return option("--password-stdin", is_flag=True, help=help)


def pass_app(f: Callable) -> Callable:
    """Hand the command the `App` built by the root command."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        return f(ctx.find_root().obj, *args, **kwargs)

    return wrapper


def exit_with(code: int) -> None:
    """End the command with `code` after its output was printed."""
    if code:
        click.get_current_context().exit(int(code))


# -- input without hanging --------------------------------------------------------------


def read_stdin_lines(count: int, what: str) -> list[str]:
    """`count` lines from stdin (passwords piped in); a usage error if they are missing."""
    import sys

    from libcli.errors import UsageProblem

    stream = sys.stdin
    lines = []
    for _i in range(count):
        line = stream.readline()
        if not line:
            raise UsageProblem("empty_input", what=what)
        lines.append(line.rstrip("\r\n"))
    if any(not line for line in lines):
        raise UsageProblem("empty_input", what=what)
    return lines


def ask_password(prompt: str, *, confirm: bool = False) -> str:
    """A hidden prompt on a terminal; a usage error (not a hang) without one."""
    from libcli.errors import UsageProblem
    from libcli.output import stdin_is_tty

    if not stdin_is_tty():
        raise UsageProblem("password_needed")
    return click.prompt(
        prompt,
        hide_input=True,
        confirmation_prompt=_("Repeat for confirmation") if confirm else False,
        err=True,
    )


def confirm(question: str, *, yes: bool) -> bool:
    """--yes skips; no terminal and no --yes is a usage error (cron must not hang)."""
    from libcli.errors import UsageProblem
    from libcli.output import stdin_is_tty

    if yes:
        return True
    if not stdin_is_tty():
        raise UsageProblem("confirmation_needed")
    return click.confirm(question, default=False, err=True)


# -- parameter types that accept the library's names ---------------------------------------


class PointType(click.ParamType):
    """A service point: main, nango, center, or its name (八戸市立図書館, 南郷図書館, ...)."""

    name = "point"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "[main|nango|center]"

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        from libcli.vocab import normalize_point

        try:
            return normalize_point(str(value))
        except ValueError:
            self.fail(
                _("{value!r} is not a service point: use main, nango or center.").format(
                    value=value
                ),
                param,
                ctx,
            )

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str):
        from click.shell_completion import CompletionItem

        from libcli import cache
        from libcli.vocab import POINTS, point_name

        cached = cache.entries(_profile(ctx), "points")
        codes = [(str(p["id"]), p.get("name") or "") for p in cached] or [
            (code, point_name(code)) for code in POINTS
        ]
        return [CompletionItem(c, help=h) for c, h in codes if c.startswith(incomplete)]


class ContactType(click.ParamType):
    """A contact method (R13): phone, email, ring, voicemail, none."""

    name = "contact"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "[phone|email|ring|voicemail|none]"

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        from libcli.vocab import normalize_contact

        try:
            return normalize_contact(str(value))
        except ValueError:
            self.fail(
                _(
                    "{value!r} is not a contact method: use phone, email, ring, voicemail or none."
                ).format(value=value),
                param,
                ctx,
            )

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str):
        from click.shell_completion import CompletionItem

        from libcli import cache
        from libcli.vocab import CONTACT_METHODS

        cached = [str(c["id"]) for c in cache.entries(_profile(ctx), "contact_methods")]
        methods = cached or list(CONTACT_METHODS)
        return [
            CompletionItem(m, help=_(CONTACT_METHODS.get(m, m)))
            for m in methods
            if m.startswith(incomplete)
        ]


POINT = PointType()
CONTACT = ContactType()


# -- completion from the local cache (no network, no requests/keyring/tabulate) ------------


def _profile(ctx: click.Context) -> str | None:
    import os

    root = ctx.find_root()
    return root.params.get("profile") or os.environ.get("LIBCLI_PROFILE")


def _complete_from(*sections: str) -> Callable:
    def complete(ctx: click.Context, param: click.Parameter, incomplete: str):
        from click.shell_completion import CompletionItem

        from libcli import cache

        seen: set[str] = set()
        already = (
            set(ctx.params.get(param.name) or ()) if param.multiple or param.nargs != 1 else set()
        )
        items = []
        for section in sections:
            for entry in cache.entries(_profile(ctx), section):
                value = str(entry["id"])
                if value in seen or value in already or not value.startswith(incomplete):
                    continue
                seen.add(value)
                items.append(CompletionItem(value, help=str(entry.get("title") or "")[:60]))
        return items

    return complete


complete_favorites = _complete_from("favorites")
complete_titles = _complete_from("favorites", "titles")
complete_reservations = _complete_from("reservations")


def complete_profiles(ctx: click.Context, param: click.Parameter, incomplete: str):
    from click.shell_completion import CompletionItem

    from libcli.config import profile_names

    return [CompletionItem(p) for p in profile_names() if p.startswith(incomplete)]
