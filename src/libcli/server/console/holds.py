"""Counter reservations and the hold shelf."""

from __future__ import annotations

import click

from libcli.exit_codes import ExitCode
from libcli.server.console.base import DATE, Context, command, main
from libcli.server.console.output import (
    Column,
    ConsoleProblem,
    json_option,
    lang,
    listing,
    say,
    t,
)
from libcli.server.console.terms import CONTACT, POINT, reservation_state
from libcli.server.i18n import N_
from libcli.server.rules.holds import ACTIVE

HOLD_COLUMNS = (
    Column("reservation_id", N_("Reservation")),
    Column("card", N_("Card")),
    Column("id", N_("Title ID")),
    Column("status", N_("Status"), label=reservation_state),
    Column("pickup", N_("Pickup")),
    Column("contact", N_("Contact")),
    Column("contacted_on", N_("Contacted")),
    Column("pickup_deadline", N_("Keep until")),
    Column("suspended_until", N_("Suspended until")),
)
CALL_COLUMNS = (
    Column("reservation_id", N_("Reservation")),
    Column("ready_since", N_("Ready since")),
    Column("card", N_("Card")),
    Column("name", N_("Name"), long=True),
    Column("phone", N_("Phone")),
    Column("contact", N_("Contact")),
    Column("pickup", N_("Pickup")),
    Column("title", N_("Title"), long=True),
)


@main.group("hold")
def hold() -> None:
    """Counter reservations and the hold shelf."""


@command(hold, "place")
@click.argument("card")
@click.argument("title_id")
@click.option("--pickup", required=True, type=POINT, help="Pickup point: code or name.")
@click.option("--contact", required=True, type=CONTACT, help="Contact method: code or name.")
@click.option("--date", type=DATE)
def hold_place(ctx: Context, card: str, title_id: str, pickup: str, contact: str, date) -> None:
    """A counter reservation (magazines and AV allowed; counts toward the limit, R3)."""
    from libcli.server.errors import message
    from libcli.server.service import holds, reservations

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
        status = holds.statuses(session, [r["reservation_id"] for r in result["reserved"]])
    point = ctx.settings.profile.point(pickup)
    for r in result["reserved"]:
        rid, state = r["reservation_id"], status.get(r["reservation_id"])
        if state == "ready":
            text = t(N_("reservation {id}: {title}: ready for pickup at {point}"))
        elif state == "in_transit":
            text = t(N_("reservation {id}: {title}: a copy is on its way to {point}"))
        else:
            text = t(N_("reservation {id}: {title} (position {position})"))
        say(text.format(id=rid, title=r["title"], point=point.name(lang()), position=r["position"]))
    for s in result["skipped"]:
        raise ConsoleProblem(f"{title_id}: {message(s['reason'], lang())}", ExitCode.REFUSED)


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
    say(t(N_("reservation {id} cancelled")).format(id=reservation_id))


@command(hold, "list")
@click.option("--point", type=POINT, help="Only this pickup point.")
@click.option("--status", type=click.Choice(ACTIVE))
@click.option(
    "--awaiting-contact",
    is_flag=True,
    help="Only ready holds whose patron staff must still phone (phone, ring, voicemail), "
    "oldest first: the daily call list.",
)
@json_option
def hold_list(
    ctx: Context, point: str | None, status: str | None, awaiting_contact: bool, as_json: bool
) -> None:
    """Active reservations, e.g. the hold shelf of one point and who still needs a call."""
    from libcli.server.service import holds, reservations

    if awaiting_contact and status:
        raise click.UsageError(t(N_("--awaiting-contact lists ready holds: drop --status.")))
    with ctx.db.read() as session:
        if awaiting_contact:
            rows = holds.awaiting_contact(session, point=point)
        else:
            rows = reservations.active_list(session, point=point, status=status)
    listing(
        rows,
        CALL_COLUMNS if awaiting_contact else HOLD_COLUMNS,
        as_json=as_json,
        empty=N_("No reservations."),
    )


def report_awaiting_contact(ctx: Context) -> None:
    """One line for `run-daily`: how many ready holds still wait for a call."""
    from libcli.server.service import holds

    with ctx.db.read() as session:
        count = holds.count_awaiting_contact(session)
    say(
        t(
            N_("{count} ready hold(s) await a call: libcli-server hold list --awaiting-contact")
        ).format(count=count)
    )
