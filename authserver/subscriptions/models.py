"""Subscriptions (a customer's cloud tenancy) and their bridges (connections to EBS application servers)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from authserver.extensions import db

__all__ = ["ADDRESS_SETTINGS", "Bridge", "Subscription", "as_utc"]

# Changing where the server is makes a bridge unverified again (as the gateway does with these settings).
ADDRESS_SETTINGS = ("scheme", "host", "port")


def as_utc(moment: datetime | None) -> datetime | None:
    """An aware UTC datetime (SQLite hands back naive ones; everything stored is UTC)."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Subscription(db.Model):  # type: ignore[name-defined, misc]
    """A customer's subscription, owned by one admin account.

    `subscription_id` is the human SubscriptionID (unique case-insensitively through its lower-case copy),
    `gid` the SubscriptionGID. The subscription password is encrypted, because every EBS login sends it.
    The integer `id` is the key of the audit log's `subscription_id` column.
    """

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[str] = mapped_column(String(50))
    subscription_id_normalized: Mapped[str] = mapped_column(String(50), unique=True)
    gid: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    company_name: Mapped[str] = mapped_column(String(200))
    serial_number: Mapped[str] = mapped_column(String(50))
    vat_number: Mapped[str] = mapped_column(String(30))
    password_encrypted: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("admin_accounts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    bridges: Mapped[list[Bridge]] = relationship(
        back_populates="subscription", order_by="Bridge.id", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:  # never the password
        return f"Subscription({self.subscription_id!r})"

    @property
    def has_verified_bridge(self) -> bool:
        """True once at least one of its bridges passed Verify Connection."""
        return any(bridge.is_verified for bridge in self.bridges)


class Bridge(db.Model):  # type: ignore[name-defined, misc]
    """A connection of a subscription to an EBS application server; BridgeID is unique within the subscription.

    A pending Verify-Connection challenge (stage 1 passed) keeps its 7-digit code encrypted, so the page can show
    it again until it expires; `challenge_user_id` is the back-office user who passed stage 1.
    """

    __tablename__ = "bridges"
    __table_args__ = (
        UniqueConstraint("subscription_pk", "bridge_id_normalized", name="uq_bridges_subscription_bridge"),
        CheckConstraint("scheme IN ('http', 'https')", name="scheme"),
        CheckConstraint("port BETWEEN 1 AND 65535", name="port"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_pk: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True)
    bridge_id: Mapped[str] = mapped_column(String(50))
    bridge_id_normalized: Mapped[str] = mapped_column(String(50))
    database_id: Mapped[str] = mapped_column(String(50))
    company_id: Mapped[str] = mapped_column(String(50))
    scheme: Mapped[str] = mapped_column(String(5), default="https")
    host: Mapped[str] = mapped_column(String(253))
    port: Mapped[int] = mapped_column(Integer)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    verified_by: Mapped[str | None] = mapped_column(String(50), default=None)
    challenge_code_encrypted: Mapped[str | None] = mapped_column(Text, default=None)
    challenge_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    challenge_user_id: Mapped[str | None] = mapped_column(String(50), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    subscription: Mapped[Subscription] = relationship(back_populates="bridges")

    def __repr__(self) -> str:
        return f"Bridge({self.bridge_id!r})"

    @property
    def is_verified(self) -> bool:
        """True once Verify Connection succeeded (and the address has not changed since)."""
        return self.verified_at is not None

    @property
    def challenge_file(self) -> str:
        """Where the customer puts the code: `CSWebAssets/<SubscriptionID>-<BridgeID>.txt`."""
        return f"CSWebAssets/{self.subscription.subscription_id}-{self.bridge_id}.txt"

    def mark_unverified(self) -> None:
        """Forget the verification and any pending code (the server's address or the password changed)."""
        self.verified_at = None
        self.verified_by = None
        self.challenge_code_encrypted = None
        self.challenge_expires_at = None
        self.challenge_user_id = None

    def challenge_pending(self, now: datetime) -> bool:
        """True while a stage-1 code waits for stage 2 and has not expired."""
        expires = as_utc(self.challenge_expires_at)
        return self.challenge_code_encrypted is not None and expires is not None and now < expires
