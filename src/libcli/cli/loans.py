"""Loans between visits: renew (延長)."""

from __future__ import annotations

import click

from libcli import views
from libcli.cli.base import command, exit_with, json_output, option, pass_app
from libcli.i18n import _


@command()
@click.argument("barcodes", nargs=-1)
@option("--all", "every", is_flag=True, help="Renew every loan.")
@json_output(views.RENEW)
@pass_app
def renew(app, out, barcodes: tuple[str, ...], every: bool) -> None:
    """Renew loans (延長), named by the barcode of the copy in hand.

    Each loan is renewed or refused with the reason: overdue, renewed as often as the
    library allows, or another patron waiting for the title. The new due date is
    counted from today. Exits with 5 when any loan was not renewed, 6 when a barcode is
    not one of your loans.
    """
    from libcli.errors import UsageProblem
    from libcli.exit_codes import ExitCode
    from libcli.output import LongText, Refused, table
    from libcli.vocab import reason_text

    if bool(barcodes) == every:
        raise UsageProblem("renew_what")
    result = app.client().renew(None if every else list(dict.fromkeys(barcodes)))
    parts = views.RENEW.parts
    renewed = [parts["renewed"].pick(r, None) for r in result.get("renewed") or []]
    skipped = [parts["skipped"].pick(s, None) for s in result.get("skipped") or []]
    if out.json:
        out.emit({"renewed": renewed, "skipped": skipped})
    else:
        rows = [
            (
                r["barcode"],
                r.get("title") or "",
                _("renewed, due {date}").format(date=r["due_date"]),
            )
            for r in renewed
        ] + [
            (
                s["barcode"],
                s.get("title") or "",
                Refused(_("not renewed: {reason}").format(reason=reason_text(s.get("reason")))),
            )
            for s in skipped
        ]
        table(
            [_("Barcode"), LongText(_("Title")), LongText(_("Result"))], rows, empty=_("No loans.")
        )
    if any(s["reason"] != "not_found" for s in skipped):
        exit_with(ExitCode.REFUSED)
    exit_with(ExitCode.NOT_FOUND if skipped else ExitCode.OK)
