"""ERP user passwords (PBKDF2 or demo plain text) and the optional per-user TOTP (RFC 6238)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time

_SCHEME = "pbkdf2_sha256"
_ITERATIONS = 60_000
_TOTP_STEP = 30
_TOTP_DIGITS = 6


def hash_password(password: str) -> str:
    """Return ``pbkdf2_sha256$<iterations>$<salt>$<hash>`` for storing a password added at run time."""
    salt = secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), _ITERATIONS).hex()
    return f"{_SCHEME}${_ITERATIONS}${salt}${digest}"


def verify_password(stored: str, candidate: str) -> bool:
    """Check a candidate against a stored value: a PBKDF2 hash, or a demo plain-text password."""
    if stored.startswith(_SCHEME + "$"):
        try:
            _, iterations, salt, digest = stored.split("$")
            computed = hashlib.pbkdf2_hmac("sha256", candidate.encode(), salt.encode(), int(iterations))
        except ValueError:
            return False
        return hmac.compare_digest(computed.hex(), digest)
    return hmac.compare_digest(stored.encode(), candidate.encode())


def is_valid_totp_secret(secret: str) -> bool:
    """Tell whether a string is a usable base32 TOTP secret."""
    try:
        return len(_decode_secret(secret)) >= 10
    except ValueError:
        return False


def _decode_secret(secret: str) -> bytes:
    cleaned = secret.replace(" ", "").upper()
    cleaned += "=" * (-len(cleaned) % 8)
    try:
        return base64.b32decode(cleaned)
    except (ValueError, TypeError) as exc:
        raise ValueError("not base32") from exc


def totp_code(secret: str, at: float | None = None) -> str:
    """The RFC 6238 code (SHA-1, 30 s, 6 digits) of a base32 secret at a given time."""
    counter = int((time.time() if at is None else at) // _TOTP_STEP)
    mac = hmac.new(_decode_secret(secret), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**_TOTP_DIGITS).zfill(_TOTP_DIGITS)


def verify_totp(secret: str, candidate: str, at: float | None = None) -> bool:
    """Accept the code of the current 30-second step or of one step either side (clock drift)."""
    now = time.time() if at is None else at
    candidate = candidate.strip()
    return any(hmac.compare_digest(totp_code(secret, now + drift * _TOTP_STEP), candidate) for drift in (-1, 0, 1))
