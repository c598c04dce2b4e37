"""libcli-server: the staff and operations console of the library backend."""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import sys

import click

DATE = click.DateTime(formats=["%Y-%m-%d"])


def _date(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value else None


class Context:
    """Settings and the database, opened (and migrated) on first use."""

    def __init__(self, database: str | None):
        from libcli.server.settings import load_settings

        self.settings = load_settings(database)
        self._db = None

    @property
    def db(self):
        if self._db is None:
            from libcli.server.db.migrate import upgrade
            from libcli.server.db.session import Database

            upgrade(self.settings.database_url)
            self._db = Database(self.settings.database_url)
        return self._db

    def migrate(self) -> None:
        """Bring the schema to the newest revision (before the first request)."""
        _ = self.db

    def today(self, given: dt.datetime | None) -> dt.date:
        return _date(given) or self.settings.today()

    def deliver_mail(self) -> None:
        from libcli.server import mail

        mail.deliver_pending(self.db, self.settings)


def command(group: click.Group, *args, **kwargs):
    """A console command: `--database` on each, library refusals as one-line errors."""

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
        def run(database, **params):
            from libcli.server.errors import LibraryError

            ctx = Context(database)
            try:
                return fn(ctx, **params)
            except LibraryError as exc:
                raise click.ClickException(f"{exc.code}: {exc}") from None

        return run

    return decorate


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="libcli")
def main() -> None:
    """The library backend of libcli: serve the reservation service and run the counter."""


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
    click.echo(f"database ready: {_masked(ctx.settings.database_url)}")


def _masked(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _serve(settings, host: str, port: int, workers: int) -> None:
    import uvicorn

    os.environ["LIBCLI_SERVER_DATABASE_URL"] = settings.database_url
    os.environ.setdefault("LIBCLI_SERVER_PUBLIC_URL", f"http://{host}:{port}")
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
        f"libcli-server: serving {_masked(ctx.settings.database_url)} on http://{host}:{port}",
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
    ctx.deliver_mail()
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


@command(main, "import-catalog")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "marc"]), default="csv", show_default=True
)
def import_catalog(ctx: Context, file: str, fmt: str) -> None:
    """Import titles and copies (CSV: one row per copy; MARC 21 through pymarc)."""
    from libcli.server import importer

    with ctx.db.write() as session, open(file, "rb") as handle:
        try:
            if fmt == "csv":
                result = importer.import_csv(session, handle, ctx.settings.profile)
            else:
                result = importer.import_marc(session, handle, ctx.settings.profile)
        except ValueError as exc:
            raise click.ClickException(f"nothing imported: {exc}") from None
    click.echo(f"imported {result.titles} titles, {result.copies} copies")


@main.group("patron")
def patron() -> None:
    """Patrons: register a card, issue a password at the counter (R2)."""


@command(patron, "add")
@click.argument("card")
@click.option("--name", required=True)
@click.option("--email")
@click.option("--phone")
def patron_add(ctx: Context, card: str, name: str, email: str | None, phone: str | None) -> None:
    """Register a library card (9 digits)."""
    from libcli.server.service import accounts

    with ctx.db.write() as session:
        accounts.add_patron(session, ctx.settings, card, name, email, phone)
    click.echo(f"patron {card} added")


@command(patron, "issue-password")
@click.argument("card")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--date", type=DATE, help="Day of issue (default: today).")
def patron_issue_password(ctx: Context, card: str, password_stdin: bool, date) -> None:
    """R2: issue a password after the identity check; prints a generated one unless given."""
    from libcli.server.service import accounts

    given = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    with ctx.db.write() as session:
        password = accounts.issue_password(session, ctx.settings, card, given, ctx.today(date))
    click.echo(f"password issued for {card}" if given else password)


@command(main, "checkout")
@click.argument("card")
@click.argument("barcode")
@click.option("--date", type=DATE)
def checkout(ctx: Context, card: str, barcode: str, date) -> None:
    """Lend a copy to a patron (from the shelf or the hold shelf)."""
    from libcli.server.service import circulation

    with ctx.db.write() as session:
        loan = circulation.checkout(session, ctx.settings, card, barcode, ctx.today(date))
        click.echo(f"{barcode} lent to {card}, due {loan.due_on.isoformat()}")


@command(main, "checkin")
@click.argument("barcode")
@click.option("--at", "at", help="Service point where it is checked in (default: its own).")
@click.option("--date", type=DATE)
def checkin(ctx: Context, barcode: str, at: str | None, date) -> None:
    """R22: a copy comes back or arrives; it goes to the first waiting reservation."""
    from libcli.server.service import circulation

    with ctx.db.write() as session:
        result = circulation.checkin(session, ctx.settings, barcode, at, ctx.today(date))
    ctx.deliver_mail()
    if result["reservation_id"]:
        click.echo(
            f"{barcode}: {result['reservation_status']} for reservation "
            f"{result['reservation_id']} (pickup {result['pickup']})"
        )
    else:
        click.echo(f"{barcode}: {result['state']} at {result['location']}")


@main.group("hold")
def hold() -> None:
    """Counter reservations and the hold shelf."""


@command(hold, "place")
@click.argument("card")
@click.argument("title_id")
@click.option("--pickup", required=True)
@click.option("--contact", required=True)
@click.option("--date", type=DATE)
def hold_place(ctx: Context, card: str, title_id: str, pickup: str, contact: str, date) -> None:
    """A counter reservation (magazines and AV allowed; counts toward the limit, R3)."""
    from libcli.server.service import reservations

    now = ctx.settings.now()
    with ctx.db.write() as session:
        result = reservations.place(
            session,
            ctx.settings,
            card,
            [title_id],
            pickup=pickup,
            contact=contact,
            via="counter",
            today=ctx.today(date),
            now=now,
        )
    ctx.deliver_mail()
    for r in result["reserved"]:
        click.echo(f"reservation {r['reservation_id']}: {r['title']} (position {r['position']})")
    for s in result["skipped"]:
        raise click.ClickException(f"{s['reason']}: {title_id} cannot be reserved")


@command(hold, "cancel")
@click.argument("reservation_id", type=int)
@click.option("--date", type=DATE)
def hold_cancel(ctx: Context, reservation_id: int, date) -> None:
    """Cancel any reservation, ready ones included (the patron phoned, R12)."""
    from libcli.server.service import reservations

    with ctx.db.write() as session:
        reservations.cancel(
            session, ctx.settings, None, reservation_id, by_staff=True, today=ctx.today(date)
        )
    ctx.deliver_mail()
    click.echo(f"reservation {reservation_id} cancelled")


@command(hold, "list")
@click.option("--point")
@click.option("--status", type=click.Choice(["waiting", "in_transit", "ready"]))
@click.option("--json", "as_json", is_flag=True)
def hold_list(ctx: Context, point: str | None, status: str | None, as_json: bool) -> None:
    """Active reservations, e.g. the hold shelf of one point and who still needs a call."""
    from libcli.server.service import reservations

    with ctx.db.read() as session:
        rows = reservations.active_list(session, point=point, status=status)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(
            "\t".join(
                str(r[k] if r[k] is not None else "-")
                for k in (
                    "reservation_id",
                    "card",
                    "id",
                    "status",
                    "pickup",
                    "contact",
                    "contacted_on",
                    "pickup_deadline",
                )
            )
        )


@command(main, "contacted")
@click.argument("reservation_id", type=int)
@click.option("--date", type=DATE)
def contacted(ctx: Context, reservation_id: int, date) -> None:
    """Record the phone / ring / voicemail contact of a ready hold (R13, R14)."""
    from libcli.server.service import circulation

    with ctx.db.write() as session:
        hold_row = circulation.contacted(session, ctx.settings, reservation_id, ctx.today(date))
        click.echo(
            f"reservation {reservation_id}: keep until {hold_row.pickup_deadline.isoformat()}"
        )


@main.group("calendar")
def calendar_group() -> None:
    """Closed days (休館日) of each service point."""


@command(calendar_group, "close")
@click.argument("point")
@click.argument("dates", nargs=-1, required=True, type=DATE)
def calendar_close(ctx: Context, point: str, dates) -> None:
    """Close POINT on the given days; ready holds there get their deadline anew (R14)."""
    from libcli.server import calendar
    from libcli.server.service import holds

    if point not in ctx.settings.profile.point_codes:
        raise click.BadParameter(f"unknown point {point!r}", param_hint="POINT")
    with ctx.db.write() as session:
        calendar.close_days(session, point, [d.date() for d in dates])
        moved = holds.recompute_deadlines(session, ctx.settings, point)
    click.echo(f"{point}: {len(dates)} day(s) closed; {moved} hold deadline(s) recomputed")


@command(calendar_group, "show")
@click.argument("point")
@click.option("--month", help="YYYY-MM (default: this month).")
def calendar_show(ctx: Context, point: str, month: str | None) -> None:
    """List the closed days of POINT in a month."""
    from libcli.server import calendar

    if point not in ctx.settings.profile.point_codes:
        raise click.BadParameter(f"unknown point {point!r}", param_hint="POINT")
    try:
        year, mon = map(int, (month or ctx.today(None).strftime("%Y-%m")).split("-"))
        dt.date(year, mon, 1)
    except ValueError:
        raise click.BadParameter("use YYYY-MM", param_hint="--month") from None
    with ctx.db.read() as session:
        days = calendar.closed_days_in_month(session, point, year, mon)
    for day, reason in days:
        click.echo(f"{day.isoformat()} {day.strftime('%a')} {reason}")


@command(main, "run-daily")
@click.option("--date", type=DATE, help="The day to run for (default: today).")
def run_daily(ctx: Context, date) -> None:
    """R14 expiry of uncollected holds, then the next in each queue; idempotent."""
    from libcli.server.service.daily import run_daily as job

    result = job(ctx.db, ctx.settings, ctx.today(date))
    ctx.deliver_mail()
    click.echo(f"{result['date']}: {result['expired']} expired, {result['promoted']} promoted")


@main.group("mail")
def mail_group() -> None:
    """Mail to patrons: the outbox and delivery."""


@command(mail_group, "list")
@click.option("--json", "as_json", is_flag=True)
def mail_list(ctx: Context, as_json: bool) -> None:
    """Mail sent or waiting: to, subject, date, body."""
    from libcli.server import mail

    with ctx.db.read() as session:
        mails = mail.list_mail(session)
    if as_json:
        click.echo(json.dumps(mails, ensure_ascii=False, indent=2))
        return
    for m in mails:
        click.echo(f"{m['date']}\t{m['to']}\t{m['subject']}")


@command(mail_group, "deliver")
def mail_deliver(ctx: Context) -> None:
    """Send mail still waiting (SMTP if configured, else the outbox folder)."""
    from libcli.server import mail

    click.echo(f"{mail.deliver_pending(ctx.db, ctx.settings)} mail(s) delivered")
