"""Account commands: password change (R16), forgotten password (R17), email address (R15),
reminder mails."""

from __future__ import annotations

import contextlib

import click

from libcli.cli.base import (
    ask_password,
    command,
    group,
    option,
    pass_app,
    password_stdin_option,
    read_stdin_lines,
)
from libcli.i18n import _


def reset_token(url_or_token: str) -> str:
    """The token from the mailed URL (…/reset?token=…), or the token itself."""
    from urllib.parse import parse_qs, urlsplit

    text = url_or_token.strip()
    if "://" in text or "?" in text:
        values = parse_qs(urlsplit(text).query).get("token")
        if values and values[0]:
            return values[0]
    return text


@command()
@password_stdin_option(
    help="Read passwords from standard input: the current one, then the new one"
    " (with --reset: only the new one)."
)
@option("--forgot", is_flag=True, help="Forgotten password: mail a reset link.")
@option("--card", metavar="CARD", help="With --forgot: your card number (default: this profile's).")
@option("--email", "email", metavar="ADDR", help="With --forgot: your registered email address.")
@option(
    "--reset",
    "reset",
    metavar="URL_OR_TOKEN",
    help="Set a new password with the link from the reset mail.",
)
@pass_app
def passwd(
    app,
    password_stdin: bool,
    forgot: bool,
    card: str | None,
    email: str | None,
    reset: str | None,
) -> None:
    """Change your password, or reset a forgotten one.

    \b
    libcli passwd
        change it (asks the current one)
    libcli passwd --forgot --email ADDR
        mail a reset link (for this profile's
        card, or another with --card CARD)
    libcli passwd --reset URL
        set a new one from that link
    """
    from libcli.errors import UsageProblem

    if forgot and reset:
        raise UsageProblem("options_conflict", first="--forgot", second="--reset")
    if (card or email) and not forgot:
        raise UsageProblem("option_needs", first="--card/--email", second="--forgot")
    if forgot:
        _forgot(app, card, email)
    elif reset:
        _reset(app, reset, password_stdin)
    else:
        _change(app, password_stdin)


def _change(app, password_stdin: bool) -> None:
    from libcli.output import say

    client = app.client()
    app.ensure_private("session_token", "password")  # before the passwords are typed
    if password_stdin:
        current, new = read_stdin_lines(2, _("the current password, then the new one"))
    else:
        current = ask_password(_("Current password"))
        new = ask_password(_("New password"), confirm=True)
    client.change_password(current, new)
    say(_("Password changed. Your other sessions have been logged out."))


def _forgot(app, card: str | None, email: str | None) -> None:
    from libcli.errors import UsageProblem
    from libcli.output import say

    card = card or app.card  # the profile's card when --card is not given
    if not card:
        raise UsageProblem("option_needs", first="--forgot", second="--card CARD")
    if not email:
        raise UsageProblem("option_needs", first="--forgot", second="--email ADDR")
    from libcli.config import check_value

    card = check_value("card", card, app.profile)
    app.ensure_private("card")
    app.client(login=False).request_password_reset(card, email)
    say(
        _(
            "If the card number and address match, a mail with a link was sent to {email}."
            " Open the link, or run `libcli passwd --reset URL`."
        ).format(email=email)
    )


def _reset(app, url_or_token: str, password_stdin: bool) -> None:
    from libcli import credentials
    from libcli.errors import LibcliError
    from libcli.output import say

    token = reset_token(url_or_token)
    app.ensure_private("token", "new_password")  # before the password is typed
    if password_stdin:
        (new,) = read_stdin_lines(1, _("the new password"))
    else:
        new = ask_password(_("New password"), confirm=True)
    app.client(login=False).confirm_password_reset(token, new)
    if app.card:
        # Every session ended on the server; drop the dead token here too.
        with contextlib.suppress(LibcliError):
            credentials.forget_token(app.server, app.card, app.settings.get("token_storage"))
    say(_("Password set. Log in again with `libcli login`."))


@group()
def email() -> None:
    """Your email address for the library's mails."""


@email.command("set")
@click.argument("address")
@password_stdin_option(help="Read the current password from the first line of standard input.")
@pass_app
def email_set(app, address: str, password_stdin: bool) -> None:
    """Set or change your email address; asks for the current password.

    The library then sends 「メールアドレス変更完了のお知らせ」 to the new address.
    """
    from libcli.output import say

    client = app.client()
    app.ensure_private("session_token", "password")  # before the password is typed
    if password_stdin:
        (current,) = read_stdin_lines(1, _("the current password"))
    else:
        current = ask_password(_("Current password"))
    me = client.change_email(address, current)
    say(
        _("Email address changed to {email}. A confirmation mail was sent there.").format(
            email=(me or {}).get("email") or address
        )
    )


@email.command("reminders")
@click.argument("switch", type=click.Choice(["on", "off"]))
@pass_app
def email_reminders(app, switch: str) -> None:
    """Turn reminder mails on or off: before a due date and on the first overdue day.

    The library mails a few days before a loan is due (how many is its setting), and
    once when it is overdue; each at most once per loan and due date.
    """
    from libcli.output import say, warn

    answer = app.client().set_reminders(switch == "on")
    if not answer.get("reminders"):
        say(_("Reminder mails are off."))
        return
    say(
        _(
            "Reminder mails are on: {days} days before a due date, and when a loan is overdue."
        ).format(days=answer.get("days"))
    )
    if not answer.get("email"):
        warn(_("No email address is registered yet: set one with `libcli email set ADDRESS`."))
