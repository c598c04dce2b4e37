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

from libcli.i18n import N_, _

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


def _paragraphs(text: str, width: int, indent: str) -> str:
    """Click's wrap_text(preserve_paragraphs=True), measured in terminal columns: blank lines
    part paragraphs, a paragraph led by a line of \\b is kept as written."""
    from libcli.textwidth import wrap

    out = []
    for para in text.expandtabs().split("\n\n"):
        lines = [line for line in para.split("\n") if line]
        if not lines:
            continue
        extra = " " * (len(lines[0]) - len(lines[0].lstrip()))
        if lines[0].strip() == "\b":
            out.append("\n".join(indent + extra + line.strip() for line in lines[1:]))
        else:
            out.append("\n".join(wrap(" ".join(lines), width, indent + extra, indent + extra)))
    return "\n\n".join(out)


class WideHelpFormatter(click.HelpFormatter):
    """Click's help layout with widths counted in terminal columns, so Japanese help (two
    columns a character) wraps to the terminal instead of overflowing it."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        from libcli.textwidth import display_width, wrap

        if prefix is None:
            prefix = _("Usage:") + " "
        head = f"{prefix:>{self.current_indent}}{prog} "
        if not args:
            self.write(head.rstrip() + "\n")
            return
        room = self.width - self.current_indent
        if room >= display_width(head) + 20:
            lines = wrap(args, room, head, " " * display_width(head))
        else:
            indent = " " * (max(self.current_indent, display_width(prefix)) + 4)
            lines = [head.rstrip(), *wrap(args, room, indent, indent)]
        self.write("\n".join(lines) + "\n")

    def write_text(self, text: str) -> None:
        self.write(_paragraphs(text, self.width, " " * self.current_indent) + "\n")

    def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
        from libcli.textwidth import display_width

        rows = list(rows)
        first_col = min(max(display_width(first) for first, _second in rows), col_max)
        first_col += col_spacing
        margin = " " * self.current_indent
        for first, second in rows:
            self.write(margin + first)
            if not second:
                self.write("\n")
                continue
            if display_width(first) <= first_col - col_spacing:
                self.write(" " * (first_col - display_width(first)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            text = _paragraphs(second, max(self.width - first_col - 2, 10), "")
            lines = text.splitlines() or [""]
            self.write(lines[0] + "\n")
            for line in lines[1:]:
                self.write((" " * (first_col + self.current_indent) + line).rstrip() + "\n")


class LibcliContext(click.Context):
    formatter_class = WideHelpFormatter


def _show_help(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(ctx.get_help(), color=ctx.color)
        ctx.exit()


class LocalizedCommand(click.Command):
    """Help text is written in English and shown in the patron's language."""

    context_class = LibcliContext

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, _json_fields_apart(self, args))

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        # Click's own help option translates its text when it is made, which for the root
        # command is before --lang is read; this one translates when the help is shown.
        names = self.get_help_option_names(ctx)
        if not names or not self.add_help_option:
            return None
        if self._help_option is None:
            self._help_option = LocalizedOption(
                names,
                is_flag=True,
                is_eager=True,
                expose_value=False,
                callback=_show_help,
                help=N_("Show this message and exit."),
            )
        return self._help_option

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

    def resolve_command(self, ctx: click.Context, args: list[str]):
        from click.exceptions import NoSuchCommand

        try:
            return super().resolve_command(ctx, args)
        except NoSuchCommand as exc:
            # Click suggests from the commands it has loaded; the lazy ones count too
            # (`libcli serch` -> "Did you mean 'search'?").
            raise NoSuchCommand(
                exc.command_name, possibilities=self.list_commands(ctx), ctx=ctx
            ) from None

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


class JsonFields(click.ParamType):
    """The FIELDS of `--json FIELDS`: comma-separated keys of the command's view."""

    name = "fields"

    def __init__(self, view: Any) -> None:
        self.view = view

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        from libcli.views import ALL_FIELDS

        if value == ALL_FIELDS:
            return value
        wanted = [f.strip() for f in str(value).split(",") if f.strip()]
        unknown = self.view.unknown(wanted)
        if unknown or not wanted:
            self.fail(
                _("Unknown JSON field {field!r}: choose among {fields}.").format(
                    field=(unknown or [value])[0], fields=",".join(self.view.fields)
                ),
                param,
                ctx,
            )
        return ",".join(wanted)

    def names_fields(self, word: str) -> bool:
        wanted = [f.strip() for f in word.split(",")]
        return all(wanted) and not self.view.unknown(wanted)


def json_output(view: Any) -> Callable[[Callable], Callable]:
    """The output switch of a data command: `--json` prints the keys of `view` (every one,
    or only `--json FIELDS`); the command receives an `Output` as `out`. The word after
    `--json` is taken as FIELDS only when it names fields, so `search --json 夏目` still
    searches for 夏目."""

    def to_output(ctx: click.Context, param: click.Parameter, value: str | None):
        from libcli.views import Output

        return Output(view, value)

    return click.option(
        "--json",
        "out",
        cls=JsonOption,
        type=JsonFields(view),
        is_flag=False,
        flag_value="*",  # views.ALL_FIELDS
        default=None,
        metavar="[FIELDS]",
        callback=to_output,
        help=N_("Print JSON for scripts: every key, or only FIELDS (comma-separated) of {fields}."),
    )


class JsonOption(click.Option):
    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        fields = ",".join(self.type.view.fields)  # type: ignore[attr-defined]
        with _translated(self, "help"):
            self.help = self.help.format(fields=fields)  # type: ignore[union-attr]
            return super().get_help_record(ctx)


def _json_fields_apart(cmd: click.Command, args: list[str]) -> list[str]:
    """`--json WORD` where WORD names no field of the command: `--json` alone, then WORD."""
    fields = next((p.type for p in cmd.params if isinstance(p.type, JsonFields)), None)
    if fields is None:
        return args
    out = list(args)
    for i, arg in enumerate(out[:-1]):
        if arg == "--":
            break
        word = out[i + 1]
        if arg == "--json" and not word.startswith("-") and not fields.names_fields(word):
            out[i] = "--json=*"
    return out


def yes_option(f: Callable) -> Callable:
    return option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")(f)


def password_stdin_option(*, help: str) -> Callable[[Callable], Callable]:
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


# -- a family's cards (--all-profiles) ---------------------------------------------


def all_profiles_option(f):
    return option(
        "--all-profiles",
        is_flag=True,
        help="Every profile of the config file that has a card (a family's cards), each with"
        " its own login.",
    )(f)


def each_profile(app, all_profiles: bool, work) -> int:
    """Run `work(app)` for this profile, or for each of the family's; with --all-profiles a
    profile that fails is reported in one line and the others go on. Returns the exit code
    of the first failure (0 when none)."""
    if not all_profiles:
        work(app)
        return 0
    from libcli.errors import LibcliError
    from libcli.output import warn

    failed = 0
    for member in app.family():
        try:
            work(member)
        except LibcliError as exc:
            warn(
                _("Profile {profile}: {message}").format(
                    profile=member.profile, message=exc.message()
                )
            )
            failed = failed or int(exc.exit_code)
    return failed


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


def _library(ctx: click.Context | None):
    """The library's vocabulary: the run's `App` when there is one, else the cache (TAB)."""
    app = ctx.find_root().obj if ctx is not None else None
    if app is not None:
        return app.library
    from libcli.vocab import Library

    return Library.cached(_profile(ctx) if ctx is not None else None)


class LibraryTermType(click.ParamType):
    """A term the library's server lists (a service point, a contact method): its code or a
    name. Checked against what the server said last; a term it did not know then is asked
    about once more before it is refused, so a new point needs no new libcli."""

    def codes(self, library) -> tuple[str, ...]:
        raise NotImplementedError

    def lookup(self, library, value: str) -> str | None:
        raise NotImplementedError

    def describe(self, library, code: str) -> str:
        raise NotImplementedError

    def refusal(self) -> str:
        raise NotImplementedError

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "[" + "|".join(self.codes(_library(ctx))) + "]"

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        library = _library(ctx)
        code = self.lookup(library, str(value))
        app = ctx.find_root().obj if ctx is not None else None
        if code is None and app is not None and library.source != "server":
            library = app.refresh_library()
            code = self.lookup(library, str(value))
        if code is None:
            choices = ", ".join(self.codes(library))
            self.fail(_(self.refusal()).format(value=value, choices=choices), param, ctx)
        return code

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str):
        from click.shell_completion import CompletionItem

        library = _library(ctx)
        return [
            CompletionItem(code, help=self.describe(library, code))
            for code in self.codes(library)
            if code.startswith(incomplete)
        ]


class PointType(LibraryTermType):
    """A service point: its code or its name (main, 八戸市立図書館, Nango Library, ...)."""

    name = "point"

    def codes(self, library) -> tuple[str, ...]:
        return tuple(library.points)

    def lookup(self, library, value: str) -> str | None:
        return library.point_code(value)

    def describe(self, library, code: str) -> str:
        return library.point_name(code)

    def refusal(self) -> str:
        return N_("{value!r} is not a service point of the library: use one of {choices}.")


class ContactType(LibraryTermType):
    """A contact method the library offers (phone, email, ring, voicemail, none)."""

    name = "contact"

    def codes(self, library) -> tuple[str, ...]:
        return library.contact_methods

    def lookup(self, library, value: str) -> str | None:
        return library.contact_code(value)

    def describe(self, library, code: str) -> str:
        from libcli.vocab import CONTACT_METHODS, label

        return label(CONTACT_METHODS, code)

    def refusal(self) -> str:
        return N_("{value!r} is not a contact method the library offers: use one of {choices}.")


POINT = PointType()
CONTACT = ContactType()


class ReservationNumber(click.ParamType):
    """A reservation number as `libcli status` shows it: digits, checked before any request."""

    name = "reservation"

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        import unicodedata

        text = unicodedata.normalize("NFKC", str(value)).strip()
        if not text.isascii() or not text.isdigit() or int(text) < 1:
            self.fail(
                _(
                    "{value!r} is not a reservation number: see the numbers in `libcli status`."
                ).format(value=value),
                param,
                ctx,
            )
        return int(text)


RESERVATION = ReservationNumber()


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
