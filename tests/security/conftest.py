"""The security suite reuses the small library of the server tests."""

from __future__ import annotations

import pytest

from tests.server.conftest import library  # noqa: F401 - the fixture, shared


@pytest.fixture
def cheap_argon2(monkeypatch):
    """Fast argon2 for tests that count attempts rather than time them."""
    from argon2 import PasswordHasher

    from libcli.server import security

    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(security, "_hasher", cheap)
    monkeypatch.setattr(security, "_DUMMY_HASH", cheap.hash("dummy-password"))
