"""Where `libcli` keeps its files, and the one way it writes them.

The config file, the token file (only after `login --insecure-storage`) and the completion
cache live in `click.get_app_dir("libcli")`, or `$LIBCLI_CONFIG_DIR`. Each is written
atomically and created 0600 (they name the card and what a patron reads). Stdlib only:
TAB reads the cache through here.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

CONFIG_DIR_ENV = "LIBCLI_CONFIG_DIR"
#: The profile (a table of the config file, a cache file) when none is named.
DEFAULT_PROFILE = "default"


def config_location() -> str:
    """The directory of the config file, the token file and the cache, as a plain str."""
    env = os.environ.get(CONFIG_DIR_ENV)
    if env:
        return env
    import click

    return click.get_app_dir("libcli")


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically; the file is created 0600, never chmod-ed after."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
