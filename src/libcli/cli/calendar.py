"""Your dates in a calendar: due dates and pickup deadlines (R14) as iCalendar."""

from __future__ import annotations

import click

from libcli.cli.base import command, option, pass_app
from libcli.i18n import _


@command()
@option(
    "-o",
    "--output",
    "output",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True),
    metavar="FILE",
    help="Write the .ics file here (default: standard output).",
)
@option("--subscribe", is_flag=True, help="Print a secret feed URL for a phone's calendar.")
@option("--revoke", is_flag=True, help="End the feed: its URL stops working.")
@pass_app
def calendar(app, output: str | None, subscribe: bool, revoke: bool) -> None:
    """Your due dates and pickup deadlines as a calendar (.ics).

    \b
    libcli calendar -o library.ics
        one all-day event per due date and per
        pickup deadline; importing it again
        updates the events (stable UIDs)
    libcli calendar --subscribe
        a secret URL a calendar app can
        subscribe to (a new one each time: the
        old one stops); a password change ends it
    libcli calendar --revoke
        end the feed
    """
    from libcli.errors import UsageProblem

    if subscribe and revoke:
        raise UsageProblem("options_conflict", first="--subscribe", second="--revoke")
    if output and (subscribe or revoke):
        raise UsageProblem(
            "options_conflict", first="--output", second="--revoke" if revoke else "--subscribe"
        )
    client = app.client()
    if subscribe:
        _subscribe(client)
    elif revoke:
        _revoke(client)
    else:
        _write(client, output)


def _write(client, output: str | None) -> None:
    from libcli.errors import LibcliError
    from libcli.output import say

    data, events = client.calendar()
    if not output or output == "-":
        click.get_binary_stream("stdout").write(data)
        return
    try:
        with open(output, "wb") as f:
            f.write(data)
    except OSError as exc:
        raise LibcliError("output_failed", output=output, reason=exc.strerror) from exc
    say(_("{count} dates written to {file}.").format(count=events, file=output), err=True)


def _subscribe(client) -> None:
    from libcli.output import say

    url = client.calendar_subscribe()
    say(url)
    say(
        _(
            "Subscribe to this URL in your calendar app. Keep it secret: whoever has it sees"
            " your dates. `libcli calendar --revoke` ends it; so does a password change."
        ),
        err=True,
    )


def _revoke(client) -> None:
    from libcli.output import say

    if client.calendar_revoke():
        say(_("Calendar feed ended: its URL no longer works."))
    else:
        say(_("There was no calendar feed to end."))
