"""Patrons at the counter."""

from __future__ import annotations

import sys

import click

from libcli.server.console.base import DATE, Context, command, main


@main.group("patron")
def patron() -> None:
    """Patrons: register a card, issue a password at the counter (R2)."""


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
    click.echo(f"patron {card} added")


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
    click.echo(f"password issued for {card}" if given else password)
