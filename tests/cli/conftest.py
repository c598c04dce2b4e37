"""Fixtures for the patron CLI's unit tests: a temporary config dir, an in-memory keyring,
a mocked server (responses) and a CliRunner that goes through libcli's own error handling."""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import keyring
import pytest
import responses
from click.testing import CliRunner
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from libcli import i18n

SERVER = "http://127.0.0.1:8765"
API = SERVER + "/api/v1"
CARD = "123456789"
TOKEN = "tok-0123456789abcdef"


class MemoryKeyring(KeyringBackend):
    """A keyring that lives in a dict: the tests' stand-in for the OS keyring."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.store.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Every test: its own config dir, English, no colour, no token in the environment."""
    for var in list(os.environ):
        if var.startswith("LIBCLI_") or var in (
            "NO_COLOR",
            "LANGUAGE",
            "LC_ALL",
            "LC_MESSAGES",
            "XDG_CACHE_HOME",  # the cache then lives in the temporary config dir
        ):
            monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "C")
    monkeypatch.setenv("LIBCLI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("LIBCLI_KEYRING_TIMEOUT", "2")
    i18n.reset()
    yield tmp_path / "config"
    i18n.reset()


@pytest.fixture
def memory_keyring():
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def http():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def run() -> Callable:
    """Invoke `libcli ARGS` in-process; returns click's Result (stdout and stderr apart)."""
    from libcli.cli.main import cli

    def invoke(*args: str, input: str | None = None, env: dict | None = None, color=False):
        i18n.reset()
        runner = CliRunner()
        return runner.invoke(
            cli, list(args), input=input, env=env, color=color, catch_exceptions=False
        )

    return invoke


@pytest.fixture
def tty(monkeypatch):
    """Pretend stdin and stdout are a terminal."""
    from libcli import output

    monkeypatch.setattr(output, "stdout_is_tty", lambda: True)
    monkeypatch.setattr(output, "stdin_is_tty", lambda: True)


@pytest.fixture
def logged_in(memory_keyring, isolated):
    """A patron whose token is in the keyring and whose card is in the config."""
    from libcli.config import Settings

    settings = Settings("default")
    settings.set("card", CARD)
    settings.set("token_storage", "keyring")
    memory_keyring.set_password("libcli", f"{CARD}@{SERVER}", TOKEN)
    return memory_keyring


def problem(code: str, status: int, **extra) -> dict:
    body = {
        "type": "about:blank",
        "title": code,
        "status": status,
        "code": code,
        "detail": f"detail of {code}",
        "messages": {"ja": f"{code}（日本語）", "en": f"{code} (English)"},
    }
    body.update(extra)
    return {
        "status": status,
        "body": json.dumps(body),
        "content_type": "application/problem+json",
    }


def title(id: str, *, reservable: bool = True, reason: str | None = None, **kw) -> dict:
    data = {
        "id": id,
        "title": kw.pop("title", f"Title {id}"),
        "author": "著者",
        "publisher": "出版社",
        "year": 2020,
        "type": kw.pop("type", "book"),
        "isbn": "9784000000000",
        "copies": kw.pop("copies", 1),
        "available": kw.pop("available", 0),
        "reservable": reservable,
        "reason": reason,
    }
    data.update(kw)
    return data
