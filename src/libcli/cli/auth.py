"""Session commands: login, logout, whoami (R1)."""

from __future__ import annotations

import contextlib

import click

from libcli import views
from libcli.cli.base import (
    ask_password,
    command,
    json_output,
    option,
    pass_app,
    password_stdin_option,
    read_stdin_lines,
)
from libcli.i18n import _


@command()
@click.argument("card", required=False)
@password_stdin_option(help="Read the password from the first line of standard input.")
@option(
    "--insecure-storage",
    is_flag=True,
    help="Keep the session token in a 0600 file instead of the system keyring.",
)
@pass_app
def login(app, card: str | None, password_stdin: bool, insecure_storage: bool) -> None:
    """Log in with your library card number and password.

    CARD is the 9-digit number under the barcode of your card (default: the card of
    this profile). The session token is kept in the system keyring.
    """
    from libcli import credentials
    from libcli.errors import UsageProblem
    from libcli.output import say, stdin_is_tty, warn

    card = card or app.card
    if not card:
        if password_stdin or not stdin_is_tty():
            raise UsageProblem("card_needed")
        card = click.prompt(_("Card number"), err=True)
    from libcli.config import check_value

    card = check_value("card", card, app.profile)
    server = app.server
    app.ensure_private("card", "password")  # before the password is typed
    if not password_stdin and not stdin_is_tty():
        raise UsageProblem("password_needed")  # cron: a usage error before anything else
    if not insecure_storage:
        credentials.check_keyring()  # before the password is typed
    if password_stdin:
        (password,) = read_stdin_lines(1, _("the password"))
    else:
        password = ask_password(_("Password"))

    client = app.client(login=False)
    session = client.login(card, password)
    token = session.get("token")
    if not isinstance(token, str) or not token:
        from libcli.errors import ServerError

        raise ServerError("bad_response", status=200, url=server)
    try:
        stored = credentials.save_token(server, card, token, insecure_storage=insecure_storage)
    except Exception:
        client.token = token
        with contextlib.suppress(Exception):
            client.logout()  # do not leave a session nobody can use
        raise
    app.settings.set("card", card)
    app.settings.set("token_storage", stored.source)
    if app.settings.lookup("server")[1] == "flag":
        app.settings.set("server", server)
    app.refresh_library(client)  # its points and contact methods, for checks and TAB
    patron = session.get("patron") or {}
    say(
        _("Logged in as {name} (card {card}) at {server}.").format(
            name=patron.get("name") or card, card=card, server=server
        )
    )
    if insecure_storage:
        warn(
            _("Warning: the session token is stored in plain text in {where}.").format(
                where=stored.location
            )
        )


@command()
@pass_app
def logout(app) -> None:
    """Log out: end the session on the server and forget the token here."""
    from libcli import credentials
    from libcli.errors import ApiError, NotLoggedIn, UnreachableError
    from libcli.output import say, warn

    try:
        stored = app.token()
    except NotLoggedIn:
        say(_("You were not logged in."))
        return
    ended = True
    try:
        app.client().logout()
    except UnreachableError:
        if stored.source == "env":
            raise  # nothing here to forget: the variable is the patron's to unset
        ended = False  # like `gh auth logout`: forget it here anyway, and say what is left
    except ApiError as exc:
        if exc.code != "auth_required":
            raise
    if stored.source != "env":
        credentials.forget_token(app.server, app.card, app.settings.get("token_storage"))
        say(_("Logged out."))
        if not ended:
            warn(
                _(
                    "Warning: the library's server at {url} could not be reached, so the"
                    " session there was not ended; it ends by itself when it expires."
                    " The token is forgotten here."
                ).format(url=app.server)
            )
    else:
        say(_("Logged out. The session of LIBCLI_TOKEN has ended; unset the variable."))
    from libcli import cache

    cache.forget_patron(app.profile)


@command()
@pass_app
def token(app) -> None:
    """Print the session token of this profile, for LIBCLI_TOKEN in scripts and cron.

    Like `gh auth token`: `LIBCLI_TOKEN=$(libcli token) libcli status` works where no
    keyring does. Exits with 4 when logged out. Anyone holding the token acts as you until
    you run `libcli logout`; keep it out of shell history and shared files.
    """
    from libcli.output import say

    say(app.token().token)


@command()
@json_output(views.WHOAMI)
@pass_app
def whoami(app, out) -> None:
    """Show who is logged in, at which server, and where the token is stored (masked).

    Exits with 4 when logged out or when the session has ended.
    """
    from libcli.output import LongText, table

    stored = app.token()
    me = app.client().me()
    info = {
        "card": me.get("card"),
        "name": me.get("name"),
        "email": me.get("email"),
        "phone": me.get("phone"),
        "server": app.server,
        "profile": app.profile,
        "token_source": stored.source,
        "token_location": stored.location,
        "token": stored.masked,
        "session_expires_at": me.get("session_expires_at"),
    }
    if out.json:
        out.emit(info)
        return
    labels = {
        "card": _("Card"),
        "name": _("Name"),
        "email": _("Email"),
        "phone": _("Phone"),
        "server": _("Server"),
        "profile": _("Profile"),
        "token_location": _("Token stored in"),
        "token": _("Token"),
        "session_expires_at": _("Session expires"),
    }
    rows = [(label, info[key] or "-") for key, label in labels.items()]
    table([_("Item"), LongText(_("Value"))], rows)
