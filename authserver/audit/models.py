"""Audit events: append-only rows, scoped by subscription when they concern a tenant."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from authserver.extensions import db


class AuditEvent(db.Model):  # type: ignore[name-defined]
    """One thing that happened; `details` never holds a secret."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_subscription_occurred", "subscription_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(200), index=True)
    subscription_id: Mapped[int | None] = mapped_column(Integer, default=None)
    event: Mapped[str] = mapped_column(String(64), index=True)
    ip: Mapped[str | None] = mapped_column(String(45), default=None)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
