"""Subscription users: ERP users invited to a subscription, who sign in to its apps (never to the portal)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from authserver.extensions import db
from authserver.subscriptions.models import Subscription

__all__ = ["INVITED", "STATUSES", "VERIFIED", "SubscriptionUser"]

INVITED = "INVITED"
VERIFIED = "VERIFIED"
STATUSES = (INVITED, VERIFIED)


class SubscriptionUser(db.Model):  # type: ignore[name-defined, misc]
    """An ERP user of a subscription; `id` is the user's OIDC `sub`.

    The ERP User ID is unique within the subscription, case-insensitively, and so is the e-mail address.
    The invitation link is kept only as a SHA-256 digest; a new invitation replaces it.
    """

    __tablename__ = "subscription_users"
    __table_args__ = (
        UniqueConstraint("subscription_pk", "erp_user_id_normalized", name="uq_subscription_users_erp_user"),
        UniqueConstraint("subscription_pk", "email_normalized", name="uq_subscription_users_email"),
        CheckConstraint("status IN ('INVITED', 'VERIFIED')", name="status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    subscription_pk: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True)
    erp_user_id: Mapped[str] = mapped_column(String(50))
    erp_user_id_normalized: Mapped[str] = mapped_column(String(50))
    email: Mapped[str] = mapped_column(String(254))
    email_normalized: Mapped[str] = mapped_column(String(254), index=True)
    status: Mapped[str] = mapped_column(String(16), default=INVITED)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    invitation_digest: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    invitation_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    invited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    subscription: Mapped[Subscription] = relationship()

    def __repr__(self) -> str:
        return f"SubscriptionUser({self.erp_user_id!r})"

    @property
    def is_verified(self) -> bool:
        """True once the user confirmed the invitation."""
        return self.status == VERIFIED

    @property
    def login(self) -> str:
        """The `SubscriptionID/UserID` form of the user's sign-in name."""
        return f"{self.subscription.subscription_id}/{self.erp_user_id}"
