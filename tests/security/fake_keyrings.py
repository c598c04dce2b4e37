"""Keyring backends that misbehave, for tests/security/test_cli.py.

Loaded in a `libcli` subprocess with ``PYTHONPATH=tests/security`` and
``PYTHON_KEYRING_BACKEND=fake_keyrings.LockedKeyring`` (or ``HangingKeyring``).
"""

from __future__ import annotations

import threading

from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked


class LockedKeyring(KeyringBackend):
    """A keyring whose collection is locked: every read and write is refused."""

    priority = 1

    def get_password(self, service, username):
        raise KeyringLocked("the collection is locked")

    def set_password(self, service, username, password):
        raise KeyringLocked("the collection is locked")

    def delete_password(self, service, username):
        raise KeyringLocked("the collection is locked")


class HangingKeyring(KeyringBackend):
    """A keyring that never answers (a locked collection waiting for a prompt, no D-Bus)."""

    priority = 1

    def get_password(self, service, username):
        threading.Event().wait()

    def set_password(self, service, username, password):
        threading.Event().wait()

    def delete_password(self, service, username):
        threading.Event().wait()
