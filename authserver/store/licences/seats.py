"""Seats: the app's Users tab assigns subscription users to a licence, never more than the seats bought.

The limit holds in the database, not only in this process: assigning first updates the licence row, which takes
its row lock on PostgreSQL (the database's write lock on SQLite) until the transaction ends, then counts the
seats in use and inserts the assignment. A second, simultaneous assignment waits for that lock and then counts
the first one's committed seat, so two requests for the last seat cannot both succeed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from authserver import audit
from authserver.store.clock import aware, utcnow
from authserver.store.errors import StoreStateError
from authserver.store.licences.service import is_active, seats_used
from authserver.store.models import Licence, SeatAssignment
from authserver.subscriptions.models import Subscription
from authserver.users.models import VERIFIED, SubscriptionUser
from shared.errors import NotFound

__all__ = ["UserSeat", "assign_seat", "list_user_seats", "unassign_seat"]


@dataclass(frozen=True)
class UserSeat:
    """A subscription user as the app's Users tab shows them."""

    user: SubscriptionUser
    assigned: bool
    eligible: bool
    reason: str | None


def _ineligible_reason(user: SubscriptionUser, subscription: Subscription) -> str | None:
    if user.status != VERIFIED:
        return "has not confirmed the invitation yet"
    if not user.active:
        return "is not active"
    if not subscription.has_verified_bridge:
        return "cannot be assigned before a connection is verified"
    return None


def list_user_seats(*, session: Session, subscription: Subscription, licence: Licence) -> list[UserSeat]:
    """Every user of the subscription, whether assigned to the licence, and whether they could be."""
    users = session.execute(
        select(SubscriptionUser)
        .where(SubscriptionUser.subscription_pk == subscription.id)
        .order_by(SubscriptionUser.erp_user_id_normalized)
    ).scalars()
    assigned = set(
        session.execute(
            select(SeatAssignment.subscription_user_id).where(SeatAssignment.licence_id == licence.id)
        ).scalars()
    )
    rows = []
    for user in users:
        reason = _ineligible_reason(user, subscription)
        rows.append(UserSeat(user, user.id in assigned, reason is None, reason))
    return rows


def _user(session: Session, subscription: Subscription, user_id: uuid.UUID | str) -> SubscriptionUser:
    try:
        key = user_id if isinstance(user_id, uuid.UUID) else uuid.UUID(str(user_id))
    except ValueError:
        raise NotFound("There is no such user.") from None
    user = session.get(SubscriptionUser, key)
    if user is None or user.subscription_pk != subscription.id:
        raise NotFound("There is no such user.")
    return user


def assign_seat(
    *,
    session: Session,
    subscription: Subscription,
    licence: Licence,
    user_id: uuid.UUID | str,
    actor: str,
    ip: str | None = None,
    now: datetime | None = None,
) -> SeatAssignment:
    """Give a VERIFIED, active user (of a subscription with a verified connection) a seat of the licence."""
    now = now or utcnow()
    if licence.subscription_pk != subscription.id:
        raise NotFound("There is no such app in this subscription.")
    user = _user(session, subscription, user_id)
    reason = _ineligible_reason(user, subscription)
    if reason:
        raise StoreStateError(f"{user.erp_user_id} {reason}.")
    if not is_active(licence, now):
        ends = aware(licence.ends_at)
        raise StoreStateError(f"The licence of {licence.app.name} expired on {ends:%Y-%m-%d}: renew it first.")
    # Lock the licence row first: whoever comes second waits here and then counts the first one's seat.
    session.execute(update(Licence).where(Licence.id == licence.id).values(updated_at=now))
    existing = session.execute(
        select(SeatAssignment).where(
            SeatAssignment.licence_id == licence.id, SeatAssignment.subscription_user_id == user.id
        )
    ).scalar_one_or_none()
    if existing is not None:
        session.commit()
        return existing
    seats = session.execute(select(Licence.seats).where(Licence.id == licence.id)).scalar_one()
    if seats_used(session=session, licence=licence) >= seats:
        session.rollback()
        raise StoreStateError(
            f"All {seats} seats of {licence.app.name} are taken. Remove a user from the app or Get More Users."
        )
    assignment = SeatAssignment(
        licence_id=licence.id, subscription_pk=subscription.id, subscription_user_id=user.id, assigned_at=now
    )
    session.add(assignment)
    try:
        session.flush()
    except IntegrityError:  # assigned concurrently: the seat is theirs already
        session.rollback()
        raise StoreStateError(f"{user.erp_user_id} already has a seat.") from None
    audit.record(
        session=session,
        event="seat.assigned",
        actor=actor,
        subscription_id=subscription.id,
        ip=ip,
        app=licence.app.code,
        user=user.erp_user_id,
    )
    session.commit()
    return assignment


def unassign_seat(
    *,
    session: Session,
    subscription: Subscription,
    licence: Licence,
    user_id: uuid.UUID | str,
    actor: str,
    ip: str | None = None,
) -> bool:
    """Free the user's seat of the licence; False when they had none."""
    if licence.subscription_pk != subscription.id:
        raise NotFound("There is no such app in this subscription.")
    user = _user(session, subscription, user_id)
    result = session.execute(
        delete(SeatAssignment).where(
            SeatAssignment.licence_id == licence.id, SeatAssignment.subscription_user_id == user.id
        )
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        session.rollback()
        return False
    audit.record(
        session=session,
        event="seat.removed",
        actor=actor,
        subscription_id=subscription.id,
        ip=ip,
        app=licence.app.code,
        user=user.erp_user_id,
    )
    session.commit()
    return True
