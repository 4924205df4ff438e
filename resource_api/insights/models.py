"""Application-insights events as EBS products send them: system events and usage, per subscription and bridge."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from resource_api.extensions import db

ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements only INTEGER keys


class InsightEvent(db.Model):  # type: ignore[name-defined]
    """One event, stored once per subscription and client event id (events without an id are never merged)."""

    __tablename__ = "insight_events"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        Index("ix_insight_events_tenant_triggered", "subscription_id", "bridge_id", "triggered_on"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    subscription_id: Mapped[str] = mapped_column(String(50))
    bridge_id: Mapped[str] = mapped_column(String(50))
    event_id: Mapped[str | None] = mapped_column(String(100))
    event_type: Mapped[str] = mapped_column(String(32))
    other_event: Mapped[str | None] = mapped_column(String(100))
    application_server: Mapped[str] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(String(2000))
    triggered_on: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    product: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[str | None] = mapped_column(String(64))
    user_code: Mapped[str | None] = mapped_column(String(100))
    properties: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
