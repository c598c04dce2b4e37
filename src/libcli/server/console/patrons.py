"""Patrons at the counter."""

from __future__ import annotations

import sys

import click

from libcli.exit_codes import ExitCode
from libcli.server.console.base import DATE, Context, command, main
from libcli.server.console.output import (
    Column,
    ConsoleProblem,
    json_option,
    listing,
    record,
    say,
    t,
)
from libcli.server.console.terms import reservation_state
from libcli.server.i18n import N_

PATRON_COLUMNS = (
    Column("card", N_("Card")),
    Column("name", N_("Name"), long=True),
    Column("email", N_("Email"), long=True),
    Column("phone", N_("Phone")),
    Column("password_issued_on", N_("Password issued")),
    Column("active", N_("Active")),
)
SHOW_COLUMNS = (
    *PATRON_COLUMNS,
    Column("created_at", N_("Registered")),
    Column("deactivated_at", N_("Deactivated")),
    Column("favorites", N_("Favorites")),
)
PATRON_LOAN_COLUMNS = (
    Column("barcode", N_("Barcode")),
    Column("title", N_("Title"), long=True),
    Column("checked_out_on", N_("Lent")),
    Column("due_date", N_("Due")),
)
PATRON_HOLD_COLUMNS = (
    Column("reservation_id", N_("Reservation")),
    Column("id", N_("Title ID")),
    Column("status", N_("Status"), label=reservation_state),
    Column("pickup", N_("Pickup")),
    Column("contact", N_("Contact")),
    Column("pickup_deadline", N_("Keep until")),
)


@main.group("patron")
def patron() -> None:
    """Patrons: register, find, show, correct and deactivate a card; issue a password (R2)."""


@command(patron, "add")
@click.argument("card")
@click.option("--name", required=True)
@click.option("--email")
@click.option("--phone")
def patron_add(ctx: Context, card: str, name: str, email: str | None, phone: str | None) -> None:
    """Register a library card (9 digits)."""
    from libcli.server.service import accounts

    with ctx.db.write() as session:
        accounts.add_patron(session, ctx.settings, card, name, email, phone)
    say(t(N_("patron {card} added")).format(card=card))


@command(patron, "issue-password")
@click.argument("card")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--date", type=DATE, help="Day of issue (default: today).")
def patron_issue_password(ctx: Context, card: str, password_stdin: bool, date) -> None:
    """R2: issue a password after the identity check; prints a generated one unless given."""
    from libcli.server.service import accounts

    given = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    with ctx.db.write() as session:
        password = accounts.issue_password(session, ctx.settings, card, given, ctx.today(date))
    if given:
        say(t(N_("password issued for {card}")).format(card=card))
    else:
        click.echo(password)


@command(patron, "list")
@click.option("--query", help="Part of the card number, name, email or phone.")
@json_option
def patron_list(ctx: Context, query: str | None, as_json: bool) -> None:
    """Patrons by card number (at most 200; narrow with --query)."""
    from libcli.server.service import patrons

    with ctx.db.read() as session:
        rows = patrons.list_patrons(session, query)
    listing(rows, PATRON_COLUMNS, as_json=as_json, empty=N_("No patrons."))


@command(patron, "show")
@click.argument("card")
@json_option
def patron_show(ctx: Context, card: str, as_json: bool) -> None:
    """A patron with their loans, reservations and how many favorites."""
    from libcli.server.service import patrons

    with ctx.db.read() as session:
        data = patrons.show(session, card)
    record(data, SHOW_COLUMNS, as_json=as_json)
    if as_json:
        return
    say("")
    say(t(N_("Loans")))
    listing(data["loans"], PATRON_LOAN_COLUMNS, as_json=False, empty=N_("No loans."))
    say("")
    say(t(N_("Reservations")))
    listing(data["reservations"], PATRON_HOLD_COLUMNS, as_json=False, empty=N_("No reservations."))


@command(patron, "edit")
@click.argument("card")
@click.option("--name")
@click.option("--email", help="A new email address; an empty one removes it.")
@click.option("--phone", help="A new phone number; an empty one removes it.")
@json_option
def patron_edit(
    ctx: Context,
    card: str,
    name: str | None,
    email: str | None,
    phone: str | None,
    as_json: bool,
) -> None:
    """Correct a patron's name, email or phone."""
    from libcli.server.service import patrons

    if name is None and email is None and phone is None:
        raise click.UsageError(t(N_("Give at least one of --name, --email, --phone.")))
    with ctx.db.write() as session:
        data = patrons.edit(session, card, name=name, email=email, phone=phone)
    if as_json:
        record(data, PATRON_COLUMNS, as_json=True)
        return
    say(t(N_("patron {card} updated")).format(card=card))


@command(patron, "deactivate")
@click.argument("card")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@json_option
def patron_deactivate(ctx: Context, card: str, yes: bool, as_json: bool) -> None:
    """The card is no longer in use: it cannot log in or reserve any more; its sessions end.
    Asks for confirmation unless --yes."""
    from libcli.output import stdin_is_tty
    from libcli.server.service import patrons

    with ctx.db.read() as session:
        shown = patrons.show(session, card)
    if not yes:
        if not stdin_is_tty():
            raise ConsoleProblem(
                t(N_("Deactivating a card needs confirmation: add --yes.")), ExitCode.USAGE
            )
        question = t(N_("Deactivate card {card} ({name})?")).format(card=card, name=shown["name"])
        if not click.confirm(question, default=False, err=True):
            raise ConsoleProblem(t(N_("Nothing changed.")), ExitCode.USAGE)
    with ctx.db.write() as session:
        data = patrons.deactivate(session, ctx.settings, card)
    if as_json:
        record(data, PATRON_COLUMNS, as_json=True)
        return
    say(t(N_("patron {card} deactivated")).format(card=card))
    if shown["loans"] or shown["reservations"]:
        say(
            t(N_("still open: {loans} loan(s), {holds} reservation(s)")).format(
                loans=len(shown["loans"]), holds=len(shown["reservations"])
            )
        )
