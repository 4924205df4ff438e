"""Remembered consent: a user's standing "Allow" for a client, per scope, so app sign-in need not ask again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from authserver.extensions import db


class RememberedConsent(db.Model):  # type: ignore[name-defined]
    """The scopes end user `sub` allowed `client_id` and asked to be remembered; gone after `expires_at`.

    One row per (user, client): later decisions add their scopes to it. Consents that a provider hook marked
    as needing details (endpoint tokens) are never stored.
    """

    __tablename__ = "remembered_consents"
    __table_args__ = (UniqueConstraint("sub", "client_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    sub: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    subscription_id: Mapped[str] = mapped_column(String(64), index=True)
    scope: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
