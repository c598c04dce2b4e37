"""Catalogue commands: search and show (R9: search the catalogue; R5–R8 verdicts)."""

from __future__ import annotations

from typing import Any

import click

from libcli import views
from libcli.cli.base import command, complete_titles, json_output, option, pass_app
from libcli.i18n import _
from libcli.vocab import MATERIAL_TYPES


def verdict_cell(item: dict[str, Any]) -> str:
    """'can be reserved' or the server's reason in the patron's words (red on a terminal)."""
    from libcli.output import Refused
    from libcli.vocab import reason_text

    if item.get("reservable"):
        return _("can be reserved")
    return Refused(_("Cannot be reserved. {reason}").format(reason=reason_text(item.get("reason"))))


def total_text(total: int, exact: bool) -> str:
    """A search total for people: 5,809, or "up to 5,809" when the server's is a bound."""
    if exact:
        return f"{total:,}"
    return _("up to {total}").format(total=f"{total:,}")


def _given(text: str | None) -> bool:
    return bool(text and "".join(text.split()))


def _page_was_full(result: dict[str, Any], limit: int, fetched_to: int) -> bool:
    """--all: another page may follow (bounded by the server's total, even a lying one)."""
    total = result.get("total")
    page = result.get("items")
    return (
        isinstance(page, list)
        and len(page) == limit
        and isinstance(total, int)
        and (fetched_to < total)
    )


@command()
@click.argument("query", required=False)
@option(
    "--title",
    "title_text",
    metavar="TEXT",
    help="Only titles whose title (or its reading) holds TEXT.",
)
@option("--author", metavar="TEXT", help="Only titles whose author (or reading) holds TEXT.")
@option("--publisher", metavar="TEXT", help="Only titles whose publisher holds TEXT.")
@option("--isbn", metavar="ISBN", help="Only the title with this ISBN (10 or 13 digits).")
@option("--reservable", is_flag=True, help="Only titles you can reserve online now.")
@option(
    "--type",
    "material_type",
    type=click.Choice(list(MATERIAL_TYPES)),
    help="Only this material type.",
)
@option(
    "--limit",
    type=click.IntRange(1, 100),
    default=20,
    show_default=True,
    help="How many titles to show (with --all: how many each request fetches).",
)
@option("--offset", type=click.IntRange(0), default=0, help="Skip this many titles (paging).")
@option("--all", "every", is_flag=True, help="Fetch every matching title, page by page.")
@json_output(views.SEARCH)
@pass_app
def search(
    app,
    out,
    query: str | None,
    title_text: str | None,
    author: str | None,
    publisher: str | None,
    isbn: str | None,
    reservable: bool,
    material_type: str | None,
    limit: int,
    offset: int,
    every: bool,
) -> None:
    """Search the catalogue by title, author, publisher or ISBN.

    QUERY is matched against all of them and their readings (kana or romaji); the
    options narrow the search, and QUERY may be left out when one of them is given.

    Each title shows how many copies are on the shelf and whether it can be reserved
    online, with the reason when not.
    """
    from libcli.output import LongText, say, table
    from libcli.vocab import label

    fields = {
        "title": title_text,
        "author": author,
        "publisher": publisher,
        "isbn": isbn,
        "type": material_type,
        "reservable": reservable,
    }
    if not any(_given(v) for v in (query, title_text, author, publisher, isbn)):
        from libcli.errors import UsageProblem

        raise UsageProblem("empty_query")  # one line, before a request is spent on it
    client = app.public_client()
    result = client.search(query, limit=limit, offset=offset, **fields)
    items = list(result.get("items", []))
    while every and _page_was_full(result, limit, offset + len(items)):
        result = client.search(query, limit=limit, offset=offset + len(items), **fields)
        items += result.get("items", [])
    app.remember(titles=[{"id": i.get("id"), "title": i.get("title")} for i in items])
    total = result.get("total")
    more = not every and items and isinstance(total, int) and total > offset + len(items)
    shown = total_text(total, result.get("total_exact", True)) if more else ""
    if out.json:
        out.emit(items)
        if more:
            say(
                _("{shown} of {total}; --offset {next} or --all").format(
                    shown=len(items), total=shown, next=offset + len(items)
                ),
                err=True,
            )
        return
    rows = [
        (
            i.get("id"),
            i.get("title"),
            i.get("author"),
            i.get("year"),
            label(MATERIAL_TYPES, i.get("type")),
            f"{i.get('available', 0)}/{i.get('copies', 0)}",
            verdict_cell(i),
        )
        for i in items
    ]
    headers = [
        _("ID"),
        LongText(_("Title")),
        LongText(_("Author")),
        _("Year"),
        _("Type"),
        _("On shelf"),
        LongText(_("Online")),
    ]
    table(headers, rows, empty=_("No titles found."))
    if more:
        say(
            _("{shown} of {total} titles; see more with --offset {next} or --all.").format(
                shown=len(items), total=shown, next=offset + len(items)
            ),
            err=True,
        )


@command()
@click.argument("title_id", shell_complete=complete_titles)
@json_output(views.SHOW)
@pass_app
def show(app, out, title_id: str) -> None:
    """Show one title: its copies (point, 禁帯区分, 状態, due date) and the online verdict."""
    from libcli.output import LongText, say, table
    from libcli.vocab import COPY_STATES, LOAN_CATEGORIES, label

    item = app.public_client().title(title_id)
    copies = item.get("copies") if isinstance(item.get("copies"), list) else []
    app.remember(titles=[{"id": item.get("id"), "title": item.get("title")}])
    if out.json:
        out.emit(item)
        return
    fields = [
        (_("ID"), item.get("id")),
        (_("Title"), item.get("title")),
        (_("Author"), item.get("author")),
        (_("Publisher"), item.get("publisher")),
        (_("Year"), item.get("year")),
        (_("Type"), label(MATERIAL_TYPES, item.get("type"))),
        (_("ISBN"), item.get("isbn")),
        (_("Online"), verdict_cell(item)),
    ]
    rows = [(k, "-" if v in (None, "") else v) for k, v in fields]
    table([_("Item"), LongText(_("Value"))], rows)
    say("")
    rows = [
        (
            c.get("barcode"),
            app.library.point_name(c.get("point")),
            label(LOAN_CATEGORIES, bool(c.get("loanable"))),
            label(COPY_STATES, c.get("state")),
            c.get("due_date") or "",
        )
        for c in copies
    ]
    headers = [_("Barcode"), _("Service point"), _("Loan category"), _("State"), _("Due date")]
    table(headers, rows, empty=_("The library holds no copy of this title."))
