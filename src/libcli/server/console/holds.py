"""Counter reservations and the hold shelf."""

from __future__ import annotations

import json

import click

from libcli.server.console.base import DATE, Context, command, main


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
