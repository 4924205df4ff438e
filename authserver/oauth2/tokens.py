"""JWT access tokens (RFC 9068): issue, verify, revoke by `jti` (RFC 7009), and pick the audience (RFC 8707)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
from sqlalchemy import Engine, bindparam, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from authserver.clients.service import RegisteredClient
from authserver.oauth2.keyring import Signer
from authserver.oauth2.models import RevokedAccessToken
from shared.hot_reads import HotRead
from shared.keys import VerifiedTokenCache
from shared.secrets import random_token

__all__ = [
    "ACCESS_TOKEN_TYP",
    "TENANT_CLAIMS",
    "IssuedToken",
    "is_revoked",
    "issue_access_token",
    "purge_revoked_tokens",
    "resolve_audience",
    "revoke_access_token",
    "verify_access_token",
]

ACCESS_TOKEN_TYP = "at+jwt"  # noqa: S105 - a media type (RFC 9068 §4), not a secret
TENANT_CLAIMS = ("subscription_id", "subscription_gid", "bridge_id", "app")
_REQUIRED_CLAIMS = ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"]
_MAX_TOKEN_LENGTH = 8192
_REVOKED = HotRead(select(RevokedAccessToken.jti).where(RevokedAccessToken.jti == bindparam("jti")))


@dataclass(frozen=True)
class IssuedToken:
    """A signed access token and what the token response says about it (RFC 6749 §5.1)."""

    access_token: str
    expires_in: int
    scope: str
    claims: dict[str, Any]


def resolve_audience(client: RegisteredClient, *, requested: str | None, default: str) -> str | None:
    """The `aud` for a token: the requested resource if the client may have it, else the client's first
    audience, else `default` (the issuer). None when the request names an audience the client lacks."""
    if requested:
        return requested if requested in client.audiences else None
    return client.audiences[0] if client.audiences else default


def issue_access_token(
    *,
    signer: Signer,
    issuer: str,
    client: RegisteredClient,
    subject: str,
    scopes: Sequence[str],
    audience: str,
    lifetime: int,
    tenant: Mapping[str, str | None] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> IssuedToken:
    """Sign a JWT access token for `client` (RFC 9068 §2.2) with the tenant claims: `tenant`'s when given (a
    signed-in user's), else the client's own when it has them; `extra` adds claims such as `grant_id`."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "client_id": client.client_id,
        "scope": " ".join(scopes),
        "iat": now,
        "exp": now + lifetime,
        "jti": random_token(16),
    }
    for name in TENANT_CLAIMS:
        value = tenant.get(name) if tenant is not None else getattr(client, name)
        if value is not None:
            claims[name] = value
    claims.update(extra or {})
    token = signer.sign(claims, typ=ACCESS_TOKEN_TYP)
    return IssuedToken(access_token=token, expires_in=lifetime, scope=claims["scope"], claims=claims)


def verify_access_token(
    token: str,
    *,
    issuer: str,
    key_for: Callable[[str], jwt.PyJWK | None],
    verified: VerifiedTokenCache | None = None,
) -> dict[str, Any] | None:
    """The claims of a valid, unexpired access token this issuer signed; None for anything else, never an error.

    With `verified`, a token that passed before is answered from it while unexpired and while `key_for` still
    knows its key (revocation is the caller's to check, every time).
    """
    if len(token) > _MAX_TOKEN_LENGTH:
        return None
    if verified is not None and (seen := verified.get((issuer, token))) is not None:
        return seen[1] if key_for(seen[0]) is not None else None
    try:
        header = jwt.get_unverified_header(token)
        if str(header.get("typ", "")).lower() not in (ACCESS_TOKEN_TYP, f"application/{ACCESS_TOKEN_TYP}"):
            return None
        kid = str(header.get("kid", ""))
        key = key_for(kid)
        if key is None:
            return None
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[key.algorithm_name],
            issuer=issuer,
            options={"require": _REQUIRED_CLAIMS, "verify_aud": False},
        )
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
    if verified is not None:
        verified.put((issuer, token), kid, claims)
    return claims


def is_revoked(*, engine: Engine, jti: str) -> bool:
    """True when the token with this id was revoked (asked of the database on every check, never cached).

    A hot read on the driver (`shared.hot_reads`): loading the ORM row cost a quarter of a JWT introspection,
    and going through SQLAlchemy's execution most of what was left.
    """
    return _REVOKED.first(engine, {"jti": jti}) is not None


def revoke_access_token(*, session: Session, claims: dict[str, Any]) -> None:
    """Record the token's `jti` until it expires (idempotent), and drop records of tokens that have expired."""
    now = datetime.now(UTC)
    session.execute(delete(RevokedAccessToken).where(RevokedAccessToken.expires_at <= now))
    if session.get(RevokedAccessToken, claims["jti"]) is None:
        session.add(
            RevokedAccessToken(
                jti=claims["jti"],
                client_id=claims["client_id"],
                expires_at=datetime.fromtimestamp(claims["exp"], UTC),
                revoked_at=now,
            )
        )
    try:
        session.commit()
    except IntegrityError:  # revoked concurrently by another request: the outcome is the same
        session.rollback()


def purge_revoked_tokens(*, session: Session) -> int:
    """Delete records of revoked tokens that have expired; return how many."""
    result = session.execute(delete(RevokedAccessToken).where(RevokedAccessToken.expires_at <= datetime.now(UTC)))
    session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]
