"""Mail to patrons: the outbox, its delivery state, the deliverer, retrying failed mail."""

from __future__ import annotations

import json

import click

from libcli.server.console.base import Context, command, main

_COLUMNS = ("id", "state", "attempts", "created_at", "to", "subject", "last_error")


@main.group("mail")
def mail_group() -> None:
    """Mail to patrons: the outbox, delivery and retries (docs/mail.md)."""


@command(mail_group, "list")
@click.option(
    "--state",
    type=click.Choice(["queued", "sending", "sent", "failed"]),
    help="Only mail in this delivery state.",
)
@click.option("--json", "as_json", is_flag=True)
def mail_list(ctx: Context, state: str | None, as_json: bool) -> None:
    """Mail queued, being sent, sent or failed: state, attempts, to, subject, last error."""
    from libcli.server import mail

    with ctx.db.read() as session:
        mails = mail.list_mail(session, state)
    if as_json:
        click.echo(json.dumps(mails, ensure_ascii=False, indent=2))
        return
    click.echo("\t".join(_COLUMNS))
    for m in mails:
        cells = (str(m[c] if m[c] is not None else "") for c in _COLUMNS)
        click.echo("\t".join(" ".join(cell.split()) for cell in cells))


@command(mail_group, "deliver")
@click.option("--loop", is_flag=True, help="Keep delivering until stopped (for systemd).")
def mail_deliver(ctx: Context, loop: bool) -> None:
    """Send the mail that is due (SMTP if configured, else the outbox folder), then exit."""
    from libcli.server import mail

    if not loop:
        click.echo(f"{mail.deliver_due(ctx.db, ctx.settings)} mail(s) delivered")
        return
    import signal
    import threading

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):  # finish the mail in hand, then stop
        signal.signal(signum, lambda *_: stop.set())
    mail.deliver_forever(ctx.db, ctx.settings, stop)


@command(mail_group, "retry")
@click.argument("mail_ids", nargs=-1, required=True, type=int, metavar="ID...")
def mail_retry(ctx: Context, mail_ids: tuple[int, ...]) -> None:
    """Put failed mail back in the queue, due now (the deliverer sends it)."""
    from libcli.server import mail

    with ctx.db.write() as session:
        retried = mail.retry(session, ctx.settings, list(mail_ids))
    for mail_id in mail_ids:
        if mail_id not in retried:
            click.echo(f"mail {mail_id}: not failed, left as it is", err=True)
    click.echo(f"{len(retried)} mail(s) queued again")
