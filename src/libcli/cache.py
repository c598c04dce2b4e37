"""A small per-profile cache that lets TAB complete without touching the network.

Normal commands write it: the patron's own ids (favorites, reservations, recent search
results) and the library's vocabulary (its service points and contact methods, from
GET /api/v1/library on login and status). The completion functions and the checks of a
pickup point or contact method read it. Only stdlib here: TAB must not import requests,
keyring or tabulate. Best effort: a cache that cannot be read or written is ignored.
0600, since it names what a patron reads.
"""

from __future__ import annotations

import contextlib
import os
import time
from typing import TYPE_CHECKING, Any

from libcli.files import CONFIG_DIR_ENV, DEFAULT_PROFILE, config_location, write_private

if TYPE_CHECKING:
    from pathlib import Path

#: The patron's own sections; logging out forgets them.
PATRON_SECTIONS = ("favorites", "reservations", "titles")
#: The library's sections; they outlive a session (they are the same for every patron).
LIBRARY_SECTIONS = ("points", "contact_methods")
SECTIONS = PATRON_SECTIONS + LIBRARY_SECTIONS
MAX_TITLES = 50


def cache_location() -> str:
    """The cache directory: `$XDG_CACHE_HOME/libcli`; else, when `$LIBCLI_CONFIG_DIR` keeps
    libcli's files together (tests, a portable setup), its `cache`; else the platform's
    cache folder (~/.cache/libcli, ~/Library/Caches/libcli, %LOCALAPPDATA%/libcli/Cache)."""
    import sys

    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return os.path.join(xdg, "libcli")
    if os.environ.get(CONFIG_DIR_ENV):
        return _old_location()
    if sys.platform == "darwin":
        return os.path.expanduser("~/Library/Caches/libcli")
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return os.path.join(os.environ["LOCALAPPDATA"], "libcli", "Cache")
    return os.path.expanduser("~/.cache/libcli")


def _old_location() -> str:
    """Where the cache lived before it moved to the cache folder: beside the config file."""
    return os.path.join(config_location(), "cache")


def _location(profile: str | None) -> str:
    # A plain str: reading the cache on TAB needs no pathlib.
    return os.path.join(cache_location(), f"{profile or DEFAULT_PROFILE}.json")


def cache_path(profile: str | None) -> Path:
    from pathlib import Path

    return Path(_location(profile))


def load(profile: str | None) -> dict[str, Any]:
    try:
        return _read(_location(profile))
    except FileNotFoundError:
        return _moved(profile)
    except (OSError, ValueError):
        return {}


def _moved(profile: str | None) -> dict[str, Any]:
    """The cache of an older libcli, read once from beside the config file and moved."""
    old = os.path.join(_old_location(), f"{profile or DEFAULT_PROFILE}.json")
    if old == _location(profile):
        return {}
    try:
        data = _read(old)
    except (OSError, ValueError):
        return {}
    _save(profile, data)
    with contextlib.suppress(OSError):
        os.unlink(old)
    return data


def _read(location: str) -> dict[str, Any]:
    with open(location, encoding="utf-8") as fh:
        import json  # only when there is a cache to read: `--help` mostly finds none

        data = json.load(fh)
    return data if isinstance(data, dict) else {}


def _save(profile: str | None, data: dict[str, Any]) -> None:
    import json

    with contextlib.suppress(OSError):
        write_private(cache_path(profile), json.dumps(data, ensure_ascii=False).encode("utf-8"))


def update(profile: str | None, **sections: list[dict[str, Any]]) -> None:
    """Replace the given sections; `titles` is merged (most recent first)."""
    data = load(profile)
    written = data.get("written") if isinstance(data.get("written"), dict) else {}
    for name, items in sections.items():
        if name not in SECTIONS:
            continue
        if name == "titles":
            seen = {str(i.get("id")) for i in items}
            old = [i for i in data.get("titles", []) if str(i.get("id")) not in seen]
            items = (list(items) + old)[:MAX_TITLES]
        data[name] = items
        written[name] = time.time()
    data["written"] = written
    _save(profile, data)


def age(profile: str | None, section: str) -> float | None:
    """Seconds since `section` was written; None when it never was."""
    written = load(profile).get("written")
    when = written.get(section) if isinstance(written, dict) else None
    if not isinstance(when, int | float):
        return None
    return max(0.0, time.time() - when)


def forget_patron(profile: str | None) -> None:
    """Drop what names the patron's reading (on logout); keep the library's vocabulary."""
    data = load(profile)
    kept = {name: data[name] for name in LIBRARY_SECTIONS if name in data}
    if not kept:
        with contextlib.suppress(OSError):
            os.unlink(_location(profile))
        return
    written = data.get("written") if isinstance(data.get("written"), dict) else {}
    kept["written"] = {name: written[name] for name in kept if name in written}
    _save(profile, kept)


def entries(profile: str | None, section: str) -> list[dict[str, Any]]:
    items = load(profile).get(section, [])
    if not isinstance(items, list):
        return []
    return [i for i in items if isinstance(i, dict) and "id" in i]
