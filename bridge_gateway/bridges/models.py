"""A bridge's connection settings: the gateway owns these rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from bridge_gateway.extensions import db


class Bridge(db.Model):  # type: ignore[name-defined]
    """How to reach one EBS WebApi bridge of a subscription.

    SubscriptionID and BridgeID are case-insensitive in EBS, so they are unique together case-insensitively.
    The subscription password is kept encrypted (it must be sent on every WebApi login) and never logged.
    """

    __tablename__ = "gateway_bridges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[str] = mapped_column(String(50))
    bridge_id: Mapped[str] = mapped_column(String(50))
    subscription_gid: Mapped[str] = mapped_column(String(64))
    subscription_password_encrypted: Mapped[str] = mapped_column(Text)
    scheme: Mapped[str] = mapped_column(String(5))
    host: Mapped[str] = mapped_column(String(253))
    port: Mapped[int] = mapped_column(Integer)
    database_id: Mapped[str] = mapped_column(String(50))
    company_id: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Set when Verify Connection stage 2 succeeds; cleared when host, port, scheme or credentials change.
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


# Case-insensitive uniqueness, as an expression index (SQLite and PostgreSQL both support it; it also serves
# lookups by subscription). Autogenerate cannot compare expression indexes on SQLite: it warns and skips it.
Index(
    "uq_gateway_bridges_subscription_bridge",
    func.lower(Bridge.subscription_id),
    func.lower(Bridge.bridge_id),
    unique=True,
)
