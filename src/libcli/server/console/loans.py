"""Loans at the counter: who has what, and what is overdue."""

from __future__ import annotations

import click

from libcli.server.console.base import DATE, Context, command, main
from libcli.server.console.output import Column, json_option, listing
from libcli.server.i18n import N_

LOAN_COLUMNS = (
    Column("barcode", N_("Barcode")),
    Column("title", N_("Title"), long=True),
    Column("card", N_("Card")),
    Column("name", N_("Name"), long=True),
    Column("checked_out_on", N_("Lent")),
    Column("due_date", N_("Due")),
)
OVERDUE_COLUMNS = (*LOAN_COLUMNS, Column("days_overdue", N_("Days overdue")))


@main.group("loan")
def loan() -> None:
    """Loans (貸出): who has what, what is overdue."""


@command(loan, "list")
@click.option("--overdue", is_flag=True, help="Only loans past their due date.")
@click.option("--patron", "card", metavar="CARD", help="Only the loans of this card.")
@click.option("--date", type=DATE, help="The day overdue is counted on (default: today).")
@json_option
def loan_list(ctx: Context, overdue: bool, card: str | None, date, as_json: bool) -> None:
    """Open loans, the oldest due date first."""
    from libcli.server.service import accounts, circulation

    with ctx.db.read() as session:
        if card is not None:
            accounts.get_patron(session, card)  # an unknown card is an error, not an empty list
        rows = circulation.loan_list(
            session, card=card, overdue_on=ctx.today(date) if overdue else None
        )
    listing(
        rows,
        OVERDUE_COLUMNS if overdue else LOAN_COLUMNS,
        as_json=as_json,
        empty=N_("No loans."),
    )
