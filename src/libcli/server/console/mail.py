"""Mail to patrons: the outbox and delivery."""

from __future__ import annotations

import json

import click

from libcli.server.console.base import Context, command, main


@main.group("mail")
def mail_group() -> None:
    """Mail to patrons: the outbox and delivery."""


@command(mail_group, "list")
@click.option("--json", "as_json", is_flag=True)
def mail_list(ctx: Context, as_json: bool) -> None:
    """Mail sent or waiting: to, subject, date, body."""
    from libcli.server import mail

    with ctx.db.read() as session:
        mails = mail.list_mail(session)
    if as_json:
        click.echo(json.dumps(mails, ensure_ascii=False, indent=2))
        return
    for m in mails:
        click.echo(f"{m['date']}\t{m['to']}\t{m['subject']}")


@command(mail_group, "deliver")
def mail_deliver(ctx: Context) -> None:
    """Send mail still waiting (SMTP if configured, else the outbox folder)."""
    from libcli.server import mail

    click.echo(f"{mail.deliver_pending(ctx.db, ctx.settings)} mail(s) delivered")
