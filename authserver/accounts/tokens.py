"""Signed, expiring links (itsdangerous) bound to an account's security stamp, so each works once."""

from __future__ import annotations

import hmac
from typing import Any

from itsdangerous import BadSignature, Signer, TimestampSigner, URLSafeTimedSerializer

from authserver.accounts.models import AdminAccount, stamp_tag

__all__ = ["CONFIRM", "RESEND", "RESET", "InvalidLink", "make_token", "read_token", "token_serializer"]

CONFIRM = "confirm-email"
RESET = "reset-password"
RESEND = "resend-confirmation"
_PURPOSES = (CONFIRM, RESET, RESEND)


class InvalidLink(Exception):
    """The link is malformed, forged, expired, or was already used."""


def token_serializer(
    *, secret_key: str, purpose: str, signer: type[Signer] = TimestampSigner
) -> URLSafeTimedSerializer:
    """The serializer of one purpose; a token made for one purpose never opens another."""
    if purpose not in _PURPOSES:
        raise ValueError(f"unknown link purpose {purpose!r}")
    return URLSafeTimedSerializer(secret_key, salt=f"cloudstore.accounts.{purpose}", signer=signer)


def token_payload(account: AdminAccount) -> dict[str, Any]:
    """What a link carries: the account id and a digest of its current stamp."""
    return {"a": account.id, "s": stamp_tag(account.security_stamp)}


def make_token(*, secret_key: str, purpose: str, account: AdminAccount) -> str:
    """A URL-safe token for `account`, valid until `max_age` passes or the account's stamp changes."""
    return token_serializer(secret_key=secret_key, purpose=purpose).dumps(token_payload(account))


def read_token(*, secret_key: str, purpose: str, token: str, max_age: int) -> tuple[int, str]:
    """The (account id, stamp tag) of a valid token; raise InvalidLink otherwise."""
    try:
        data = token_serializer(secret_key=secret_key, purpose=purpose).loads(token, max_age=max_age)
    except BadSignature as exc:  # includes SignatureExpired
        raise InvalidLink("invalid or expired link") from exc
    if not isinstance(data, dict) or not isinstance(data.get("a"), int) or not isinstance(data.get("s"), str):
        raise InvalidLink("malformed link")
    return data["a"], data["s"]


def stamp_matches(account: AdminAccount, tag: str) -> bool:
    """Constant-time check of a token's stamp tag against the account's current stamp."""
    return hmac.compare_digest(stamp_tag(account.security_stamp), tag)
