"""The API key format: `cs_<type>_<43 base62 chars of 256 random bits><6 base62 chars of CRC32>`.

The prefix names the product (`cs`, Cloud Store) and the endpoint type, so that secret scanners recognise a
leaked key and a reader knows what it opens; the CRC32 checksum (as GitHub's tokens carry) lets a typo or a
random string be refused without a database read. Regex for scanners: `KEY_PATTERN` (docs/endpoint-tokens.md).
"""

from __future__ import annotations

import re
import secrets
import zlib

__all__ = [
    "KEY_PATTERN",
    "SCOPES",
    "TYPE_PREFIXES",
    "key_type",
    "new_key",
    "new_token_id",
    "scope_of",
]

# Endpoint type → what its key may do (the scope is fixed by the type, never chosen).
SCOPES: dict[str, tuple[str, ...]] = {
    "time-attendance": ("attendance:write",),
    "app-insights": ("insights:write",),
    "surveys": ("surveys:read", "surveys:write"),
}
TYPE_PREFIXES: dict[str, str] = {"time-attendance": "ta", "app-insights": "ai", "surveys": "sv"}
_TYPES_BY_PREFIX = {prefix: endpoint_type for endpoint_type, prefix in TYPE_PREFIXES.items()}
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_BODY = 43  # 62**43 > 2**256
_CHECK = 6  # 62**6 > 2**32
KEY_PATTERN = r"\bcs_(?:ta|ai|sv)_[0-9A-Za-z]{49}\b"
_KEY = re.compile(r"^cs_(ta|ai|sv)_([0-9A-Za-z]{43})([0-9A-Za-z]{6})$")


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, remainder = divmod(number, 62)
        digits.append(_ALPHABET[remainder])
    return "".join(reversed(digits))


def _checksum(text: str) -> str:
    return _base62(zlib.crc32(text.encode("ascii")), _CHECK)


def new_key(endpoint_type: str) -> str:
    """A fresh key for `endpoint_type`: 32 bytes from `secrets`, the type's prefix and a checksum."""
    head = f"cs_{TYPE_PREFIXES[endpoint_type]}_" + _base62(int.from_bytes(secrets.token_bytes(32), "big"), _BODY)
    return head + _checksum(head)


def key_type(value: str) -> str | None:
    """The endpoint type a well-formed key names; None for anything else (wrong shape or checksum)."""
    if len(value) != 55:
        return None
    match = _KEY.match(value)
    if match is None or _checksum(value[:-_CHECK]) != match.group(3):
        return None
    return _TYPES_BY_PREFIX[match.group(1)]


def new_token_id() -> str:
    """A public token id (`ept_…`): the `client_id` when the key is used as client credentials."""
    return "ept_" + secrets.token_hex(10)


def scope_of(endpoint_type: str) -> str:
    """The space-separated scope a key of this type carries."""
    return " ".join(SCOPES.get(endpoint_type, ()))
