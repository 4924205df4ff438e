"""The key format: prefix by type, 256 random bits, a CRC32 checksum that refuses garbage without a lookup."""

from __future__ import annotations

import re
import zlib

import pytest

from authserver.endpoint_tokens.keys import KEY_PATTERN, SCOPES, key_type, new_key, new_token_id, scope_of

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _base62(text: str) -> int:
    number = 0
    for char in text:
        number = number * 62 + _ALPHABET.index(char)
    return number


@pytest.mark.parametrize(
    ("endpoint_type", "prefix"), [("time-attendance", "cs_ta_"), ("app-insights", "cs_ai_"), ("surveys", "cs_sv_")]
)
def test_keys_name_their_type_and_carry_a_checksum_scanners_can_verify(endpoint_type, prefix):
    keys = {new_key(endpoint_type) for _ in range(50)}
    assert len(keys) == 50
    for key in keys:
        assert key.startswith(prefix) and len(key) == 55
        assert re.fullmatch(KEY_PATTERN, key)
        assert key_type(key) == endpoint_type
        assert _base62(key[-6:]) == zlib.crc32(key[:-6].encode())  # as docs/endpoint-tokens.md explains


@pytest.mark.parametrize(
    "garbage",
    ["", "cs_ta_", "x" * 55, "cs_zz_" + "A" * 49, "Bearer cs_ta_", "cs_ta_" + "A" * 48 + "\x00", "cs_ta_" + "é" * 49],
)
def test_garbage_is_not_a_key(garbage):
    assert key_type(garbage) is None


def test_one_changed_character_breaks_the_checksum():
    key = new_key("surveys")
    for position in (6, 30, 48, 54):
        changed = key[:position] + ("B" if key[position] == "A" else "A") + key[position + 1 :]
        assert key_type(changed) is None
    assert key_type(key.replace("cs_sv_", "cs_ta_")) is None  # the prefix is covered too


def test_token_ids_and_scopes():
    assert re.fullmatch(r"ept_[0-9a-f]{20}", new_token_id())
    assert scope_of("surveys") == "surveys:read surveys:write"
    assert SCOPES["time-attendance"] == ("attendance:write",) and scope_of("unknown") == ""


def test_an_end_user_from_an_older_cookie_has_no_payroll_flag():
    from authserver.signin.users import EndUser

    old = {
        "sub": "s",
        "subscription_id": "demo",
        "subscription_gid": "g",
        "user_id": "u",
        "email": None,
        "name": None,
        "bridge_id": "Demo_002",
        "branch_id": "001",
        "administrator": True,
        "auth_time": 1,
    }
    user = EndUser.from_dict(old)
    assert user is not None and user.payroll is False and user.administrator is True
    assert EndUser.from_dict({**old, "payroll": True}).payroll is True  # type: ignore[union-attr]
    assert EndUser.from_dict({"sub": "s"}) is None and EndUser.from_dict("junk") is None
