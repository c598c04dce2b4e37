"""Closed days of each service point."""

from __future__ import annotations

import datetime as dt

import click

from libcli.server.console.base import DATE, Context, command, main
from libcli.server.console.output import Column, json_option, listing, say, t
from libcli.server.console.terms import POINT
from libcli.server.i18n import N_

DAY_COLUMNS = (
    Column("date", N_("Date")),
    Column("weekday", N_("Day")),
    Column("reason", N_("Reason")),
)


@main.group("calendar")
def calendar_group() -> None:
    """Closed days (休館日) of each service point."""


@command(calendar_group, "close")
@click.argument("point", type=POINT)
@click.argument("dates", nargs=-1, required=True, type=DATE)
def calendar_close(ctx: Context, point: str, dates) -> None:
    """Close POINT on the given days; ready holds there get their deadline anew (R14)."""
    from libcli.server import calendar

    with ctx.db.write() as session:
        change = calendar.close_days(
            session, point, [d.date() for d in dates], ctx.settings.profile
        )
    say(
        t(N_("{point}: {days} day(s) closed; {holds} hold deadline(s) moved")).format(
            point=point, days=change.days, holds=change.holds
        )
    )


@command(calendar_group, "open")
@click.argument("point", type=POINT)
@click.argument("dates", nargs=-1, required=True, type=DATE)
def calendar_open(ctx: Context, point: str, dates) -> None:
    """Undo closed days of POINT (given by date); ready holds there get their deadline anew
    (R14). Weekly closed days and public holidays stay closed."""
    from libcli.server import calendar

    days = [d.date() for d in dates]
    with ctx.db.write() as session:
        change = calendar.open_days(session, point, days, ctx.settings.profile)
        closed = calendar.still_closed(session, point, days)
    say(
        t(N_("{point}: {days} day(s) opened; {holds} hold deadline(s) moved")).format(
            point=point, days=change.days, holds=change.holds
        )
    )
    for day, reason in closed:
        say(
            t(N_("{point} stays closed on {day} ({reason})")).format(
                point=point, day=day.isoformat(), reason=reason
            )
        )


@command(calendar_group, "show")
@click.argument("point", type=POINT)
@click.option("--month", help="YYYY-MM (default: this month).")
@json_option
def calendar_show(ctx: Context, point: str, month: str | None, as_json: bool) -> None:
    """List the closed days of POINT in a month."""
    from libcli.server import calendar

    try:
        year, mon = map(int, (month or ctx.today(None).strftime("%Y-%m")).split("-"))
        dt.date(year, mon, 1)
    except ValueError:
        raise click.BadParameter(t(N_("use YYYY-MM")), param_hint="--month") from None
    with ctx.db.read() as session:
        days = calendar.closed_days_in_month(session, point, year, mon)
    rows = [
        {"date": day.isoformat(), "weekday": day.strftime("%a"), "reason": reason}
        for day, reason in days
    ]
    listing(rows, DAY_COLUMNS, as_json=as_json, empty=N_("No closed days."))
