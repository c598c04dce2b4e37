"""Favorites (お気に入り): the list a patron reserves from (R9)."""

from __future__ import annotations

import contextlib
from typing import Any

import click

from libcli.cli.base import (
    complete_favorites,
    complete_titles,
    exit_with,
    group,
    json_option,
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


@fav.command("add")
@click.argument("title_ids", nargs=-1, required=True, shell_complete=complete_titles)
@pass_app
def fav_add(app, title_ids: tuple[str, ...]) -> None:
    """Add titles to your favorites."""
    from libcli.errors import NotFoundError
    from libcli.exit_codes import ExitCode
    from libcli.output import say, warn

    client = app.client()
    missing = 0
    for title_id in title_ids:
        try:
            client.add_favorite(title_id)
        except NotFoundError:
            missing += 1
            warn(_("No such title: {id}.").format(id=title_id))
            continue
        say(_("Added to favorites: {id}").format(id=title_id))
    refresh_cache(app, client)
    exit_with(ExitCode.NOT_FOUND if missing else ExitCode.OK)


@fav.command("list")
@json_option
@pass_app
def fav_list(app, as_json: bool) -> None:
    """List your favorites, each with its verdict (red: cannot be reserved online)."""
    from libcli.cli.catalogue import verdict_cell
    from libcli.output import emit_json, table

    items = app.client().favorites()
    remember_favorites(app, items)
    if as_json:
        emit_json(
            [
                {
                    "id": i.get("id"),
                    "title": i.get("title"),
                    "reservable": bool(i.get("reservable")),
                    "reason": i.get("reason"),
                }
                for i in items
            ]
        )
        return
    rows = [(i.get("id"), i.get("title"), i.get("author"), verdict_cell(i)) for i in items]
    table(
        [_("ID"), _("Title"), _("Author"), _("Online")],
        rows,
        empty=_("No favorites yet: add titles with `libcli fav add TITLE_ID`."),
    )


@fav.command("remove")
@click.argument("title_ids", nargs=-1, required=True, shell_complete=complete_favorites)
@pass_app
def fav_remove(app, title_ids: tuple[str, ...]) -> None:
    """Remove titles from your favorites."""
    from libcli.errors import NotFoundError
    from libcli.exit_codes import ExitCode
    from libcli.output import say, warn

    client = app.client()
    missing = 0
    for title_id in title_ids:
        try:
            client.remove_favorite(title_id)
        except NotFoundError:
            missing += 1
            warn(_("Not in your favorites: {id}.").format(id=title_id))
            continue
        say(_("Removed from favorites: {id}").format(id=title_id))
    refresh_cache(app, client)
    exit_with(ExitCode.NOT_FOUND if missing else ExitCode.OK)
