"""Lending, returns and the call that a hold is ready."""

from __future__ import annotations

import click

from libcli.server.console.base import DATE, Context, command, main


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
    if result["reservation_id"]:
        click.echo(
            f"{barcode}: {result['reservation_status']} for reservation "
            f"{result['reservation_id']} (pickup {result['pickup']})"
        )
    else:
        click.echo(f"{barcode}: {result['state']} at {result['location']}")


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
