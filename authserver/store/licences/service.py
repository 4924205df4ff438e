"""Licences: who may use which app until when. The functions sign-in and endpoint tokens call live here.

- `licence_for(session=, subscription_id=, app_code=)`: the subscription's licence of an app, or None;
- `check_app_access(session=, subscription_user_id=, app_code=, now=)`: raise `LicenceProblem` with a reason
  a person understands unless the user may use the app now (licence, not expired, user active, holds a seat);
- `licensed_endpoint_types(session=, subscription_id=, now=)`: (app, endpoint type) of every active licence.

`subscription_id` is the subscription's primary key (`Subscription.id`, an int, as in the audit log) or its
human SubscriptionID (a str, compared case-insensitively).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from authserver import audit
from authserver.store.clock import aware, utcnow
from authserver.store.errors import LicenceProblem, StoreStateError
from authserver.store.models import FREE, PAID, TRIAL, App, Licence, Plan, SeatAssignment
from authserver.subscriptions.models import Subscription
from authserver.users.models import SubscriptionUser

__all__ = [
    "OwnedApp",
    "check_app_access",
    "get_it",
    "is_active",
    "licence_for",
    "licensed_endpoint_types",
    "list_owned_apps",
    "seat_holders",
    "seats_used",
]


def _subscription_pk(session: Session, subscription_id: int | str) -> int | None:
    if isinstance(subscription_id, int) and not isinstance(subscription_id, bool):
        return subscription_id
    query = select(Subscription.id).where(Subscription.subscription_id_normalized == str(subscription_id).lower())
    return session.execute(query).scalar_one_or_none()


def licence_for(*, session: Session, subscription_id: int | str, app_code: str) -> Licence | None:
    """The subscription's licence of the app with `app_code` (active or expired), or None."""
    pk = _subscription_pk(session, subscription_id)
    if pk is None:
        return None
    query = (
        select(Licence).join(App, Licence.app_id == App.id).where(Licence.subscription_pk == pk, App.code == app_code)
    )
    return session.execute(query).unique().scalar_one_or_none()


def is_active(licence: Licence, now: datetime | None = None) -> bool:
    """True until the licence's end (Free licences have none)."""
    ends = aware(licence.ends_at)
    return ends is None or (now or utcnow()) < ends


def seats_used(*, session: Session, licence: Licence) -> int:
    """Seats in use: active users assigned to the app (facts §5 row 10)."""
    query = (
        select(func.count())
        .select_from(SeatAssignment)
        .join(SubscriptionUser, SeatAssignment.subscription_user_id == SubscriptionUser.id)
        .where(SeatAssignment.licence_id == licence.id, SubscriptionUser.active.is_(True))
    )
    return int(session.execute(query).scalar_one())


def seat_holders(*, session: Session, licence: Licence) -> list[uuid.UUID]:
    """The active assigned users who hold a seat: the first `seats` of them by assignment order.

    More active assignees than seats can only come from users reactivated after the seats filled up; the
    latest assigned of them wait for a free seat.
    """
    query = (
        select(SeatAssignment.subscription_user_id)
        .join(SubscriptionUser, SeatAssignment.subscription_user_id == SubscriptionUser.id)
        .where(SeatAssignment.licence_id == licence.id, SubscriptionUser.active.is_(True))
        .order_by(SeatAssignment.assigned_at, SeatAssignment.id)
        .limit(licence.seats)
    )
    return list(session.execute(query).scalars())


def check_app_access(
    *, session: Session, subscription_user_id: uuid.UUID | str, app_code: str, now: datetime | None = None
) -> Licence:
    """The licence through which the user may use the app now; raise `LicenceProblem` saying why not."""
    now = now or utcnow()
    try:
        user_id = (
            subscription_user_id if isinstance(subscription_user_id, uuid.UUID) else uuid.UUID(subscription_user_id)
        )
    except ValueError:
        raise LicenceProblem("unknown-user", "This user is not known to Cloud Store.") from None
    user = session.get(SubscriptionUser, user_id)
    if user is None:
        raise LicenceProblem("unknown-user", "This user is not known to Cloud Store.")
    app = session.execute(select(App).where(App.code == app_code)).scalar_one_or_none()
    if app is None:
        raise LicenceProblem("unknown-app", "There is no such app.")
    licence = licence_for(session=session, subscription_id=user.subscription_pk, app_code=app_code)
    if licence is None:
        raise LicenceProblem("no-licence", f"Your subscription has no licence for {app.name}.")
    if not is_active(licence, now):
        ended = aware(licence.ends_at) or now
        raise LicenceProblem(
            "expired",
            f"The licence of {app.name} expired on {ended:%Y-%m-%d}. "
            "Ask your subscription's administrator to renew it.",
        )
    if not user.active or user.status != "VERIFIED":
        raise LicenceProblem("user-inactive", "Your user is not active in this subscription.")
    if user.id not in seat_holders(session=session, licence=licence):
        raise LicenceProblem(
            "no-seat", f"You have no seat in {app.name}. Ask your subscription's administrator to assign you one."
        )
    return licence


def licensed_endpoint_types(
    *, session: Session, subscription_id: int | str, now: datetime | None = None
) -> list[tuple[App, str]]:
    """(app, endpoint type) for each active licence of an app that exposes an Integration Endpoint."""
    pk = _subscription_pk(session, subscription_id)
    if pk is None:
        return []
    query = (
        select(Licence)
        .join(App, Licence.app_id == App.id)
        .where(Licence.subscription_pk == pk, App.endpoint_type.is_not(None))
        .order_by(App.position, App.name)
    )
    licences = session.execute(query).unique().scalars()
    return [(lic.app, lic.app.endpoint_type) for lic in licences if is_active(lic, now) and lic.app.endpoint_type]


@dataclass(frozen=True)
class OwnedApp:
    """A row of My Apps."""

    licence: Licence
    app: App
    plan: Plan
    seats_used: int
    active: bool

    @property
    def valid_until(self) -> datetime | None:
        return aware(self.licence.ends_at)


def list_owned_apps(*, session: Session, subscription: Subscription, now: datetime | None = None) -> list[OwnedApp]:
    """The subscription's apps with plan, seats used/total and end, in catalogue order."""
    query = (
        select(Licence)
        .join(App, Licence.app_id == App.id)
        .where(Licence.subscription_pk == subscription.id)
        .order_by(App.position, App.name)
    )
    licences = session.execute(query).unique().scalars()
    return [
        OwnedApp(lic, lic.app, lic.plan, seats_used(session=session, licence=lic), is_active(lic, now))
        for lic in licences
    ]


def get_it(
    *, session: Session, subscription: Subscription, app: App, plan: Plan, actor: str, now: datetime | None = None
) -> Licence:
    """Add a Free app, or start the one trial of a Trial app, for the subscription."""
    now = now or utcnow()
    if not app.can_get_it:
        raise StoreStateError(f"{app.name} is a paid app: add it to the cart to buy it.")
    licence = licence_for(session=session, subscription_id=subscription.id, app_code=app.code)
    if app.pricing == TRIAL and licence is not None and licence.trial_started_at is not None:
        raise StoreStateError(f"The trial of {app.name} has already been used in this subscription.")
    if licence is not None:
        raise StoreStateError(f"{app.name} is already in this subscription's apps.")
    kind = FREE if app.pricing == FREE else TRIAL
    licence = Licence(
        subscription_pk=subscription.id,
        app_id=app.id,
        plan_id=plan.id,
        kind=kind,
        seats=plan.users,
        starts_at=now,
        ends_at=None if kind == FREE else now + timedelta(days=app.trial_days),
        trial_started_at=now if kind == TRIAL else None,
        created_at=now,
        updated_at=now,
    )
    session.add(licence)
    try:
        session.flush()
    except IntegrityError:  # a concurrent Get It won
        session.rollback()
        raise StoreStateError(f"{app.name} is already in this subscription's apps.") from None
    audit.record(
        session=session,
        event="licence.started",
        actor=actor,
        subscription_id=subscription.id,
        app=app.code,
        kind=kind,
        seats=plan.users,
        ends_at=licence.ends_at.isoformat() if licence.ends_at else None,
    )
    session.commit()
    return licence


def is_paid_and_active(licence: Licence | None, now: datetime) -> bool:
    """True for a bought licence that has not ended."""
    return licence is not None and licence.kind == PAID and is_active(licence, now)
