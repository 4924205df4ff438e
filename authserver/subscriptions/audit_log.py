"""The Audit log tab: a subscription's security events and its admin's own (sign-ins, password resets)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from authserver import audit
from authserver.audit.models import AuditEvent
from authserver.subscriptions.models import Subscription

__all__ = ["EventPage", "subscription_events"]


@dataclass(frozen=True)
class EventPage:
    """One page of events, newest first."""

    events: list[AuditEvent]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages there are (at least one)."""
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        """True when an older page follows."""
        return self.page < self.pages


def subscription_events(
    *, session: Session, subscription: Subscription, page: int = 1, per_page: int = 50
) -> EventPage:
    """The subscription's events and its owner's account events, newest first, `per_page` at a time."""
    scope = or_(
        AuditEvent.subscription_id == subscription.id,
        and_(AuditEvent.subscription_id.is_(None), AuditEvent.actor == audit.account_actor(subscription.owner_id)),
    )
    total = session.execute(select(func.count()).select_from(AuditEvent).where(scope)).scalar_one()
    page = max(1, page)
    query = (
        select(AuditEvent)
        .where(scope)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return EventPage(list(session.execute(query).scalars()), page, per_page, total)
