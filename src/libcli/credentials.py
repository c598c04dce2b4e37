"""Where the session token lives.

Lookup order (documented in `man libcli`):
1. `LIBCLI_TOKEN` in the environment (cron, CI);
2. the OS keyring, service ``libcli``, one entry per server and card (``CARD@SERVER``);
3. a 0600 TOML file in the config directory, only if the patron chose
   ``login --insecure-storage``.

Every keyring call is guarded and runs with a timeout (a locked keyring or a missing
D-Bus under cron can hang). The fail and null backends are detected up front. What is
written is read back. A keyring problem is an error with a one-line message, never a
silent fall back to plain text.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from libcli.errors import CredentialStoreError

SERVICE = "libcli"
TOKEN_ENV = "LIBCLI_TOKEN"
TIMEOUT_ENV = "LIBCLI_KEYRING_TIMEOUT"
TOKEN_FILE = "tokens.toml"
DEFAULT_TIMEOUT = 5.0

#: Backends that store nothing or always fail.
_UNUSABLE_BACKENDS = ("keyring.backends.fail", "keyring.backends.null")


@dataclass(frozen=True)
class StoredToken:
    token: str
    source: str  # "env", "keyring" or "file"
    location: str  # for whoami: where it is, without the secret

    @property
    def masked(self) -> str:
        return mask(self.token)


def mask(token: str) -> str:
    return token[:4] + "*" * 8 if len(token) > 8 else "*" * 8


def entry_name(server: str, card: str) -> str:
    return f"{card}@{server}"


def keyring_timeout() -> float:
    try:
        return max(0.1, float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT)))
    except ValueError:
        return DEFAULT_TIMEOUT


def _with_timeout(fn: Callable[[], Any]) -> Any:
    """Run one keyring call in a daemon thread so a hang cannot keep the CLI alive."""
    timeout = keyring_timeout()
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # reported in the calling thread
            box["error"] = exc

    worker = threading.Thread(target=target, name="libcli-keyring", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise CredentialStoreError("keyring_timeout", seconds=f"{timeout:g}")
    error = box.get("error")
    if error is not None:
        if isinstance(error, CredentialStoreError):
            raise error
        detail = f"{type(error).__name__}: {error}".strip().rstrip(":")
        code = "keyring_unavailable" if _is_no_backend(error) else "keyring_failed"
        raise CredentialStoreError(code, detail=detail) from error
    return box.get("value")


def _is_no_backend(error: BaseException) -> bool:
    return type(error).__name__ in ("NoKeyringError", "InitError", "ModuleNotFoundError")


def _backend() -> Any:
    def load() -> Any:
        import keyring

        backend = keyring.get_keyring()
        describe = f"{type(backend).__module__}.{type(backend).__name__}"
        if type(backend).__module__.startswith(_UNUSABLE_BACKENDS):
            raise CredentialStoreError("keyring_unavailable", detail=describe)
        members = getattr(backend, "backends", None)
        if members == []:  # a chainer with nothing to chain
            raise CredentialStoreError("keyring_unavailable", detail=describe)
        if all(_is_plaintext(b) for b in (members or [backend])) and not _chosen_explicitly():
            # keyrings.alt's plain-text file, picked only because nothing better exists:
            # that would be the silent plain-text fallback we promise never to make.
            raise CredentialStoreError("keyring_plain_text", detail=describe)
        return backend

    return _with_timeout(load)


def _is_plaintext(backend: Any) -> bool:
    return "plaintext" in type(backend).__name__.lower()


def _chosen_explicitly() -> bool:
    """The patron named the backend (PYTHON_KEYRING_BACKEND or keyringrc.cfg)."""
    if os.environ.get("PYTHON_KEYRING_BACKEND"):
        return True
    try:
        from keyring.core import load_config

        return load_config() is not None
    except Exception:
        return False


def check_keyring() -> None:
    """Fail early (before asking for a password) when no usable keyring is there."""
    _backend()


class KeyringStore:
    source = "keyring"

    def location(self, server: str, card: str) -> str:
        return f"keyring (service {SERVICE}, {entry_name(server, card)})"

    def get(self, server: str, card: str) -> str | None:
        backend = _backend()
        return _with_timeout(lambda: backend.get_password(SERVICE, entry_name(server, card)))

    def set(self, server: str, card: str, token: str) -> None:
        backend = _backend()
        name = entry_name(server, card)
        _with_timeout(lambda: backend.set_password(SERVICE, name, token))
        if _with_timeout(lambda: backend.get_password(SERVICE, name)) != token:
            raise CredentialStoreError("keyring_readback")

    def delete(self, server: str, card: str) -> None:
        backend = _backend()
        name = entry_name(server, card)

        def delete() -> None:
            from keyring.errors import PasswordDeleteError

            with contextlib.suppress(PasswordDeleteError):  # already gone is fine
                backend.delete_password(SERVICE, name)

        _with_timeout(delete)


class FileStore:
    """The plain-text store the patron asked for with --insecure-storage (0600)."""

    source = "file"

    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            from libcli.config import config_dir

            path = config_dir() / TOKEN_FILE
        self.path = path

    def location(self, server: str, card: str) -> str:
        return f"file {self.path} ({entry_name(server, card)})"

    def _load(self) -> dict[str, str]:
        import tomllib

        try:
            with open(self.path, "rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            return {}
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise CredentialStoreError(
                "token_file_failed", path=str(self.path), detail=str(exc)
            ) from exc
        tokens = data.get("tokens", {})
        return {k: v for k, v in tokens.items() if isinstance(v, str)}

    def _save(self, tokens: dict[str, str]) -> None:
        import tomli_w

        from libcli.files import write_private

        try:
            write_private(self.path, tomli_w.dumps({"tokens": tokens}).encode("utf-8"))
        except OSError as exc:
            raise CredentialStoreError(
                "token_file_failed", path=str(self.path), detail=str(exc)
            ) from exc

    def get(self, server: str, card: str) -> str | None:
        return self._load().get(entry_name(server, card))

    def set(self, server: str, card: str, token: str) -> None:
        tokens = self._load()
        tokens[entry_name(server, card)] = token
        self._save(tokens)
        if self.get(server, card) != token:
            raise CredentialStoreError("token_file_failed", path=str(self.path), detail="read back")

    def delete(self, server: str, card: str) -> None:
        tokens = self._load()
        if tokens.pop(entry_name(server, card), None) is not None:
            self._save(tokens)


def store_for(storage: str | None) -> KeyringStore | FileStore:
    return FileStore() if storage == "file" else KeyringStore()


def find_token(server: str, card: str | None, storage: str | None) -> StoredToken | None:
    """The token to use, in the documented order; None when logged out."""
    env = os.environ.get(TOKEN_ENV)
    if env:
        return StoredToken(env.strip(), "env", f"environment variable {TOKEN_ENV}")
    if not card:
        return None
    store = store_for(storage)
    token = store.get(server, card)
    if not token:
        return None
    return StoredToken(token, store.source, store.location(server, card))


def save_token(server: str, card: str, token: str, *, insecure_storage: bool) -> StoredToken:
    store = FileStore() if insecure_storage else KeyringStore()
    store.set(server, card, token)
    return StoredToken(token, store.source, store.location(server, card))


def forget_token(server: str, card: str, storage: str | None) -> None:
    store_for(storage).delete(server, card)
