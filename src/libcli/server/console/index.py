"""The search index: rebuild it, and check it against the catalogue."""

from __future__ import annotations

import sys

import click

from libcli.server.console.base import Context, command, main


@command(main, "reindex")
def reindex(ctx: Context) -> None:
    """Recompute every title's search form (readings, variants) and rebuild the index."""
    from libcli.server.search import refresh

    with ctx.db.write() as session:
        titles = refresh(session.connection())
    click.echo(f"reindexed {titles} titles")


@command(main, "check-index")
def check_index(ctx: Context) -> None:
    """Compare the search index with the catalogue; exit 1 if they differ (run reindex)."""
    from libcli.server.search import index_drift

    with ctx.db.read() as session:
        drift = index_drift(session.connection())
    for key, value in drift.items():
        click.echo(f"{key}: {value}")
    if any(value for key, value in drift.items() if key != "titles"):
        click.echo(
            "the search index differs from the catalogue: run libcli-server reindex", err=True
        )
        sys.exit(1)
