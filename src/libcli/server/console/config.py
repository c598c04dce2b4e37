"""The settings in effect: `libcli-server config show`."""

from __future__ import annotations

import json

import click

from libcli.server.console.base import main
from libcli.server.console.output import guarded, say, t
from libcli.server.i18n import N_


@main.group("config")
def config_group() -> None:
    """The settings: config file, LIBCLI_SERVER_* variables, flags."""


@config_group.command("show")
@click.option("--database", metavar="URL", help="As the other commands take it.")
@click.option("--json", "as_json", is_flag=True, help="One object per setting, as JSON.")
@click.pass_context
@guarded
def config_show(click_ctx: click.Context, database: str | None, as_json: bool) -> None:
    """Every setting's effective value and where it came from (default, the config
    file, a variable or a flag); secrets masked."""
    from libcli.server.settings import config_file, explain

    config = click_ctx.find_root().params.get("config")
    rows = explain(database, config=config)  # a SettingsError is one line (guarded)
    path = config_file(config)
    if as_json:
        out = {
            "config_file": str(path) if path else None,
            "settings": [
                {"name": r.name, "value": r.value, "origin": r.origin, "where": r.where}
                for r in rows
            ],
        }
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    say(t(N_("config file: {path}")).format(path=path or t(N_("(none)"))))
    width = max(len(r.name) for r in rows)
    for r in rows:
        value = "" if r.value is None else r.value
        origin = t(ORIGINS[r.origin])
        origin = f"{origin}: {r.where}" if r.where else origin
        say(f"{r.name:<{width}}  {value}  ({origin})")


#: Where a setting came from, as `explain` names it.
ORIGINS = {
    "default": N_("default"),
    "file": N_("config file"),
    "env": N_("variable"),
    "flag": N_("flag"),
}
