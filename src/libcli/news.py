"""What `libcli news` has already told, per profile: a small file in the cache directory
(`$XDG_CACHE_HOME/libcli/<profile>.news.json`), so cron mails each event once.

An event is told again when its date changes (a renewed loan, a hold whose pickup
deadline became known). Keys of events the server no longer lists are forgotten, so
the file stays as small as the patron's current loans and holds. Stdlib only; 0600.
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any

from libcli.files import DEFAULT_PROFILE, write_private


def _location(profile: str | None) -> str:
    from libcli.cache import cache_location

    return os.path.join(cache_location(), f"{profile or DEFAULT_PROFILE}.news.json")


def event_key(event: dict[str, Any]) -> str:
    """What makes an event the same one: its kind, the hold or loan, and its date."""
    subject = event.get("reservation_id") or event.get("barcode") or event.get("id")
    return f"{event.get('kind')}:{subject}:{event.get('date')}"


def told(profile: str | None) -> set[str]:
    try:
        with open(_location(profile), encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return set()
    keys = data.get("told") if isinstance(data, dict) else None
    return {k for k in keys if isinstance(k, str)} if isinstance(keys, list) else set()


def untold(profile: str | None, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    known = told(profile)
    return [e for e in events if event_key(e) not in known]


def remember(profile: str | None, events: list[dict[str, Any]]) -> None:
    """Keep the keys of `events` (every event the server listed now) as told."""
    from pathlib import Path

    keys = sorted({event_key(e) for e in events})
    with contextlib.suppress(OSError):
        write_private(Path(_location(profile)), json.dumps({"told": keys}).encode("utf-8"))
