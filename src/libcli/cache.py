"""A small per-profile cache that lets TAB complete ids without touching the network.

Normal commands write it (favorite ids, reservation ids, recent search results, the
library's point codes and contact methods); the completion functions read it. Only
stdlib here: TAB must not import requests, keyring or tabulate. Best effort: a cache
that cannot be read or written is ignored. 0600, since it names what a patron reads.
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

SECTIONS = ("favorites", "reservations", "titles", "points", "contact_methods")
MAX_TITLES = 50


def _location(profile: str | None) -> str:
    # A plain str: reading the cache on TAB needs no pathlib.
    from libcli.config import DEFAULT_PROFILE, config_location

    return os.path.join(config_location(), "cache", f"{profile or DEFAULT_PROFILE}.json")


def cache_path(profile: str | None) -> Path:
    from pathlib import Path

    return Path(_location(profile))


def load(profile: str | None) -> dict[str, Any]:
    try:
        with open(_location(profile), encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def update(profile: str | None, **sections: list[dict[str, Any]]) -> None:
    """Replace the given sections; `titles` is merged (most recent first)."""
    try:
        data = load(profile)
        for name, items in sections.items():
            if name not in SECTIONS:
                continue
            if name == "titles":
                seen = {str(i.get("id")) for i in items}
                old = [i for i in data.get("titles", []) if str(i.get("id")) not in seen]
                items = (list(items) + old)[:MAX_TITLES]
            data[name] = items
        from libcli.config import write_private

        write_private(cache_path(profile), json.dumps(data, ensure_ascii=False).encode("utf-8"))
    except OSError:
        pass


def clear(profile: str | None) -> None:
    with contextlib.suppress(OSError):
        os.unlink(_location(profile))


def entries(profile: str | None, section: str) -> list[dict[str, Any]]:
    items = load(profile).get(section, [])
    return [i for i in items if isinstance(i, dict) and "id" in i]
