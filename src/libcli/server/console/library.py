"""Running the library: create it, serve it, the demo, the catalogue, the daily job."""

from __future__ import annotations

import os
import sys

import click

from libcli.exit_codes import ExitCode
from libcli.server.console.base import DATE, Context, command, main, masked
from libcli.server.console.output import ConsoleProblem, guarded, say, t
from libcli.server.i18n import N_
from libcli.server.settings import DEFAULT_PORT


@command(main, "init")
@click.option(
    "--calendar",
    "calendar_file",
    type=click.Path(exists=True, dir_okay=False),
    help="A TOML calendar of closed days to load.",
)
def init(ctx: Context, calendar_file: str | None) -> None:
    """Create the library's database (or bring its schema up to date); the only command
    that creates one. A SQLite file is made 0600 in a 0700 data folder."""
    db = ctx.create()
    if calendar_file:
        from libcli.server import calendar

        try:
            with db.write() as session:
                calendar.load_calendar_file(session, calendar_file, ctx.settings.profile)
        except (ValueError, KeyError, TypeError) as exc:  # tomllib's errors are ValueErrors
            problem = str(exc).removeprefix(f"{calendar_file}: ")  # the file is named once
            raise ConsoleProblem(
                t(N_("calendar {file} cannot be loaded: {problem}")).format(
                    file=calendar_file, problem=problem
                )
            ) from None
    say(t(N_("database ready: {database}")).format(database=masked(ctx.settings.database_url)))


@command(main, "migrate")
def migrate(ctx: Context) -> None:
    """Bring an existing library's schema to this version's (after an upgrade)."""
    from libcli.server.db.migrate import NO_LIBRARY, NotReady, current_revision, upgrade

    url = ctx.settings.database_url
    if current_revision(url) is None:  # a NotReady is told by `guarded`
        raise NotReady(NO_LIBRARY, database=masked(url))
    upgrade(url)
    say(t(N_("schema up to date: {database}")).format(database=masked(url)))


def is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_public_url(settings, host: str, port: int) -> None:
    """Links in mails come from `public_url` only; refuse to serve where they would be wrong."""
    if settings.public_url_given:
        return
    if not is_loopback(host):
        raise ConsoleProblem(
            t(
                N_(
                    "serving on {host} needs public_url (the address patrons reach, used in "
                    "every mail's links): set LIBCLI_SERVER_PUBLIC_URL or public_url in the "
                    "config file"
                )
            ).format(host=host)
        )
    if port != DEFAULT_PORT:
        raise ConsoleProblem(
            t(
                N_(
                    "mail links would point to {url}, not to port {port}: set "
                    "LIBCLI_SERVER_PUBLIC_URL or public_url in the config file"
                )
            ).format(url=settings.public_url, port=port)
        )


def _claim_port(host: str, port: int):
    """The listening socket, bound now so that a busy port fails before anything else."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConsoleProblem(
            t(N_("cannot listen on {host}:{port}: {reason}")).format(
                host=host, port=port, reason=exc.strerror
            ),
            ExitCode.REFUSED,
        ) from None
    return sock


def _serve(settings, sock, workers: int, db=None) -> None:
    import uvicorn

    from libcli.server import logs, mail

    if settings.mail_deliver_in_serve:
        mail.start_deliverer_thread(settings)  # one thread in this process, not per worker
    options = dict(
        log_level="warning",
        access_log=False,  # the app logs each request itself, without query or token
        # X-Forwarded-For only from the configured proxies; none by default.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
    )
    host, port = sock.getsockname()[:2]
    if workers == 1:
        from libcli.server.api.app import create_app

        logs.configure()
        config = uvicorn.Config(create_app(settings, db), **options)
        uvicorn.Server(config).run(sockets=[sock])
        return
    from libcli.server.settings import as_environment

    sock.close()  # each worker binds its own (SO_REUSEPORT is not assumed)
    os.environ.update(as_environment(settings))
    uvicorn.run(
        "libcli.server.api.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        **options,
    )


@command(main, "serve")
@click.option("--host", help="The address to listen on (setting `host`; default 127.0.0.1).")
@click.option(
    "--port", type=click.IntRange(0, 65535), help="The port (setting `port`; default 8765)."
)
@click.option(
    "--workers", type=click.IntRange(1, 64), help="Worker processes (setting `workers`; 1)."
)
def serve(ctx: Context, host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the HTTP API (and the pages behind the mail links). Refuses a database
    without a library or with an older schema, and a non-loopback address without
    `public_url`."""
    settings = ctx.settings
    host = host or settings.host
    port = settings.port if port is None else port
    db = ctx.db
    _check_public_url(settings, host, port)
    sock = _claim_port(host, port)
    click.echo(
        f"libcli-server: serving {masked(settings.database_url)} on http://{host}:{port} "
        f"(links: {settings.public_url})",
        err=True,
    )
    _serve(settings, sock, workers or settings.workers, db)


def _holds_library(folder) -> bool:
    return any(folder.glob("library.db*"))


@main.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    help="Where the demo library goes (default: a fresh temporary folder, removed at exit).",
)
@click.option(
    "--replace", is_flag=True, help="Replace the library already in --data-dir (it is lost)."
)
@click.option("--no-serve", is_flag=True, help="Create the demo library and exit.")
@click.pass_context
@guarded
def demo(
    click_ctx, host: str, port: int, data_dir: str | None, replace: bool, no_serve: bool
) -> None:
    """A fresh SQLite demo library, then serve it; prints its URL, cards and passwords.
    It never touches the configured library."""
    import shutil
    import tempfile
    from pathlib import Path

    if data_dir and _holds_library(Path(data_dir)) and not replace:
        raise ConsoleProblem(
            t(
                N_(
                    "{folder} holds a library: the demo would replace it; give --replace to "
                    "do that, or another folder"
                )
            ).format(folder=data_dir),
            ExitCode.REFUSED,
        )
    sock = None if no_serve else _claim_port(host, port)
    folder = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="libcli-demo-"))
    try:
        _demo(click_ctx, folder, host, port, sock)
    finally:
        if not data_dir:
            shutil.rmtree(folder, ignore_errors=True)


def _demo(click_ctx, folder, host: str, port: int, sock) -> None:
    from dataclasses import replace

    from libcli.server.db.migrate import create_library
    from libcli.server.db.session import Database
    from libcli.server.demo import load_demo
    from libcli.server.settings import load_settings

    for stale in folder.glob("library.db*"):
        stale.unlink()
    db_file = folder / "library.db"
    settings = load_settings(
        f"sqlite:///{db_file}",
        config=click_ctx.find_root().params.get("config"),
        data_dir=folder,
        outbox=folder / "outbox",
    )
    if not settings.public_url_given:
        if not is_loopback(host):
            _check_public_url(settings, host, port)
        settings = replace(settings, public_url=f"http://{host}:{port}")
    settings = replace(settings, smtp_host=None)  # demo patrons get no real mail
    create_library(settings.database_url)
    db = Database(settings.database_url)
    patrons = load_demo(db, settings, settings.today())  # serve's deliverer sends its mail
    click.echo(f"Demo library: {settings.profile.name_ja} ({settings.profile.name_en})")
    click.echo(f"Database: {db_file}")
    click.echo(f"Server: http://{host}:{port}")
    click.echo("Cards (card / password / name / email):")
    for p in patrons:
        click.echo(f"  {p.card}  {p.password}  {p.name}  {p.email or '-'}")
    click.echo(f"Try: LIBCLI_SERVER=http://{host}:{port} libcli login {patrons[0].card}")
    sys.stdout.flush()
    if sock is not None:
        _serve(settings, sock, 1, db)


def _import_help() -> str:
    from libcli.server.importer import CSV_SPEC

    columns = "\n".join(f"  {c.name}: {c.doc}" for c in CSV_SPEC)
    return (
        "Import titles and copies: CSV (one row per copy), MARC 21 or MARCXML (pymarc). "
        "All or nothing: a bad row or record, named in the error, imports nothing.\n\n"
        "\b\nCSV columns (a header line names them; see docs/import.md):\n" + columns
    )


@command(main, "import-catalog", help=_import_help())
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "marc", "marcxml"]),
    default="csv",
    show_default=True,
)
@click.option(
    "--encoding",
    default="auto",
    show_default=True,
    help="Encoding of a CSV file: auto tells UTF-8 (with or without BOM) from "
    "CP932/Shift_JIS; or name one (utf-8, cp932, euc-jp, ...).",
)
def import_catalog(ctx: Context, file: str, fmt: str, encoding: str) -> None:
    from libcli.output import stderr_is_tty
    from libcli.server import importer
    from libcli.server.console.output import ConsoleProblem, say, t
    from libcli.server.i18n import N_

    size = os.path.getsize(file)
    with ctx.db.write() as session, open(file, "rb") as handle:
        bar = click.progressbar(
            length=size, label=t(N_("Importing")), file=sys.stderr, show_pos=False
        )
        shown = [0]

        def progress(titles: int, copies: int) -> None:
            if stderr_is_tty():
                position = min(handle.tell(), size)
                bar.update(position - shown[0])
                shown[0] = position

        try:
            with bar if stderr_is_tty() else _nothing():
                if fmt == "csv":
                    result = importer.import_csv(
                        session, handle, ctx.settings.profile, encoding=encoding, progress=progress
                    )
                elif fmt == "marc":
                    result = importer.import_marc(
                        session, handle, ctx.settings.profile, progress=progress
                    )
                else:
                    result = importer.import_marcxml(
                        session, handle, ctx.settings.profile, progress=progress
                    )
        except importer.CatalogImportError as exc:
            raise ConsoleProblem(
                t(N_("nothing imported: {where}: {problem}")).format(
                    where=exc.where, problem=exc.problem
                ),
                exit_code=2,
            ) from None
    say(
        t(N_("imported {titles} titles, {copies} copies")).format(
            titles=result.titles, copies=result.copies
        )
    )


def _nothing():
    import contextlib

    return contextlib.nullcontext()


@command(main, "run-daily")
@click.option("--date", type=DATE, help="The day to run for (default: today).")
def run_daily(ctx: Context, date) -> None:
    """R14 expiry of uncollected holds, then the next in each queue, then reminder mails;
    idempotent."""
    from libcli.server.service.daily import run_daily as job

    result = job(ctx.db, ctx.settings, ctx.today(date))
    click.echo(f"{result['date']}: {result['expired']} expired, {result['promoted']} promoted")
    click.echo(f"{result['reminded']} patrons reminded of due dates")
    from libcli.server.console.holds import report_awaiting_contact

    report_awaiting_contact(ctx)


@command(main, "backup")
@click.argument("file", type=click.Path(dir_okay=False))
def backup(ctx: Context, file: str) -> None:
    """Copy the library into FILE (SQLite, while it serves: the online backup API; made
    0600). To restore, stop `serve` and put FILE in place of library.db. On PostgreSQL
    use pg_dump (docs/deploy.md)."""
    import sqlite3
    from pathlib import Path

    db = ctx.db
    if not db.is_sqlite:
        raise ConsoleProblem(
            t(
                N_(
                    "the library is on PostgreSQL: back it up with pg_dump --format=custom "
                    "(see docs/deploy.md, Backups)"
                )
            )
        )
    target = Path(file)
    if target.exists():
        raise ConsoleProblem(
            t(N_("{file} exists: give a new file name")).format(file=target), ExitCode.REFUSED
        )
    os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    source = sqlite3.connect(f"file:{db.engine.url.database}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        with copy:
            source.backup(copy)
    finally:
        copy.close()
        source.close()
    say(
        t(N_("backed up {database} to {file}")).format(
            database=masked(ctx.settings.database_url), file=target
        )
    )
