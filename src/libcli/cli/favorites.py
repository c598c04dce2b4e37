"""Favorites (お気に入り): the list a patron reserves from (R9)."""

from __future__ import annotations

import contextlib
from typing import Any

import click

from libcli import views
from libcli.cli.base import (
    complete_favorites,
    complete_titles,
    exit_with,
    group,
    json_output,
    pass_app,
)
from libcli.i18n import _


def remember_favorites(app, items: list[dict[str, Any]]) -> None:
    app.remember(favorites=[{"id": i.get("id"), "title": i.get("title")} for i in items])


def refresh_cache(app, client) -> None:
    from libcli.errors import LibcliError

    with contextlib.suppress(LibcliError):  # the cache is a convenience only
        remember_favorites(app, client.favorites())


@group()
def fav() -> None:
    """Your favorites (お気に入り): collect titles here, then `libcli reserve --favorites`."""


def _for_each_title(
    app, title_ids, change, done: str, missing: str, unchanged: str | None = None
) -> None:
    """Apply `change` to each title (False: nothing to change, said with `unchanged`);
    unknown ones are reported and end with exit 6."""
    from libcli.errors import NotFoundError
    from libcli.exit_codes import ExitCode
    from libcli.output import say, warn

    client = app.client()
    not_found = 0
    for title_id in title_ids:
        try:
            changed = change(client, title_id)
        except NotFoundError:
            not_found += 1
            warn(missing.format(id=title_id))
            continue
        say((done if changed is not False or unchanged is None else unchanged).format(id=title_id))
    refresh_cache(app, client)
    exit_with(ExitCode.NOT_FOUND if not_found else ExitCode.OK)


@fav.command("add")
@click.argument("title_ids", nargs=-1, required=True, shell_complete=complete_titles)
@pass_app
def fav_add(app, title_ids: tuple[str, ...]) -> None:
    """Add titles to your favorites."""
    _for_each_title(
        app,
        title_ids,
        lambda client, title_id: client.add_favorite(title_id),
        _("Added to favorites: {id}"),
        _("No such title: {id}."),
        _("Already in favorites: {id}"),
    )


@fav.command("list")
@json_output(views.FAV_LIST)
@pass_app
def fav_list(app, out) -> None:
    """List your favorites, each with its verdict (red: cannot be reserved online)."""
    from libcli.cli.catalogue import verdict_cell
    from libcli.output import LongText, table

    items = app.client().favorites()
    remember_favorites(app, items)
    if out.json:
        out.emit(items)
        return
    rows = [(i.get("id"), i.get("title"), i.get("author"), verdict_cell(i)) for i in items]
    table(
        [_("ID"), LongText(_("Title")), LongText(_("Author")), LongText(_("Online"))],
        rows,
        empty=_("No favorites yet: add titles with `libcli fav add TITLE_ID`."),
    )


@fav.command("remove")
@click.argument("title_ids", nargs=-1, required=True, shell_complete=complete_favorites)
@pass_app
def fav_remove(app, title_ids: tuple[str, ...]) -> None:
    """Remove titles from your favorites."""
    _for_each_title(
        app,
        title_ids,
        lambda client, title_id: client.remove_favorite(title_id),
        _("Removed from favorites: {id}"),
        _("Not in your favorites: {id}."),
    )
