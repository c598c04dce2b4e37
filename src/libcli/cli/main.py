"""The root command: global options, the lazy subcommand table, and the one place where
errors become one line on stderr and an exit code."""

from __future__ import annotations

import errno
import os
import sys
from typing import Any

import click

from libcli.cli.base import LazyGroup, LocalizedOption, complete_profiles, option
from libcli.i18n import N_, _

#: name, "module:attribute", and the first paragraph of the command's help. A module is
#: imported only when its command runs or shows its own help; `libcli --help` and TAB list
#: the names with these summaries (tests/cli/test_lazy.py keeps them equal to the commands).
SUBCOMMANDS = (
    (
        "login",
        "libcli.cli.auth:login",
        N_("Log in with your library card number and password."),
    ),
    (
        "logout",
        "libcli.cli.auth:logout",
        N_("Log out: end the session on the server and forget the token here."),
    ),
    (
        "whoami",
        "libcli.cli.auth:whoami",
        N_("Show who is logged in, at which server, and where the token is stored (masked)."),
    ),
    (
        "token",
        "libcli.cli.auth:token",
        N_("Print the session token of this profile, for LIBCLI_TOKEN in scripts and cron."),
    ),
    (
        "search",
        "libcli.cli.catalogue:search",
        N_("Search the catalogue by title, author, publisher or ISBN."),
    ),
    (
        "show",
        "libcli.cli.catalogue:show",
        N_("Show one title: its copies (point, 禁帯区分, 状態, due date) and the online verdict."),
    ),
    (
        "fav",
        "libcli.cli.favorites:fav",
        N_("Your favorites (お気に入り): collect titles here, then `libcli reserve --favorites`."),
    ),
    (
        "reserve",
        "libcli.cli.reservations:reserve",
        N_("Reserve titles for pickup at a service point."),
    ),
    (
        "status",
        "libcli.cli.reservations:status",
        N_("Show your loans (with due dates) and reservations (利用状況参照)."),
    ),
    ("cancel", "libcli.cli.reservations:cancel", N_("Cancel reservations.")),
    (
        "suspend",
        "libcli.cli.suspension:suspend",
        N_("Suspend a waiting reservation (休止) until a date: it keeps its place in the queue."),
    ),
    (
        "resume",
        "libcli.cli.suspension:resume",
        N_("Resume a suspended reservation: it is served again from today, in its place."),
    ),
    (
        "renew",
        "libcli.cli.loans:renew",
        N_("Renew loans (延長), named by the barcode of the copy in hand."),
    ),
    (
        "calendar",
        "libcli.cli.calendar:calendar",
        N_("Your due dates and pickup deadlines as a calendar (.ics)."),
    ),
    (
        "news",
        "libcli.cli.news:news",
        N_("Tell what changed since you last asked: holds ready or expired, loans due or overdue."),
    ),
    (
        "passwd",
        "libcli.cli.account:passwd",
        N_("Change your password, or reset a forgotten one."),
    ),
    (
        "email",
        "libcli.cli.account:email",
        N_("Your email address for the library's mails."),
    ),
    (
        "config",
        "libcli.cli.configure:config",
        N_("Show and change your settings (server, pickup, contact, lang, ...)."),
    ),
)


def configured_lang(profile: str | None) -> object:
    """The config file's `lang` for `profile`; None when the file cannot be read (the command
    that reads it reports that)."""
    from libcli.config import file_value

    try:
        return file_value("lang", profile)
    except Exception:  # a broken config file is reported by the command that reads it
        return None


def _debug_requested(args: list[str]) -> bool:
    return "--debug" in args or bool(os.environ.get("LIBCLI_DEBUG"))


class PipeClosed(Exception):
    """The reader of stdout went away. Not an OSError, so that Click's main, which turns
    EPIPE into a silent exit 1, lets it through to ours (exit 0, like `seq 1e6 | head`)."""


class RootGroup(LazyGroup):
    """Runs the program and turns every failure into one line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            rv = super().invoke(ctx)
            sys.stdout.flush()
        except BrokenPipeError as exc:
            raise PipeClosed() from exc
        return rv

    def main(  # type: ignore[override]
        self,
        args: list[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        args = list(sys.argv[1:] if args is None else args)
        try:
            # Early, so Click's own texts ("Usage:") are in the patron's language too;
            # --lang (eager) and --profile refine it later.
            from libcli.i18n import resolve_lang, set_language

            set_language(resolve_lang(configured=configured_lang(None)))
            rv = super().main(
                args, prog_name or "libcli", complete_var, standalone_mode=False, **extra
            )
            # Written now, inside the handlers below: a closed pipe or a full disk found
            # at exit would be a traceback or exit 120 instead of the shell's convention.
            sys.stdout.flush()
        except click.exceptions.Exit as exc:
            code = _flushed(exc.exit_code)
        except click.ClickException as exc:
            from libcli.exit_codes import ExitCode

            exc.show()
            code = ExitCode.USAGE if isinstance(exc, click.UsageError) else exc.exit_code
        except (click.Abort, KeyboardInterrupt, EOFError):
            from libcli.exit_codes import ExitCode

            click.echo(file=sys.stderr)
            click.echo(_("Interrupted."), err=True)
            code = ExitCode.INTERRUPTED
        except (BrokenPipeError, PipeClosed):
            from libcli.exit_codes import ExitCode

            _quiet_broken_pipe()
            code = ExitCode.OK
        except OSError as exc:
            code = (
                report_output_error(exc)
                if exc.errno in OUTPUT_ERRNOS
                else report(exc, debug=_debug_requested(args))
            )
        except Exception as exc:
            code = report(exc, debug=_debug_requested(args))
        else:
            # --help and --version return their code here: no ExitCode import for them.
            if not isinstance(rv, int):
                from libcli.exit_codes import ExitCode

                rv = ExitCode.OK
            code = rv
        if not standalone_mode:
            return int(code)
        sys.exit(int(code))


def report(exc: BaseException, *, debug: bool) -> int:
    """Print one line for the patron (the traceback too with --debug); return the exit code."""
    from libcli.errors import MESSAGES, LibcliError
    from libcli.exit_codes import ExitCode
    from libcli.output import clean_lines

    if debug:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    if isinstance(exc, LibcliError):
        message, code = exc.message(), exc.exit_code
    else:
        detail = type(exc).__name__
        message, code = _(MESSAGES["unexpected"]).format(detail=detail), ExitCode.UNEXPECTED
    line = " ".join(clean_lines(message).split())
    click.echo(_("Error: {message}").format(message=line), err=True)
    return int(code)


#: A write that failed because of where the output goes (disk full, quota, file too big,
#: device error), not because of libcli.
OUTPUT_ERRNOS = frozenset(
    getattr(errno, name) for name in ("ENOSPC", "EDQUOT", "EFBIG", "EIO") if hasattr(errno, name)
)


def report_output_error(exc: OSError) -> int:
    """One line naming the output that could not be written (`> /dev/full`: disk full)."""
    from libcli.errors import LibcliError

    error = LibcliError("output_failed", output=_stdout_name(), reason=os.strerror(exc.errno))
    _quiet_broken_pipe()  # what is still buffered must not fail again at exit
    return report(error, debug=False)


def _stdout_name() -> str:
    try:
        target = os.readlink(f"/proc/self/fd/{sys.__stdout__.fileno()}")
    except (OSError, ValueError, AttributeError):
        target = ""
    if target.startswith("/") and "(deleted)" not in target:
        return target
    return _("standard output")


def _flushed(code: int) -> int:
    """--help, --version and `ctx.exit(code)` end here: flush now; a closed pipe keeps `code`,
    an output that cannot be written is reported."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_broken_pipe()
    except OSError as exc:
        if exc.errno not in OUTPUT_ERRNOS:
            raise
        return report_output_error(exc)
    return code


def _quiet_broken_pipe() -> None:
    # The reader went away (`libcli search x | head -1`): stop without a traceback.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _set_lang(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value:
        from libcli.i18n import set_language

        set_language(value)
    return value


@click.group(
    cls=RootGroup,
    lazy_subcommands=SUBCOMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@option(
    "--server",
    metavar="URL",
    envvar="LIBCLI_SERVER",
    help="Address of the library server (default: the config file, else http://127.0.0.1:8765).",
)
@option(
    "--profile",
    metavar="NAME",
    envvar="LIBCLI_PROFILE",
    default="default",
    shell_complete=complete_profiles,
    help="Settings and login of another card on this machine (a family).",
)
@option(
    "--lang",
    type=click.Choice(["ja", "en"]),
    envvar="LIBCLI_LANG",
    is_eager=True,
    expose_value=False,
    callback=_set_lang,
    help="Language of messages (default: the config file, else the locale).",
)
@option(
    "--insecure",
    is_flag=True,
    help="Allow a plain http:// server that is not this machine.",
)
@option("--debug", is_flag=True, help="Show the full traceback of errors.")
@click.version_option(
    package_name="libcli",
    prog_name="libcli",
    message="%(prog)s %(version)s",
    cls=LocalizedOption,
    help="Show the version and exit.",
)
@click.pass_context
def cli(ctx: click.Context, server: str | None, profile: str, insecure: bool, debug: bool) -> None:
    """Reserve books of Hachinohe City Library from the command line.

    Log in with your library card number, search the catalogue, collect titles in your
    favorites, reserve them for pickup at a service point, and follow your loans and
    reservations. Run `libcli COMMAND --help` for each command.
    """
    from click.core import ParameterSource

    from libcli.app import App
    from libcli.config import check_profile
    from libcli.i18n import current_lang, resolve_lang, set_language

    check_profile(profile)
    if ctx.get_parameter_source("lang") in (None, ParameterSource.DEFAULT):
        set_language(resolve_lang(configured=configured_lang(profile)))
    current_lang()
    overrides = {}
    if server:
        source = ctx.get_parameter_source("server")
        overrides["server"] = (
            server,
            "env:LIBCLI_SERVER" if source == ParameterSource.ENVIRONMENT else "flag",
        )
    ctx.obj = App(profile=profile, overrides=overrides, insecure=insecure, debug=debug)
