"""The console's frame: the root group, the context each command gets, `--database`."""

from __future__ import annotations

import datetime as dt
import functools
import inspect
from contextlib import ExitStack, contextmanager

import click

DATE = click.DateTime(formats=["%Y-%m-%d"])


def _date(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value else None


class Context:
    """Settings and the database. The database is opened only when it holds a library
    with the current schema (`init` and `migrate` create and upgrade it)."""

    def __init__(self, database: str | None, **flags):
        from libcli.server.settings import load_settings

        click_ctx = click.get_current_context(silent=True)
        config = None
        if click_ctx is not None:
            config = click_ctx.find_root().params.get("config")
            if database and _from_environment(click_ctx, "database"):
                database = None  # the variable is read with the others, and shown as one
        # A SettingsError or NotReady is told by `guarded` in the staff's language.
        self.settings = load_settings(database, config=config, **flags)
        self._db = None

    @property
    def db(self):
        if self._db is None:
            from libcli.server.db.migrate import require_current
            from libcli.server.db.session import Database

            require_current(self.settings.database_url)
            self._db = Database(self.settings.database_url)
        return self._db

    def create(self):
        """`init`: create the library (or bring its schema up to date), then open it."""
        from libcli.server.db.migrate import create_library

        create_library(self.settings.database_url)
        return self.db

    def today(self, given: dt.datetime | None) -> dt.date:
        return _date(given) or self.settings.today()


def _from_environment(click_ctx: click.Context, name: str) -> bool:
    source = click_ctx.get_parameter_source(name)
    return source is click.core.ParameterSource.ENVIRONMENT


def command(group: click.Group, *args, **kwargs):
    """A console command: `--database` on each; every error one line in the staff's
    language with an exit code per kind, never a traceback (console/output.py)."""
    from libcli.server.console.output import guarded

    def decorate(fn):
        @group.command(*args, **kwargs)
        @click.option(
            "--database",
            envvar="LIBCLI_SERVER_DATABASE_URL",
            metavar="URL",
            help="SQLAlchemy URL (sqlite:///FILE or postgresql+psycopg://...). "
            "Default: a SQLite file in the data directory.",
        )
        @functools.wraps(fn)
        @guarded
        def run(database, **params):
            return fn(Context(database), **params)

        return run

    return decorate


@contextmanager
def _translated(obj: object, *attrs: str):
    """`obj`'s help texts in the run's language while its help is drawn (the English
    source text is the msgid of the libcli_server catalogue)."""
    from libcli.server.console.output import t

    saved = {a: getattr(obj, a) for a in attrs}
    try:
        for attr, value in saved.items():
            if isinstance(value, str) and value:
                setattr(obj, attr, t(inspect.cleandoc(value)))
        yield
    finally:
        for attr, value in saved.items():
            setattr(obj, attr, value)


class ConsoleCommand(click.Command):
    """Help written in English, shown in the staff's language, wrapped by terminal columns
    (Japanese takes two a character)."""

    @property
    def context_class(self):  # type: ignore[override]
        from libcli.cli.base import LibcliContext

        return LibcliContext

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with _translated(self, "help"):
            super().format_help_text(ctx, formatter)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with ExitStack() as stack:
            for param in self.get_params(ctx):
                stack.enter_context(_translated(param, "help"))
            super().format_options(ctx, formatter)

    def get_short_help_str(self, limit: int = 45) -> str:
        with _translated(self, "short_help", "help"):
            return super().get_short_help_str(limit)


class ConsoleGroup(ConsoleCommand, click.Group):
    command_class = ConsoleCommand
    group_class = type  # subgroups are ConsoleGroups too


def _set_lang(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Click's own words (Usage:, Error:) in the staff's language too, from `libcli`'s
    catalogue, as `libcli` does."""
    from libcli.i18n import set_language
    from libcli.server.i18n import console_lang

    if not ctx.resilient_parsing:
        set_language(console_lang(value))
    return value


@click.group(cls=ConsoleGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="libcli")
@click.option(
    "--lang",
    type=click.Choice(["ja", "en"]),
    is_eager=True,
    callback=_set_lang,
    help="Language of messages (default: LIBCLI_LANG, then the locale).",
)
@click.option(
    "--config",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="The TOML config file (default: LIBCLI_SERVER_CONFIG, else "
    "$XDG_CONFIG_HOME/libcli-server/config.toml when it exists).",
)
def main(lang: str | None, config: str | None) -> None:
    """The library backend of libcli: serve the reservation service and run the counter.

    Settings come from the config file, LIBCLI_SERVER_* variables over it and flags over
    both; `libcli-server config show` prints them and where each came from."""


def masked(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
