"""Portal accounts: the administrators of subscriptions and the operators who run the store."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from authserver.extensions import db
from shared.secrets import digest

ADMIN = "admin"
OPERATOR = "operator"
ROLES = (ADMIN, OPERATOR)


def stamp_tag(stamp: str) -> str:
    """A short digest of a security stamp, as carried in links and session cookies."""
    return digest(stamp)[:16]


class AdminAccount(UserMixin, db.Model):  # type: ignore[name-defined, misc]
    """An e-mail + password account; `security_stamp` changes on confirmation and password reset."""

    __tablename__ = "admin_accounts"
    __table_args__ = (CheckConstraint("role IN ('admin', 'operator')", name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    email_normalized: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=ADMIN)
    security_stamp: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    last_signin_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)

    @property
    def is_confirmed(self) -> bool:
        """True once the e-mail address has been confirmed."""
        return self.confirmed_at is not None

    @property
    def is_operator(self) -> bool:
        """True for the store's operators."""
        return self.role == OPERATOR

    def get_id(self) -> str:
        """Flask-Login's session id: the account id and its stamp, so a password reset ends other sessions."""
        return f"{self.id}:{stamp_tag(self.security_stamp)}"
