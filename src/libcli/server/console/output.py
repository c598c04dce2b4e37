"""What the staff console prints: tables, JSON and one-line errors, in the staff's language.

- a listing: a table with headers on a terminal, tab-separated rows when piped (the same
  switch as `libcli`, `libcli.output.table`), or every key as JSON with `--json`;
- an error: one line on stderr in the staff's language, never a traceback, never an
  internal code in front, and an exit code per kind (`libcli.exit_codes`, as `libcli`).

The language is chosen once per run: the root `--lang`, then `LIBCLI_LANG`, then the
locale (`libcli.server.i18n.console_lang`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import click

from libcli.exit_codes import ExitCode
from libcli.server.i18n import N_, _, console_lang


def lang() -> str:
    """The language of this run: the root `--lang`, `LIBCLI_LANG`, then the locale."""
    ctx = click.get_current_context(silent=True)
    chosen = ctx.find_root().params.get("lang") if ctx is not None else None
    return console_lang(chosen)


def t(message: str) -> str:
    """`message` (an English msgid of the libcli_server catalogue) in the run's language."""
    return _(message, lang())


def say(message: str) -> None:
    """One line for the staff (already translated), made safe for the terminal."""
    from libcli.output import clean_lines

    click.echo(clean_lines(message))


class Column(NamedTuple):
    """One column of a listing: the key of the record and its header (translated)."""

    key: str
    header: str
    long: bool = False  # may be shortened with … to fit the terminal
    #: how a code reads on a terminal, (value, lang) -> words; JSON keeps the code
    label: Callable[[str, str], str] | None = None


def json_option(fn: Callable) -> Callable:
    """`--json` on a listing: every key of every record, for scripts."""
    return click.option("--json", "as_json", is_flag=True, help=N_("Print JSON for scripts."))(fn)


def listing(
    records: Sequence[dict[str, Any]],
    columns: Sequence[Column],
    *,
    as_json: bool,
    empty: str | None = None,
) -> None:
    """Records as JSON (`--json`), a table on a terminal, or TSV when piped."""
    from libcli.output import LongText, emit_json, table

    if as_json:
        emit_json(list(records))
        return
    headers = [LongText(t(c.header)) if c.long else t(c.header) for c in columns]
    rows = [[_cell(record.get(c.key), c) for c in columns] for record in records]
    table(headers, rows, empty=t(empty) if empty else None)


def record(data: dict[str, Any], columns: Sequence[Column], *, as_json: bool) -> None:
    """One record: JSON (`--json`), else one `header: value` line per column."""
    from libcli.output import emit_json
    from libcli.textwidth import display_width

    if as_json:
        emit_json(data)
        return
    headers = [t(c.header) for c in columns]
    width = max(display_width(h) for h in headers)
    for header, column in zip(headers, columns, strict=True):
        pad = " " * (width - display_width(header))
        say(f"{header}{pad}  {_cell(data.get(column.key), column)}")


def _cell(value: Any, column: Column) -> str:
    if value is None:
        return "-"
    if column.label is not None:
        return column.label(str(value), lang())
    if isinstance(value, bool):
        return t(N_("yes")) if value else t(N_("no"))
    return str(value)


# -- errors ---------------------------------------------------------------------------------


class ConsoleProblem(Exception):
    """A one-line error of the console itself (not a library refusal), already worded."""

    def __init__(self, message: str, exit_code: int = ExitCode.USAGE):
        super().__init__(message)
        self.exit_code = int(exit_code)


#: The exit code of a library refusal, by its HTTP status (as `libcli` maps the same codes).
_EXIT_BY_STATUS: dict[int, ExitCode] = {
    400: ExitCode.USAGE,
    401: ExitCode.AUTH,
    403: ExitCode.AUTH,
    404: ExitCode.NOT_FOUND,
    409: ExitCode.REFUSED,
    422: ExitCode.REFUSED,
    429: ExitCode.REFUSED,
    503: ExitCode.UNREACHABLE,
}


#: The exit code of a database that cannot be used, by `NotReady.kind`.
_EXIT_BY_READINESS: dict[str, ExitCode] = {
    "missing": ExitCode.NOT_FOUND,
    "unreachable": ExitCode.UNREACHABLE,
    "outdated": ExitCode.REFUSED,
}


def exit_code_of(error: Exception) -> int:
    from libcli.server.db.migrate import NotReady
    from libcli.server.errors import LibraryError
    from libcli.server.settings import SettingsError

    if isinstance(error, ConsoleProblem):
        return error.exit_code
    if isinstance(error, SettingsError):
        return ExitCode.USAGE
    if isinstance(error, NotReady):
        return _EXIT_BY_READINESS[error.kind]
    if isinstance(error, LibraryError):
        if error.code == "invalid_request":
            return ExitCode.USAGE
        return _EXIT_BY_STATUS.get(error.status, ExitCode.REFUSED)
    return ExitCode.UNEXPECTED


def error_line(error: Exception, language: str) -> str:
    """The one line the staff read for `error`, in `language`."""
    from libcli.output import clean
    from libcli.server.errors import LibraryError, message
    from libcli.server.i18n import Worded

    if isinstance(error, ConsoleProblem):
        text = str(error)
    elif isinstance(error, Worded):
        text = error.said(language)
    elif isinstance(error, LibraryError):
        text = message(error.code, language)
        detail = error.detail_in(language)
        if detail:
            text = _("{refusal}: {detail}", language).format(
                refusal=text.rstrip(".。"), detail=detail
            )
    else:
        kind = type(error).__name__
        text = _("Unexpected error ({kind}): {detail}", language).format(
            kind=kind, detail=" ".join(str(error).split())[:200]
        )
    return clean(" ".join(text.split()))


def fail(error: Exception) -> None:
    """Print `error` as one line on stderr and end the run with its exit code."""
    click.echo(error_line(error, lang()), err=True)
    sys.stdout.flush()
    raise click.exceptions.Exit(exit_code_of(error))


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run `fn`; any error that is not Click's own becomes one line and an exit code."""
    import functools

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("", err=True)
            raise click.exceptions.Exit(ExitCode.INTERRUPTED) from None
        except BrokenPipeError:  # the reader went away (`... | head -3`), as `libcli`
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise click.exceptions.Exit(ExitCode.OK) from None
        except Exception as exc:  # the staff never see a traceback
            fail(exc)

    return run
