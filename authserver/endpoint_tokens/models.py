"""Endpoint tokens (API keys) and the pending requests that create them through the ERP's Allow / Deny."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from authserver.extensions import db
from authserver.subscriptions.models import Subscription

__all__ = ["ACTIVE", "PENDING", "REVOKED", "EndpointToken", "EndpointTokenRequest"]

PENDING = "PENDING"  # minted, being registered in EBS: not usable
ACTIVE = "ACTIVE"
REVOKED = "REVOKED"


class EndpointToken(db.Model):  # type: ignore[name-defined, misc]
    """An API key of one endpoint type for one subscription and bridge.

    The key is kept as a SHA-256 digest (lookup) and a Fernet-encrypted copy (click-to-show). After a rotation
    the previous digest keeps working until `previous_valid_until`. `live_slot` is set while the token is
    pending or active and unique, so there is at most one live token per (subscription, bridge, type): EBS
    keeps one parameter per endpoint type.
    """

    __tablename__ = "endpoint_tokens"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subscription_pk: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True)
    bridge_id: Mapped[str] = mapped_column(String(50))
    endpoint_type: Mapped[str] = mapped_column(String(50))
    app_code: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    live_slot: Mapped[str | None] = mapped_column(String(200), unique=True)
    key_digest: Mapped[str] = mapped_column(String(64), unique=True)
    key_encrypted: Mapped[str] = mapped_column(Text)
    previous_key_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    previous_valid_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    authorized_by: Mapped[str] = mapped_column(String(50))
    authorized_by_name: Mapped[str | None] = mapped_column(String(200))
    created_by_account: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    subscription: Mapped[Subscription] = relationship()


class EndpointTokenRequest(db.Model):  # type: ignore[name-defined, misc]
    """Add Token, waiting for the ERP user's Allow or Deny: what will be created, by which admin, and the
    authorization request's `state` (as a digest) and PKCE verifier (encrypted)."""

    __tablename__ = "endpoint_token_requests"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    state_digest: Mapped[str] = mapped_column(String(64), unique=True)
    code_verifier_encrypted: Mapped[str] = mapped_column(Text)
    subscription_pk: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(Integer)
    bridge_id: Mapped[str] = mapped_column(String(50))
    endpoint_type: Mapped[str] = mapped_column(String(50))
    app_code: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(20))
    message: Mapped[str | None] = mapped_column(Text)
    token_id: Mapped[str | None] = mapped_column(String(40))
    via_api: Mapped[bool] = mapped_column(Boolean, default=False)

    subscription: Mapped[Subscription] = relationship()
