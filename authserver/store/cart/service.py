"""The cart of a subscription: one line per app (a purchase, more users, or a renewal), priced when shown.

Prices come from the catalogue and the licence at the moment the cart is priced; `place_order` prices it again,
so what the order charges is what the catalogue says when the admin presses Next.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from authserver.store.clock import aware, utcnow
from authserver.store.errors import StoreFieldError, StoreStateError
from authserver.store.licences.service import is_active, is_paid_and_active, licence_for, seats_used
from authserver.store.models import MORE_USERS, NEW, PAID, RENEWAL, App, CartLine, Licence, Plan
from authserver.store.money import MAX_MONTHS, MIN_MONTHS, Totals, extra_users_net, period_net, totals
from authserver.subscriptions.models import Subscription
from shared.errors import NotFound

__all__ = [
    "MAX_EXTRA_USERS",
    "PricedCart",
    "PricedLine",
    "add_to_cart",
    "cart_lines",
    "check_months",
    "check_users",
    "price_line",
    "priced_cart",
    "remove_line",
]

MAX_EXTRA_USERS = 1000
MONTHS_MESSAGE = f"Choose a number of months from {MIN_MONTHS} to {MAX_MONTHS}."
USERS_MESSAGE = f"Enter a number of users from 1 to {MAX_EXTRA_USERS}."


def check_months(value: Any) -> int:
    """A whole number of months from 1 to 36 (as typed or as sent); StoreFieldError otherwise."""
    return _whole(value, "months", MIN_MONTHS, MAX_MONTHS, MONTHS_MESSAGE)


def check_users(value: Any) -> int:
    """A whole number of extra users from 1 to 1000; StoreFieldError otherwise."""
    return _whole(value, "users", 1, MAX_EXTRA_USERS, USERS_MESSAGE)


def _whole(value: Any, field: str, low: int, high: int, message: str) -> int:
    if isinstance(value, bool) or isinstance(value, float):
        raise StoreFieldError(field, message)
    text = str(value).strip() if value is not None else ""
    if not text.isascii() or not text.isdigit() or not low <= int(text) <= high:
        raise StoreFieldError(field, message)
    return int(text)


@dataclass(frozen=True)
class PricedLine:
    """A cart or order line with its description and net price."""

    kind: str
    app: App
    plan: Plan
    months: int | None
    users: int | None
    description: str
    net: Decimal
    line_id: int | None = None
    problem: str | None = None


@dataclass(frozen=True)
class PricedCart:
    """The lines and their totals (net, VAT, gross)."""

    lines: list[PricedLine]
    totals: Totals
    currency: str

    @property
    def is_empty(self) -> bool:
        return not self.lines

    @property
    def problems(self) -> list[str]:
        """Why lines cannot be bought any more (they must be removed before checking out)."""
        return [line.problem for line in self.lines if line.problem]


def _check_line(
    session: Session, subscription: Subscription, kind: str, app: App, plan: Plan, now: datetime
) -> Licence | None:
    """Raise if the line cannot be bought now; return the licence it acts on (if any)."""
    licence = licence_for(session=session, subscription_id=subscription.id, app_code=app.code)
    if kind == NEW:
        if not app.can_buy:
            raise StoreStateError(f"{app.name} is free: add it with Get It.")
        if not plan.active or plan.app_id != app.id:
            raise NotFound("There is no such version of this app.")
        if is_paid_and_active(licence, now):
            raise StoreStateError(f"{app.name} is already in this subscription: use Renew or Get More Users.")
        used = seats_used(session=session, licence=licence) if licence is not None else 0
        if used > plan.users:
            raise StoreStateError(
                f"{used} users are assigned to {app.name}; choose a version with at least that many users, "
                "or remove users from the app first."
            )
        return licence
    if licence is None or licence.kind != PAID:
        raise StoreStateError(f"Buy {app.name} first: only bought apps can be renewed or get more users.")
    if kind == MORE_USERS and not is_active(licence, now):
        raise StoreStateError(f"The licence of {app.name} has expired: renew it first.")
    return licence


def price_line(
    *,
    session: Session,
    subscription: Subscription,
    kind: str,
    app: App,
    plan: Plan,
    months: int | None,
    users: int | None,
    now: datetime,
) -> PricedLine:
    """Check a line against the current licence and price it (Decimal, cents, see `authserver.store.money`)."""
    licence = _check_line(session, subscription, kind, app, plan, now)
    if kind in (NEW, RENEWAL):
        months = check_months(months)
    else:
        users = check_users(users)
    if kind == NEW:
        net = period_net(monthly_price=plan.monthly_price, months=months, extra_user_price=plan.extra_user_price)
        text = f"{app.name}, {plan.name} ({plan.users} users), {months} month{'s' if months != 1 else ''}"
    elif licence is None:  # _check_line refuses renewals and more users without a licence
        raise StoreStateError(f"Buy {app.name} first.")
    elif kind == RENEWAL:
        plan = licence.plan
        extra = max(0, licence.seats - plan.users)
        net = period_net(
            monthly_price=plan.monthly_price, months=months, extra_users=extra, extra_user_price=plan.extra_user_price
        )
        text = f"{app.name}, renewal of {plan.name} ({licence.seats} users), {months} month{'s' if months != 1 else ''}"
    else:
        plan = licence.plan
        ends = aware(licence.ends_at)
        if ends is None:
            raise StoreStateError(f"{app.name} has no end date: it needs no more users bought.")
        net = extra_users_net(
            users=users, extra_user_price=plan.extra_user_price, today=now.date(), ends_on=ends.date()
        )
        text = f"{app.name}, {users} more user{'s' if users != 1 else ''} until {ends:%Y-%m-%d}"
    return PricedLine(kind, app, plan, months, users, text, net)


def add_to_cart(
    *,
    session: Session,
    subscription: Subscription,
    kind: str,
    app: App,
    plan: Plan | None = None,
    months: Any = None,
    users: Any = None,
    now: datetime | None = None,
) -> CartLine:
    """Put a purchase, a renewal or more users of `app` in the cart, replacing the app's earlier line."""
    now = now or utcnow()
    if kind in (NEW, RENEWAL):
        months, users = check_months(months), None
    elif kind == MORE_USERS:
        months, users = None, check_users(users)
    else:
        raise StoreFieldError("kind", "Choose a purchase, a renewal or more users.")
    if plan is None:
        licence = licence_for(session=session, subscription_id=subscription.id, app_code=app.code)
        if licence is None:
            raise StoreStateError(f"Buy {app.name} first: only bought apps can be renewed or get more users.")
        plan = licence.plan
    price_line(
        session=session, subscription=subscription, kind=kind, app=app, plan=plan, months=months, users=users, now=now
    )
    session.execute(delete(CartLine).where(CartLine.subscription_pk == subscription.id, CartLine.app_id == app.id))
    line = CartLine(
        subscription_pk=subscription.id,
        kind=kind,
        app_id=app.id,
        plan_id=plan.id,
        months=months,
        users=users,
        created_at=now,
    )
    session.add(line)
    session.commit()
    return line


def cart_lines(*, session: Session, subscription: Subscription) -> list[CartLine]:
    """The cart's lines, oldest first."""
    query = select(CartLine).where(CartLine.subscription_pk == subscription.id).order_by(CartLine.id)
    return list(session.execute(query).scalars())


def priced_cart(
    *, session: Session, subscription: Subscription, vat_rate: Decimal, currency: str, now: datetime | None = None
) -> PricedCart:
    """The cart with prices and totals; a line that cannot be bought any more carries its `problem`, no price."""
    now = now or utcnow()
    priced = []
    for line in cart_lines(session=session, subscription=subscription):
        try:
            item = price_line(
                session=session,
                subscription=subscription,
                kind=line.kind,
                app=line.app,
                plan=line.plan,
                months=line.months,
                users=line.users,
                now=now,
            )
        except (StoreStateError, NotFound) as exc:
            text = f"{line.app.name}: {exc.detail}"
            item = PricedLine(
                line.kind, line.app, line.plan, line.months, line.users, text, Decimal(0), problem=exc.detail
            )
        priced.append(PricedLine(**{**item.__dict__, "line_id": line.id}))
    ok = [p.net for p in priced if p.problem is None]
    return PricedCart(priced, totals(ok, vat_rate), currency)


def remove_line(*, session: Session, subscription: Subscription, line_id: int) -> None:
    """Take a line out of the cart (a line of another subscription is not found)."""
    result = session.execute(
        delete(CartLine).where(CartLine.subscription_pk == subscription.id, CartLine.id == line_id)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        session.rollback()
        raise NotFound("There is no such line in the cart.")
    session.commit()
