"""`libcli news`: what changed since you last asked (holds ready or expired, loans due)."""

from __future__ import annotations

from typing import Any

import click

from libcli import views
from libcli.cli.base import (
    all_profiles_option,
    command,
    each_profile,
    exit_with,
    json_output,
    option,
    pass_app,
)
from libcli.i18n import _


def event_line(app, event: dict[str, Any]) -> str:
    """One line a patron reads in a cron mail."""
    kind, title, date = event.get("kind"), event.get("title") or "", event.get("date")
    if kind == "hold_ready":
        point = app.library.point_name(event.get("pickup"))
        if event.get("pickup_deadline"):
            return _("Ready for pickup at {point} until {date}: {title}").format(
                point=point, date=event["pickup_deadline"], title=title
            )
        return _("Ready for pickup at {point}: {title}").format(point=point, title=title)
    if kind == "hold_expired":
        return _("Not collected in time, cancelled on {date}: {title}").format(
            date=date, title=title
        )
    if kind == "overdue":
        return _("Overdue, it was due on {date}: {title} ({barcode})").format(
            date=date, title=title, barcode=event.get("barcode")
        )
    return _("Due on {date}: {title} ({barcode})").format(
        date=date, title=title, barcode=event.get("barcode")
    )


@command()
@option(
    "--due-within",
    type=click.IntRange(0, 366),
    default=2,
    show_default=True,
    metavar="DAYS",
    help="Tell about loans due within DAYS days.",
)
@all_profiles_option
@json_output(views.NEWS)
@pass_app
def news(app, out, due_within: int, all_profiles: bool) -> None:
    """Tell what changed since you last asked: holds ready or expired, loans due or overdue.

    A hold ready for pickup (受取可) is told with its pickup point and deadline; a hold
    not collected in time is told on the day it was cancelled; loans are told when
    due within --due-within days, and once overdue.

    Each event is told once: what was told is remembered for each profile in the cache
    directory. Nothing new prints nothing (`--json`: []) and exits 0, so cron mails only news.
    """
    from libcli import news as told
    from libcli.output import say

    found: list[tuple[Any, dict[str, Any]]] = []
    listed: list[tuple[Any, list[dict[str, Any]]]] = []

    def collect(member) -> None:
        events = member.client().events(due_within=due_within)
        listed.append((member, events))
        for event in told.untold(member.profile, events):
            found.append((member, {**event, "profile": member.profile, "card": member.card}))

    failed = each_profile(app, all_profiles, collect)
    if out.json:
        out.emit([event for _member, event in found])
    else:
        for member, event in found:
            line = event_line(member, event)
            say(f"{member.profile} ({member.card}): {line}" if all_profiles else line)
    for member, events in listed:
        told.remember(member.profile, events)
    exit_with(failed)
