"""Passwords (argon2id), session and reset tokens (random, stored only as hashes)."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from functools import lru_cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD = 8
MAX_PASSWORD = 256  # far above the 64 that must be accepted; argon2 never truncates

# argon2id at OWASP's baseline (19 MiB, 2 passes, 1 lane): one lane keeps the work the
# same whatever else the machine runs, so a wrong password and an unknown card cost alike.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the card is unknown, so both answers take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def normalized(password: str) -> str:
    """NFKC (NIST SP 800-63B 5.1.1.2): the same password typed as NFC or NFD, or with
    full-width letters, is the same password."""
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    return _hasher.hash(normalized(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """One argon2 verification whether or not there is a hash (an unknown card checks
    against a dummy), so both cost the same."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, normalized(password)) and bool(
            password_hash
        )
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    path = resources.files("libcli.server").joinpath("common_passwords.txt")
    if not path.is_file():
        return frozenset()
    return frozenset(line.strip().lower() for line in path.read_text("utf-8").splitlines())


def password_problem(password: str, card: str | None = None) -> str | None:
    """Why a new password is refused (None when acceptable); no composition rules.

    After NFKC: at least MIN_PASSWORD characters not counting spaces at either end, not
    one of the common passwords (spaces at either end ignored, any case), and not the
    patron's card number nor containing it."""
    password = normalized(password)
    core = password.strip()
    if len(core) < MIN_PASSWORD or len(password) > MAX_PASSWORD or "\x00" in password:
        return "weak_password"
    if core.lower() in common_passwords() or (card and card in password):
        return "weak_password"
    return None


def new_token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def generated_password() -> str:
    """A password staff hand over at the counter (R2): easy to type, 12 characters."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))
