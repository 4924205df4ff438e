"""What the OAuth endpoints keep: the ids of revoked JWT access tokens until those tokens expire."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from authserver.extensions import db


class RevokedAccessToken(db.Model):  # type: ignore[name-defined]
    """A revoked JWT access token (RFC 7009), kept by `jti` until its `exp`, after which it is invalid anyway."""

    __tablename__ = "revoked_access_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    revoked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
