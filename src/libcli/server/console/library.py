"""Running the library: create it, serve it, the demo, the catalogue, the daily job."""

from __future__ import annotations

import os
import sys

import click

from libcli.server.console.base import DATE, Context, command, main, masked


@command(main, "init")
@click.option(
    "--calendar",
    "calendar_file",
    type=click.Path(exists=True, dir_okay=False),
    help="A TOML calendar of closed days to load.",
)
def init(ctx: Context, calendar_file: str | None) -> None:
    """Create or upgrade the database schema (no closed days unless --calendar)."""
    db = ctx.db
    if calendar_file:
        from libcli.server import calendar

        with db.write() as session:
            calendar.load_calendar_file(session, calendar_file, ctx.settings.profile)
    click.echo(f"database ready: {masked(ctx.settings.database_url)}")


def _serve(settings, host: str, port: int, workers: int) -> None:
    import uvicorn

    os.environ["LIBCLI_SERVER_DATABASE_URL"] = settings.database_url
    os.environ.setdefault("LIBCLI_SERVER_PUBLIC_URL", f"http://{host}:{port}")
    if settings.mail_deliver_in_serve:
        from libcli.server import mail

        mail.start_deliverer_thread(settings)  # one thread in this process, not per worker
    uvicorn.run(
        "libcli.server.api.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,  # the app logs each request itself, without query or token
        # X-Forwarded-For only from the configured proxies; none by default.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
    )


@command(main, "serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
def serve(ctx: Context, host: str, port: int, workers: int) -> None:
    """Serve the HTTP API (and the pages behind the mail links)."""
    ctx.migrate()
    click.echo(
        f"libcli-server: serving {masked(ctx.settings.database_url)} on http://{host}:{port}",
        err=True,
    )
    _serve(ctx.settings, host, port, workers)


@main.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    help="Where the demo database goes (default: a fresh temporary folder).",
)
@click.option("--no-serve", is_flag=True, help="Create the demo library and exit.")
def demo(host: str, port: int, data_dir: str | None, no_serve: bool) -> None:
    """A fresh SQLite demo library, then serve it; prints its URL, cards and passwords."""
    import tempfile
    from pathlib import Path

    folder = Path(data_dir or tempfile.mkdtemp(prefix="libcli-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    db_file = folder / "library.db"
    for stale in folder.glob("library.db*"):
        stale.unlink()
    os.environ["LIBCLI_SERVER_DATA_DIR"] = str(folder)
    os.environ.setdefault("LIBCLI_SERVER_PUBLIC_URL", f"http://{host}:{port}")
    ctx = Context(f"sqlite:///{db_file}")
    from libcli.server.demo import load_demo

    patrons = load_demo(ctx.db, ctx.settings, ctx.settings.today())
    click.echo(f"Demo library: {ctx.settings.profile.name_ja} ({ctx.settings.profile.name_en})")
    click.echo(f"Database: {db_file}")
    click.echo(f"Server: http://{host}:{port}")
    click.echo("Cards (card / password / name / email):")
    for p in patrons:
        click.echo(f"  {p.card}  {p.password}  {p.name}  {p.email or '-'}")
    click.echo(f"Try: LIBCLI_SERVER=http://{host}:{port} libcli login {patrons[0].card}")
    sys.stdout.flush()
    if not no_serve:
        _serve(ctx.settings, host, port, 1)


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
    """R14 expiry of uncollected holds, then the next in each queue; idempotent."""
    from libcli.server.service.daily import run_daily as job

    result = job(ctx.db, ctx.settings, ctx.today(date))
    click.echo(f"{result['date']}: {result['expired']} expired, {result['promoted']} promoted")
    from libcli.server.console.holds import report_awaiting_contact

    report_awaiting_contact(ctx)
