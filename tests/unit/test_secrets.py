"""shared.secrets: password hashing, digests, encryption at rest with rotation, development keys."""

from __future__ import annotations

import threading

import pytest

from shared.secrets import (
    DecryptionError,
    Encryptor,
    digest,
    digests_match,
    hash_password,
    load_or_create_dev_key,
    random_token,
    verify_password,
)


def test_password_hash_is_argon2id_and_verifies():
    stored = hash_password("Str0ng!pass")
    assert stored.startswith("$argon2id$") and "Str0ng!pass" not in stored
    assert verify_password(stored, "Str0ng!pass")
    assert not verify_password(stored, "str0ng!pass")
    assert not verify_password("not-a-hash", "Str0ng!pass")


def test_digest_is_sha256_and_compares_in_constant_time():
    token = random_token()
    assert len(token) >= 43
    assert digest(token) == digest(token) and len(digest(token)) == 64
    assert digests_match(digest(token), token)
    assert not digests_match(digest(token), token + "x")


def test_encryption_round_trip_and_rotation():
    old, new = Encryptor.generate_key(), Encryptor.generate_key()
    ciphertext = Encryptor([old]).encrypt("subscription-password")
    assert "subscription-password" not in ciphertext
    rotated_set = Encryptor.from_setting(f"{new}, {old}")
    assert rotated_set.decrypt(ciphertext) == "subscription-password"
    rotated = rotated_set.rotate(ciphertext)
    assert Encryptor([new]).decrypt(rotated) == "subscription-password"
    with pytest.raises(DecryptionError):
        Encryptor([new]).decrypt(ciphertext)
    with pytest.raises(ValueError):
        Encryptor([])


def test_dev_key_is_created_once_private_and_agreed_by_concurrent_starts(tmp_path):
    path = tmp_path / "secrets" / "k"
    keys: list[str] = []
    threads = [threading.Thread(target=lambda: keys.append(load_or_create_dev_key(path))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1
    assert path.stat().st_mode & 0o777 == 0o600
    assert Encryptor([keys[0]]).decrypt(Encryptor([keys[0]]).encrypt("x")) == "x"
