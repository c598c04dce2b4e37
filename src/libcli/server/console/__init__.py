"""libcli-server: the staff and operations console of the library backend.

Each module adds its commands to the root group in `base`."""

from libcli.server.console import (  # noqa: F401  (each registers its commands)
    calendar,
    circulation,
    config,
    holds,
    index,
    library,
    loans,
    mail,
    patrons,
)
from libcli.server.console.base import main

__all__ = ["main"]
