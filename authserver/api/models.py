"""Personal access tokens: an admin's credentials for the portal's JSON API."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from authserver.extensions import db
from authserver.subscriptions.models import as_utc

__all__ = ["PersonalAccessToken"]


class PersonalAccessToken(db.Model):  # type: ignore[name-defined, misc]
    """A random token shown once; only its SHA-256 digest and a short display prefix are kept."""

    __tablename__ = "personal_access_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("admin_accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)  # None: never

    @property
    def is_expired(self) -> bool:
        """True once its expiry has passed (a token without one never expires)."""
        expires = as_utc(self.expires_at)
        return expires is not None and expires <= datetime.now(UTC)

    @property
    def is_active(self) -> bool:
        """True until revoked or expired."""
        return self.revoked_at is None and not self.is_expired
