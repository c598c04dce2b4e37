"""Suspending a waiting reservation (休止) while you are away, and resuming it."""

from __future__ import annotations

import click

from libcli.cli.base import command, complete_reservations, option, pass_app
from libcli.i18n import _


@command()
@click.argument("reservation_id", shell_complete=complete_reservations)
@option(
    "--until",
    "until",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The day it is served again (YYYY-MM-DD).",
)
@pass_app
def suspend(app, reservation_id: str, until) -> None:
    """Suspend a waiting reservation (休止) until a date: it keeps its place in the queue.

    Returned copies pass over it to the next patron until that day; it still counts
    toward the reservation limit. A reservation in transit or ready for pickup cannot be
    suspended (exit 5); an unknown one exits with 6.
    """
    from libcli.output import say

    app.client().suspend(reservation_id, until.date().isoformat())
    say(
        _("Reservation {id} is suspended until {date}.").format(
            id=reservation_id, date=until.date().isoformat()
        )
    )


@command()
@click.argument("reservation_id", shell_complete=complete_reservations)
@pass_app
def resume(app, reservation_id: str) -> None:
    """Resume a suspended reservation: it is served again from today, in its place."""
    from libcli.output import say

    app.client().resume(reservation_id)
    say(_("Reservation {id} is active again.").format(id=reservation_id))
