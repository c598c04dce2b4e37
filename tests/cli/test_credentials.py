"""Where the token lives: env > keyring > 0600 file (only when chosen); keyring guarded."""

from __future__ import annotations

import os
import stat
import time

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null

from libcli import credentials
from libcli.errors import CredentialStoreError
from tests.cli.conftest import CARD, SERVER, MemoryKeyring


@pytest.fixture
def use_backend():
    previous = keyring.get_keyring()

    def use(backend):
        keyring.set_keyring(backend)
        return backend

    yield use
    keyring.set_keyring(previous)


class HangingKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def get_password(self, service, username):
        time.sleep(30)

    def set_password(self, service, username, password):
        time.sleep(30)

    def delete_password(self, service, username):
        time.sleep(30)


class ForgetfulKeyring(MemoryKeyring):
    """Says it stored the secret, then does not have it (seen with broken backends)."""

    def set_password(self, service, username, password):
        pass


class LockedKeyring(MemoryKeyring):
    def get_password(self, service, username):
        from keyring.errors import KeyringLocked

        raise KeyringLocked("the collection is locked")


def test_env_token_comes_first(memory_keyring, monkeypatch):
    memory_keyring.set_password("libcli", f"{CARD}@{SERVER}", "from-keyring")
    monkeypatch.setenv("LIBCLI_TOKEN", "from-env")
    found = credentials.find_token(SERVER, CARD, "keyring")
    assert (found.token, found.source) == ("from-env", "env")


def test_keyring_entry_per_server_and_card(memory_keyring):
    stored = credentials.save_token(SERVER, CARD, "tok", insecure_storage=False)
    assert stored.source == "keyring"
    assert memory_keyring.store == {("libcli", f"{CARD}@{SERVER}"): "tok"}
    assert credentials.find_token(SERVER, CARD, "keyring").token == "tok"
    assert credentials.find_token("https://other.example", CARD, "keyring") is None
    credentials.forget_token(SERVER, CARD, "keyring")
    assert memory_keyring.store == {}
    credentials.forget_token(SERVER, CARD, "keyring")  # already gone: fine


@pytest.mark.parametrize("backend", [null.Keyring(), fail.Keyring()], ids=["null", "fail"])
def test_fail_and_null_backends_are_refused_not_used(use_backend, backend, isolated):
    use_backend(backend)
    with pytest.raises(CredentialStoreError) as info:
        credentials.save_token(SERVER, CARD, "tok", insecure_storage=False)
    assert info.value.code == "keyring_unavailable"
    assert not (isolated / "tokens.toml").exists()  # never a silent plain-text fallback


def test_a_hanging_keyring_times_out(use_backend, monkeypatch):
    monkeypatch.setenv("LIBCLI_KEYRING_TIMEOUT", "0.2")
    use_backend(HangingKeyring())
    started = time.monotonic()
    with pytest.raises(CredentialStoreError) as info:
        credentials.find_token(SERVER, CARD, "keyring")
    assert info.value.code == "keyring_timeout"
    assert time.monotonic() - started < 5


def test_written_token_is_read_back(use_backend):
    use_backend(ForgetfulKeyring())
    with pytest.raises(CredentialStoreError) as info:
        credentials.save_token(SERVER, CARD, "tok", insecure_storage=False)
    assert info.value.code == "keyring_readback"


def test_a_locked_keyring_is_a_clean_error(use_backend):
    use_backend(LockedKeyring())
    with pytest.raises(CredentialStoreError) as info:
        credentials.find_token(SERVER, CARD, "keyring")
    assert info.value.code == "keyring_failed"
    assert "locked" in info.value.message()


def test_insecure_storage_file_is_created_0600(isolated, use_backend):
    use_backend(fail.Keyring())  # the file store must not touch the keyring at all
    stored = credentials.save_token(SERVER, CARD, "tok", insecure_storage=True)
    path = isolated / "tokens.toml"
    assert stored.source == "file"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert credentials.find_token(SERVER, CARD, "file").token == "tok"
    credentials.forget_token(SERVER, CARD, "file")
    assert credentials.find_token(SERVER, CARD, "file") is None


def test_mask_hides_the_secret():
    assert credentials.mask("abcdefghijklmnop") == "abcd********"
    assert "abc" not in credentials.mask("abc")


def test_plain_text_keyring_picked_by_default_is_refused(use_backend, monkeypatch, tmp_path):
    from keyrings.alt.file import PlaintextKeyring

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.setattr("keyring.core.load_config", lambda: None)
    use_backend(PlaintextKeyring())
    with pytest.raises(CredentialStoreError) as info:
        credentials.save_token(SERVER, CARD, "tok", insecure_storage=False)
    assert "plain text" in info.value.message()
    assert not list(tmp_path.rglob("*.cfg"))


def test_plain_text_keyring_chosen_explicitly_is_used(use_backend, monkeypatch, tmp_path):
    from keyrings.alt.file import PlaintextKeyring

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    use_backend(PlaintextKeyring())
    credentials.save_token(SERVER, CARD, "tok", insecure_storage=False)
    assert credentials.find_token(SERVER, CARD, "keyring").token == "tok"
