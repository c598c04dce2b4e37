"""`libcli config`: the settings file, per profile (flag > env > file > default)."""

from __future__ import annotations

import click

from libcli import views
from libcli.cli.base import exit_with, group, json_output, pass_app
from libcli.i18n import _


def _complete_keys(ctx: click.Context, param: click.Parameter, incomplete: str):
    from click.shell_completion import CompletionItem

    from libcli.config import KEYS

    return [
        CompletionItem(k, help=_(v.help))
        for k, v in KEYS.items()
        if v.public and k.startswith(incomplete)
    ]


def _display(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


@group()
def config() -> None:
    """Show and change your settings (server, pickup, contact, lang, ...)."""


@config.command("list")
@json_output(views.config_list())
@pass_app
def config_list(app, out) -> None:
    """Show every setting, its value and where the value comes from."""
    from libcli.config import KEYS
    from libcli.output import table

    rows = []
    for key, spec in KEYS.items():
        if not spec.public:
            continue
        value, source = app.settings.lookup(key)
        rows.append((key, value, source))
    if out.json:
        out.emit({k: {"value": v, "source": s} for k, v, s in rows})
        return
    table(
        [_("Key"), _("Value"), _("Source")],
        [(k, _display(v), s) for k, v, s in rows],
    )


@config.command("get")
@click.argument("key", shell_complete=_complete_keys)
@pass_app
def config_get(app, key: str) -> None:
    """Print the value of one setting (exit 6 when it is not set)."""
    from libcli.config import KEYS
    from libcli.errors import ConfigError
    from libcli.exit_codes import ExitCode
    from libcli.output import say, warn

    if key not in KEYS or not KEYS[key].public:
        raise ConfigError("config_unknown_key", key=key)
    value = app.settings.get(key)
    if value is None:
        from libcli.errors import MESSAGES

        warn(_(MESSAGES["config_unset"]).format(key=key))
        exit_with(ExitCode.NOT_FOUND)
        return
    say(_display(value))


@config.command("set")
@click.argument("key", shell_complete=_complete_keys)
@click.argument("value")
@pass_app
def config_set(app, key: str, value: str) -> None:
    """Set a setting for this profile (checked first: e.g. pickup must be a service point)."""
    from libcli.config import KEYS
    from libcli.errors import ConfigError
    from libcli.output import say

    if key not in KEYS or not KEYS[key].public:
        raise ConfigError("config_unknown_key", key=key)
    stored = app.settings.set(key, value)
    say(
        _("{key} = {value} (profile {profile})").format(
            key=key, value=_display(stored), profile=app.profile
        )
    )


@config.command("unset")
@click.argument("key", shell_complete=_complete_keys)
@pass_app
def config_unset(app, key: str) -> None:
    """Remove a setting from this profile."""
    from libcli.output import say

    if app.settings.unset(key):
        say(_("{key} removed (profile {profile})").format(key=key, profile=app.profile))


@config.command("path")
@pass_app
def config_path(app) -> None:
    """Print where the config file is."""
    from libcli.output import say

    say(str(app.settings.path))
