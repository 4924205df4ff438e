"""Secrets at rest: argon2id for passwords people choose, SHA-256 digests for random secrets, encryption."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets as _random
import tempfile
from collections.abc import Sequence
from pathlib import Path

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = [
    "DecryptionError",
    "Encryptor",
    "digest",
    "digests_match",
    "hash_password",
    "load_or_create_dev_key",
    "random_token",
    "use_cheap_password_hashing",
    "verify_password",
]

_hasher = PasswordHasher()


def use_cheap_password_hashing() -> None:
    """For test suites only: argon2's cheapest parameters (hashes made either way still verify)."""
    global _hasher
    _hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)


class DecryptionError(ValueError):
    """A ciphertext that none of the configured keys can open."""


def hash_password(password: str) -> str:
    """An argon2id hash of a password a person chose."""
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """True when `password` matches `stored_hash`."""
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def random_token(nbytes: int = 32) -> str:
    """A URL-safe random secret with `nbytes` of entropy."""
    return _random.token_urlsafe(nbytes)


def digest(secret: str) -> str:
    """The SHA-256 hex digest of a high-entropy secret, used to look it up without storing it."""
    return hashlib.sha256(secret.encode()).hexdigest()


def digests_match(stored_digest: str, secret: str) -> bool:
    """Constant-time comparison of a stored digest with a presented secret."""
    return hmac.compare_digest(stored_digest, digest(secret))


class Encryptor:
    """Authenticated encryption with key rotation: the first key encrypts, every key decrypts."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is required")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    @classmethod
    def from_setting(cls, setting: str) -> Encryptor:
        """Build from a comma-separated list of Fernet keys, newest first."""
        return cls([key.strip() for key in setting.split(",") if key.strip()])

    @staticmethod
    def generate_key() -> str:
        """A new random key in the format `from_setting` takes."""
        return Fernet.generate_key().decode()

    def encrypt(self, plaintext: str | bytes) -> str:
        """Encrypt to a URL-safe token string."""
        data = plaintext.encode() if isinstance(plaintext, str) else plaintext
        return self._fernet.encrypt(data).decode()

    def decrypt_bytes(self, token: str) -> bytes:
        """Decrypt a token made by `encrypt`."""
        try:
            return self._fernet.decrypt(token.encode())
        except InvalidToken as exc:
            raise DecryptionError("ciphertext cannot be decrypted with the configured keys") from exc

    def decrypt(self, token: str) -> str:
        """Decrypt a token made by `encrypt` from a string."""
        return self.decrypt_bytes(token).decode()

    def rotate(self, token: str) -> str:
        """Re-encrypt a token under the newest key."""
        return self._fernet.rotate(token.encode()).decode()


def load_or_create_dev_key(path: Path) -> str:
    """Read a development key from `path`, creating it (mode 0600) on first use. Never for production."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key-")
        with os.fdopen(fd, "w") as fh:
            fh.write(Encryptor.generate_key())
        try:
            os.link(tmp, path)  # atomic: concurrent first starts agree on one key
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return path.read_text().strip()
