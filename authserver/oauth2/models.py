"""What the OAuth endpoints keep: revoked JWT access token ids until they expire, and for signed-in users each
authorization (a grant) with its authorization codes and refresh tokens. Codes and refresh tokens are kept
only as SHA-256 digests; every row has an expiry after which `purge` deletes it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from authserver.extensions import db


class RevokedAccessToken(db.Model):  # type: ignore[name-defined]
    """A revoked JWT access token (RFC 7009), kept by `jti` until its `exp`, after which it is invalid anyway."""

    __tablename__ = "revoked_access_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    revoked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UserGrant(db.Model):  # type: ignore[name-defined]
    """One authorization a signed-in end user gave a client: the "family" of the code and refresh tokens it
    issued. Revoking it (code replay, refresh-token reuse, RFC 7009 revocation) ends every token of the family;
    the access tokens carry its id as `grant_id`. `expires_at` follows the longest-lived token issued."""

    __tablename__ = "oauth_user_grants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    sub: Mapped[str] = mapped_column(String(64), index=True)
    subscription_id: Mapped[str] = mapped_column(String(64), index=True)
    user: Mapped[dict] = mapped_column(JSON)  # the EndUser as signed in, for ID tokens and userinfo
    scope: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuthorizationCode(db.Model):  # type: ignore[name-defined]
    """An authorization code (RFC 6749 §4.1.2): single use, short-lived, bound to client, redirect URI, PKCE
    challenge and nonce. Kept after use, while its grant lives, so that a replay can be recognised (§10.5)."""

    __tablename__ = "oauth_authorization_codes"
    __table_args__ = (Index("ix_oauth_authorization_codes_client_id_nonce", "client_id", "nonce"),)

    code_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    grant_id: Mapped[str] = mapped_column(ForeignKey("oauth_user_grants.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(String(64))
    redirect_uri: Mapped[str | None] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(10))
    nonce: Mapped[str | None] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RefreshToken(db.Model):  # type: ignore[name-defined]
    """A refresh token (RFC 6749 §6), rotated on every use: the used one is kept, marked, until it expires, so
    that presenting it again is recognised as reuse and revokes the family (RFC 9700 §4.14.2)."""

    __tablename__ = "oauth_refresh_tokens"

    token_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    grant_id: Mapped[str] = mapped_column(ForeignKey("oauth_user_grants.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
