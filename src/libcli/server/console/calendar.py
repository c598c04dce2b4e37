"""Closed days of each service point."""

from __future__ import annotations

import datetime as dt

import click

from libcli.server.console.base import DATE, Context, command, main


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
