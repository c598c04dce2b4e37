"""Reservations: reserve (R9, R10), status (R11), cancel (R12)."""

from __future__ import annotations

from typing import Any

import click

from libcli import views
from libcli.cli.base import (
    CONTACT,
    POINT,
    RESERVATION,
    all_profiles_option,
    command,
    complete_reservations,
    complete_titles,
    confirm,
    each_profile,
    exit_with,
    json_output,
    option,
    pass_app,
    yes_option,
)
from libcli.i18n import _


def _rid(value: Any) -> Any:
    """Reservation ids as the server spells them (numbers stay numbers in JSON)."""
    text = str(value)
    return int(text) if text.isdigit() else text


def _choose(app, key: str, value: Any, option_name: str, param_type: Any, yes: bool) -> Any:
    """flag > env > config > a prompt on a terminal; a usage error for scripts."""
    from libcli.errors import UsageProblem
    from libcli.output import stdin_is_tty

    if value is not None:
        return value
    configured = app.settings.get(key)
    if configured is not None:
        return configured
    if yes or not stdin_is_tty():
        raise UsageProblem("choice_needed", option=option_name, key=key)
    from libcli.vocab import CONTACT_METHODS, label

    library = app.library
    if key == "pickup":
        choices = ", ".join(f"{code}={library.point_name(code)}" for code in library.points)
        question = _("Pickup point")
    else:
        choices = ", ".join(
            f"{code}={label(CONTACT_METHODS, code)}" for code in library.contact_methods
        )
        question = _("Contact method")
    ctx = click.get_current_context()  # the patron's profile decides what the library has
    return click.prompt(
        f"{question} ({choices})", value_proc=lambda v: param_type.convert(v, None, ctx), err=True
    )


@command()
@click.argument("title_ids", nargs=-1, shell_complete=complete_titles)
@option(
    "--favorites", "from_favorites", is_flag=True, help="Reserve every title in your favorites."
)
@option(
    "--pickup",
    type=POINT,
    help="Where you collect the titles: a service point's code or name"
    " (default: the config file's `pickup`).",
)
@option(
    "--contact",
    type=CONTACT,
    help="How the library tells you the titles are ready for pickup"
    " (default: the config file's `contact`).",
)
@option(
    "--email-confirmation/--no-email-confirmation",
    default=None,
    help="Send a confirmation mail (default: the config file, else no).",
)
@option(
    "--fill",
    is_flag=True,
    help="For cron: reserve what can be reserved now, in list order up to the limit, without"
    " questions; refusals (the limit, a title on the shelf) are expected and exit 0.",
)
@yes_option
@json_output(views.RESERVE)
@pass_app
def reserve(
    app,
    out,
    title_ids: tuple[str, ...],
    from_favorites: bool,
    pickup: str | None,
    contact: str | None,
    email_confirmation: bool | None,
    fill: bool,
    yes: bool,
) -> None:
    """Reserve titles for pickup at a service point.

    Every title is shown with its verdict first; those that cannot be reserved online
    are marked (red on a terminal) with the reason and dropped. Then the pickup point,
    contact method and confirmation mail are shown and you confirm (--yes skips the
    question; without a terminal --yes is required). Exits with 5 when any title was
    not reserved.

    With --fill (for cron: `reserve --favorites --fill` as slots free up) nothing is asked,
    only what was reserved is printed (refusals are listed by --json), and refusals exit 0:
    only an error exits non-zero.
    """
    from libcli.cli.catalogue import verdict_cell
    from libcli.errors import NotFoundError, UsageProblem
    from libcli.exit_codes import ExitCode
    from libcli.output import LongText, Refused, say, stdout_is_tty, table
    from libcli.vocab import CONTACT_METHODS, label, reason_text

    client = app.client()
    candidates: list[dict[str, Any]] = []
    if from_favorites:
        candidates.extend(client.favorites())
    known = {str(c.get("id")) for c in candidates}
    for title_id in dict.fromkeys(title_ids):
        if title_id in known:
            continue
        try:
            candidates.append(client.title(title_id))
        except NotFoundError:
            candidates.append({"id": title_id, "reservable": False, "reason": "not_found"})
    if not candidates and not fill:
        raise UsageProblem("nothing_to_reserve")
    yes = yes or fill
    _apply_limit(client, candidates)

    preview_err = out.json or not stdout_is_tty()  # keep stdout for the results
    if not fill:
        table(
            [_("ID"), LongText(_("Title")), LongText(_("Online"))],
            [(c.get("id"), c.get("title") or "", verdict_cell(c)) for c in candidates],
            err=preview_err,
        )
    wanted = [c for c in candidates if c.get("reservable")]
    skipped = [
        {"id": c.get("id"), "title": c.get("title"), "reason": c.get("reason")}
        for c in candidates
        if not c.get("reservable")
    ]
    reserved: list[dict[str, Any]] = []

    if wanted:
        pickup = _choose(app, "pickup", pickup, "--pickup", POINT, yes)
        contact = _choose(app, "contact", contact, "--contact", CONTACT, yes)
        if email_confirmation is None:
            email_confirmation = _ask_confirmation_mail(app, yes)
        if not fill:
            say(
                _("Pickup: {pickup}   Contact: {contact}   Confirmation mail: {mail}").format(
                    pickup=app.library.point_name(pickup),
                    contact=label(CONTACT_METHODS, contact),
                    mail=_("yes") if email_confirmation else _("no"),
                ),
                err=preview_err,
            )
        if not confirm(_("Reserve {count} title(s)?").format(count=len(wanted)), yes=yes):
            say(_("Nothing was reserved."), err=True)
            return
        result = client.reserve(
            [w["id"] for w in wanted],
            pickup=pickup,
            contact=contact,
            email_confirmation=email_confirmation,
        )
        parts = views.RESERVE.parts  # every record with its keys, whatever the server left out
        reserved = [parts["reserved"].pick(r, None) for r in result.get("reserved") or []]
        skipped += [parts["skipped"].pick(s, None) for s in result.get("skipped") or []]
        _remember(app, reserved)

    if out.json:
        out.emit({"reserved": reserved, "skipped": skipped})
    elif fill:
        if reserved:
            table(
                [_("Reservation"), _("ID"), LongText(_("Title")), LongText(_("Result"))],
                [
                    (r["reservation_id"], r["id"], r.get("title") or "", _("reserved"))
                    for r in reserved
                ],
            )
    else:
        rows = [
            (
                r["reservation_id"],
                r["id"],
                r.get("title") or "",
                _("reserved (queue position {position})").format(position=r.get("position"))
                if r.get("position")
                else _("reserved"),
            )
            for r in reserved
        ] + [
            (
                "-",
                s["id"],
                s.get("title") or "",
                Refused(_("Not reserved. {reason}").format(reason=reason_text(s.get("reason")))),
            )
            for s in skipped
        ]
        table([_("Reservation"), _("ID"), LongText(_("Title")), LongText(_("Result"))], rows)
    exit_with(ExitCode.REFUSED if skipped and not fill else ExitCode.OK)


def _apply_limit(client, candidates: list[dict[str, Any]]) -> None:
    """R3 in the preview: titles beyond the patron's room under the reservation limit are
    marked `limit_reached` before the question, as the server would refuse them. The server
    still decides; a preview that cannot be made leaves the verdicts as they were."""
    from libcli.errors import LibcliError

    try:
        limit = client.library().get("reservation_limit")
        active = len(client.status().get("reservations") or [])
    except LibcliError:
        return
    if not isinstance(limit, int):
        return
    room = max(0, limit - active)
    for candidate in [c for c in candidates if c.get("reservable")][room:]:
        candidate["reservable"] = False
        candidate["reason"] = "limit_reached"


def _ask_confirmation_mail(app, yes: bool) -> bool:
    """R9: the patron chooses whether a confirmation mail is sent. A configured choice
    (flag, env, config file) stands; a terminal without one is asked; scripts get no mail."""
    from libcli.output import stdin_is_tty

    value, source = app.settings.lookup("email_confirmation")
    if source != "default" or yes or not stdin_is_tty():
        return bool(value)
    return click.confirm(_("Send a confirmation mail?"), default=bool(value), err=True)


def _remember(app, reserved: list[dict[str, Any]]) -> None:
    from libcli import cache

    data = cache.load(app.profile)
    gone = {str(r["id"]) for r in reserved}
    favorites = [f for f in data.get("favorites", []) if str(f.get("id")) not in gone]
    reservations = data.get("reservations", []) + [
        {"id": r["reservation_id"], "title": r.get("title"), "status": "waiting"} for r in reserved
    ]
    app.remember(favorites=favorites, reservations=reservations)


def _reservation_state(r: dict[str, Any]) -> str:
    from libcli.vocab import RESERVATION_STATES, label

    text = label(RESERVATION_STATES, r.get("status"))
    if r.get("suspended_until"):
        text = _("{state}, suspended until {date}").format(state=text, date=r["suspended_until"])
    if r.get("status") == "waiting" and r.get("position"):
        return _("{state} (No. {position} in the queue)").format(state=text, position=r["position"])
    if r.get("status") == "ready" and r.get("pickup_deadline"):
        return _("{state} (until {date})").format(state=text, date=r["pickup_deadline"])
    return text


@command()
@all_profiles_option
@json_output(views.STATUS)
@pass_app
def status(app, out, all_profiles: bool) -> None:
    """Show your loans (with due dates) and reservations (利用状況参照).

    A waiting reservation shows its place in the queue; a ready one (受取可) the last day
    to collect it at the pickup point. With --all-profiles, every card of the family in
    one view, grouped by card (`--json`: a list of {"profile", "card", "loans",
    "reservations"}).
    """
    from libcli.exit_codes import ExitCode
    from libcli.output import emit_json, say, stdout_is_tty

    cards: list[dict[str, Any]] = []

    def read(member) -> None:
        data = _read_status(member)
        cards.append({"profile": member.profile, "card": member.card, "app": member, **data})

    failed = each_profile(app, all_profiles, read)
    if out.json:
        if all_profiles:
            emit_json(
                [
                    {
                        "profile": c["profile"],
                        "card": c["card"],
                        **views.STATUS.render(c, out.fields),
                    }
                    for c in cards
                ]
            )
        else:
            out.emit(cards[0])
    else:
        tty = stdout_is_tty()
        for number, c in enumerate(cards):
            if all_profiles and tty:
                say(("\n" if number else "") + f"== {c['profile']} ({c['card']}) ==")
            prefix = (c["profile"],) if all_profiles and not tty else ()
            _show_status(c["app"], c["loans"], c["reservations"], prefix)
    exit_with(failed or ExitCode.OK)


def _read_status(app) -> dict[str, Any]:
    """The patron's loans and reservations; the reservations are kept for TAB."""
    from libcli.app import LIBRARY_MAX_AGE

    client = app.client()
    data = client.status()
    app.refresh_library(client, max_age=LIBRARY_MAX_AGE)
    loans = data.get("loans", [])
    reservations = data.get("reservations", [])
    app.remember(
        reservations=[
            {"id": r.get("reservation_id"), "title": r.get("title"), "status": r.get("status")}
            for r in reservations
        ]
    )
    return {"loans": loans, "reservations": reservations}


def _show_status(app, loans: list, reservations: list, prefix: tuple[str, ...] = ()) -> None:
    """The two tables; piped, every row starts with `prefix` (the profile) and its kind."""
    from libcli.output import LongText, say, stdout_is_tty, table
    from libcli.vocab import CONTACT_METHODS, label

    tty = stdout_is_tty()
    # Piped, every row starts with its kind so one stream stays easy to cut(1).
    loan_rows = [
        (*(() if tty else (*prefix, "loan")), x.get("barcode"), x.get("title"), x.get("due_date"))
        for x in loans
    ]
    if tty:
        say(_("Loans"))
    table([_("Barcode"), LongText(_("Title")), _("Due date")], loan_rows, empty=_("No loans."))
    if tty:
        say("")
        say(_("Reservations"))
    res_rows = [
        (
            *(() if tty else (*prefix, "reservation")),
            r.get("reservation_id"),
            r.get("title"),
            _reservation_state(r),
            app.library.point_name(r.get("pickup")),
            label(CONTACT_METHODS, r.get("contact")),
        )
        for r in reservations
    ]
    table(
        [
            _("Reservation"),
            LongText(_("Title")),
            LongText(_("State")),
            LongText(_("Pickup")),
            _("Contact"),
        ],
        res_rows,
        empty=_("No reservations."),
    )


@command()
@click.argument(
    "reservation_ids",
    nargs=-1,
    required=True,
    type=RESERVATION,
    shell_complete=complete_reservations,
)
@yes_option
@json_output(views.CANCEL)
@pass_app
def cancel(app, out, reservation_ids: tuple[str, ...], yes: bool) -> None:
    """Cancel reservations.

    A reservation that is ready for pickup (受取可) cannot be cancelled online: phone the
    library. Exits with 5 when any reservation was refused, 6 when one was not found.
    """
    from libcli import cache
    from libcli.errors import NotFoundError, RefusedError
    from libcli.exit_codes import ExitCode
    from libcli.output import refused, say

    ids = [_rid(r) for r in dict.fromkeys(reservation_ids)]
    titles = {str(e["id"]): e.get("title") for e in cache.entries(app.profile, "reservations")}
    client = app.client()
    question = _("Cancel {count} reservation(s)?").format(count=len(ids))
    known = [t for t in (titles.get(str(i)) for i in ids) if t]
    if known:
        question = f"{question} ({', '.join(known)})"
    if not confirm(question, yes=yes):
        say(_("Nothing was cancelled."), err=True)
        return

    cancelled: list[Any] = []
    problems: list[dict[str, Any]] = []
    for rid in ids:
        try:
            client.cancel(rid)
        except NotFoundError:
            problems.append({"reservation_id": rid, "reason": "not_found"})
            refused(_("Reservation {id} was not found.").format(id=rid), err=out.json)
            continue
        except RefusedError as exc:
            if exc.code == "already_cancelled":  # the patron's wish is already true
                cancelled.append(rid)
                if not out.json:
                    say(_("Reservation {id} was already cancelled.").format(id=rid))
                continue
            problems.append({"reservation_id": rid, "reason": exc.code})
            if exc.code == "ready_cannot_cancel" and not exc.params.get("phone"):
                exc.params["phone"] = _library_phone(client)
            refused(
                _("Reservation {id}: {message}").format(id=rid, message=exc.message()),
                err=out.json,
            )
            continue
        cancelled.append(rid)
        if not out.json:
            say(_("Cancelled reservation {id}.").format(id=rid))

    left = [e for e in cache.entries(app.profile, "reservations") if _rid(e["id"]) not in cancelled]
    app.remember(reservations=left)
    if out.json:
        out.emit({"cancelled": cancelled, "refused": problems})
    if any(p["reason"] != "not_found" for p in problems):
        exit_with(ExitCode.REFUSED)
    exit_with(ExitCode.NOT_FOUND if problems else ExitCode.OK)


def _library_phone(client) -> str | None:
    from libcli.errors import LibcliError

    try:
        return client.library().get("phone")
    except LibcliError:
        return None
