"""Refresh tokens (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2).

Every use issues a new refresh token of the same family (grant) and marks the presented one used, in one
conditional UPDATE. Presenting a used token again means two parties hold the family: the whole family is
revoked, with the access tokens it issued. Tokens are random; only their SHA-256 digests are stored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from authserver.oauth2.models import RefreshToken, UserGrant
from authserver.oauth2.user_grants import GrantRecord, as_utc, bulk, extend_grant, revoke_grant
from shared.secrets import digest, random_token

__all__ = [
    "FoundRefreshToken",
    "RefreshTokenReused",
    "claim_refresh_token",
    "find_refresh_token",
    "record_issued_tokens",
]

log = logging.getLogger(__name__)


class RefreshTokenReused(Exception):  # noqa: N818 - names the event that revoked the family
    """A used refresh token was presented again; its family has been revoked."""


@dataclass(frozen=True)
class FoundRefreshToken:
    """A presented refresh token with its grant, as the token and introspection endpoints see it."""

    token_digest: str
    grant: GrantRecord
    client_id: str
    issued_at: datetime
    expires_at: datetime
    used: bool

    def check_client(self, client: object) -> bool:
        """RFC 6749 §6: the token was issued to this client."""
        return bool(client.get_client_id() == self.client_id)  # type: ignore[attr-defined]

    def get_scope(self) -> str:
        """The scope of the grant (RFC 6749 §6: a refresh keeps it, or narrows the access token's)."""
        return " ".join(self.grant.scopes)


def record_issued_tokens(
    *, session: Session, grant_id: str, client_id: str, access_expires_at: datetime, refresh_lifetime: int | None
) -> str | None:
    """Note what a grant just issued: a new refresh token (returned) when `refresh_lifetime` is given, and keep
    the grant at least as long as the longest-lived token (so replay and reuse stay detectable)."""
    now = datetime.now(UTC)
    until, token = access_expires_at, None
    if refresh_lifetime is not None:
        token = random_token(32)
        expires_at = now + timedelta(seconds=refresh_lifetime)
        session.add(
            RefreshToken(
                token_digest=digest(token),
                grant_id=grant_id,
                client_id=client_id,
                created_at=now,
                expires_at=expires_at,
            )
        )
        until = max(until, expires_at)
    extend_grant(session=session, grant_id=grant_id, until=until)
    session.commit()
    return token


def find_refresh_token(*, session: Session, token: str) -> FoundRefreshToken | None:
    """The refresh token with its grant, used or not; None when unknown, expired or its grant is revoked."""
    row = session.get(RefreshToken, digest(token)) if token and len(token) <= 512 else None
    if row is None or as_utc(row.expires_at) <= datetime.now(UTC):
        return None
    grant = session.get(UserGrant, row.grant_id)
    record = GrantRecord.from_row(grant) if grant is not None and grant.revoked_at is None else None
    if record is None:
        return None
    return FoundRefreshToken(
        token_digest=row.token_digest,
        grant=record,
        client_id=row.client_id,
        issued_at=as_utc(row.created_at),
        expires_at=as_utc(row.expires_at),
        used=row.used_at is not None,
    )


def claim_refresh_token(*, session: Session, found: FoundRefreshToken) -> None:
    """Mark a presented, unused refresh token used, just before its successor is issued.

    Raises `RefreshTokenReused`, after revoking the family, when it was used before, also when another
    request used it a moment ago: two holders of one family is exactly what rotation exists to detect.
    """
    claimed = bulk(
        session,
        update(RefreshToken)
        .where(RefreshToken.token_digest == found.token_digest, RefreshToken.used_at.is_(None))
        .values(used_at=datetime.now(UTC)),
    )
    session.commit()
    if found.used or claimed.rowcount != 1:  # type: ignore[attr-defined]
        log.warning("refresh token reused (grant %s, client %s): family revoked", found.grant.id, found.client_id)
        revoke_grant(session=session, grant_id=found.grant.id)
        raise RefreshTokenReused(found.grant.id)
