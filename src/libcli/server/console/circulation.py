"""Lending, returns and the call that a hold is ready."""

from __future__ import annotations

import click

from libcli.server.console.base import DATE, Context, command, main
from libcli.server.console.output import say, t
from libcli.server.console.terms import POINT
from libcli.server.i18n import N_


@command(main, "checkout")
@click.argument("card")
@click.argument("barcode")
@click.option("--date", type=DATE)
def checkout(ctx: Context, card: str, barcode: str, date) -> None:
    """Lend a copy to a patron (from the shelf or the hold shelf)."""
    from libcli.server.service import circulation

    with ctx.db.write() as session:
        loan = circulation.checkout(session, ctx.settings, card, barcode, ctx.today(date))
        due = loan.due_on.isoformat()
    say(t(N_("{barcode} lent to {card}, due {due}")).format(barcode=barcode, card=card, due=due))


@command(main, "checkin")
@click.argument("barcode")
@click.option(
    "--at", "at", type=POINT, help="Service point where it is checked in (default: its own)."
)
@click.option("--date", type=DATE)
def checkin(ctx: Context, barcode: str, at: str | None, date) -> None:
    """R22: a copy comes back or arrives; it goes to the first waiting reservation."""
    from libcli.server.service import circulation

    with ctx.db.write() as session:
        result = circulation.checkin(session, ctx.settings, barcode, at, ctx.today(date))
    if result["reservation_id"]:
        if result["reservation_status"] == "ready":
            text = N_("{barcode}: ready for reservation {id}: put it on the hold shelf ({pickup})")
        else:
            text = N_("{barcode}: in transit for reservation {id}: send it to {pickup}")
        say(t(text).format(barcode=barcode, id=result["reservation_id"], pickup=result["pickup"]))
    elif result["state"] == "in_transit":
        say(
            t(N_("{barcode}: in transit: send it to {location}")).format(
                barcode=barcode, location=result["location"]
            )
        )
    else:
        say(
            t(N_("{barcode}: on the shelf at {location}")).format(
                barcode=barcode, location=result["location"]
            )
        )


@command(main, "contacted")
@click.argument("reservation_id", type=int)
@click.option("--date", type=DATE, help="Day of the call (default: today).")
def contacted(ctx: Context, reservation_id: int, date) -> None:
    """Record the phone / ring / voicemail contact of a ready hold (R13, R14)."""
    from libcli.server.service import circulation

    with ctx.db.write() as session:
        hold_row = circulation.contacted(session, ctx.settings, reservation_id, ctx.today(date))
        until = hold_row.pickup_deadline.isoformat()
    say(t(N_("reservation {id}: keep until {until}")).format(id=reservation_id, until=until))


@command(main, "renew")
@click.argument("card")
@click.argument("barcode")
@click.option("--date", type=DATE, help="Day of the renewal (default: today).")
def renew(ctx: Context, card: str, barcode: str, date) -> None:
    """Renew a patron's loan at the counter (延長); a refusal says why."""
    from libcli.server.errors import LibraryError
    from libcli.server.service import loans

    with ctx.db.write() as session:
        result = loans.renew(session, ctx.settings, card, [barcode], ctx.today(date))
    for row in result["skipped"]:
        raise LibraryError(row["reason"], barcode)
    for row in result["renewed"]:
        due = row["due_date"]
        say(
            t(N_("{barcode} renewed for {card}, due {due}")).format(
                barcode=barcode, card=card, due=due
            )
        )
