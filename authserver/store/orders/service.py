"""Orders: checkout (cart → order with an Order Code), listing, cancelling. Paying them is in `paying`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from authserver import audit
from authserver.accounts.models import AdminAccount
from authserver.store.cart.service import priced_cart
from authserver.store.clock import utcnow
from authserver.store.counters import next_value
from authserver.store.errors import StoreFieldError, StoreStateError
from authserver.store.models import (
    BANK_DEPOSIT,
    CANCELLED,
    CARD,
    PENDING_PAYMENT,
    CartLine,
    Order,
    OrderLine,
)
from authserver.subscriptions.models import Subscription
from shared.errors import NotFound

__all__ = [
    "Billing",
    "billing_defaults",
    "cancel_order",
    "check_billing",
    "list_orders",
    "order_by_code",
    "owned_order",
    "pending_bank_orders",
    "place_order",
]

_EMAIL = re.compile(r"^[^@\s,;:<>()\[\]\\\"]{1,64}@[^@\s,;:<>()\[\]\\\".]+(\.[^@\s,;:<>()\[\]\\\".]+)+$")
METHODS = (BANK_DEPOSIT, CARD)


@dataclass(frozen=True)
class Billing:
    """The billing details of an order (prefilled from the subscription)."""

    name: str
    vat_number: str
    address: str
    email: str


def check_billing(billing: Billing) -> Billing:
    """Trimmed billing details; StoreFieldError naming the first field that is missing or too long."""
    rules = (
        ("billing_name", billing.name, "Company Name", 200),
        ("billing_vat_number", billing.vat_number, "VAT number", 30),
        ("billing_address", billing.address, "billing address", 300),
        ("billing_email", billing.email, "e-mail address for invoices", 254),
    )
    for field, value, label, maximum in rules:
        text = (value or "").strip()
        if not text:
            raise StoreFieldError(field, f"Enter the {label}.")
        if len(text) > maximum or "\x00" in text:
            raise StoreFieldError(field, f"The {label} must be at most {maximum} characters long.")
    if not _EMAIL.match(billing.email.strip()):
        raise StoreFieldError("billing_email", "Enter a valid e-mail address, like name@example.com.")
    return Billing(billing.name.strip(), billing.vat_number.strip(), billing.address.strip(), billing.email.strip())


def billing_defaults(*, session: Session, subscription: Subscription, email: str) -> Billing:
    """The billing details to prefill: those of the subscription's last order, else the subscription's."""
    last = session.execute(
        select(Order).where(Order.subscription_pk == subscription.id).order_by(Order.id.desc()).limit(1)
    ).scalar_one_or_none()
    if last is not None:
        return Billing(last.billing_name, last.billing_vat_number, last.billing_address, last.billing_email)
    return Billing(subscription.company_name, subscription.vat_number, "", email)


def place_order(
    *,
    session: Session,
    subscription: Subscription,
    account: AdminAccount,
    payment_method: str,
    billing: Billing,
    terms_accepted: bool,
    vat_rate: Decimal,
    currency: str,
    now: datetime | None = None,
    ip: str | None = None,
) -> Order:
    """Turn the cart into an order awaiting payment, with its Order Code; the cart is emptied."""
    now = now or utcnow()
    cart = priced_cart(session=session, subscription=subscription, vat_rate=vat_rate, currency=currency, now=now)
    if cart.is_empty:
        raise StoreStateError("Your cart is empty. Add an app first.")
    if cart.problems:
        raise StoreStateError(cart.problems[0] + " Remove it from the cart to go on.")
    if not terms_accepted:
        raise StoreFieldError("terms", "Accept the terms and conditions to continue.")
    if payment_method not in METHODS:
        raise StoreFieldError("payment_method", "Choose Bank deposit or Credit card.")
    billing = check_billing(billing)
    seq = next_value(session=session, name=f"order:{now:%Y%m%d}")
    order = Order(
        code=f"ORD-{now:%Y%m%d}-{seq:04d}",
        subscription_pk=subscription.id,
        account_id=account.id,
        status=PENDING_PAYMENT,
        payment_method=payment_method,
        currency=currency,
        vat_rate=cart.totals.vat_rate,
        net=cart.totals.net,
        vat=cart.totals.vat,
        gross=cart.totals.gross,
        billing_name=billing.name,
        billing_vat_number=billing.vat_number,
        billing_address=billing.address,
        billing_email=billing.email,
        terms_accepted_at=now,
        created_at=now,
    )
    for line in cart.lines:
        order.lines.append(
            OrderLine(
                kind=line.kind,
                app_id=line.app.id,
                plan_id=line.plan.id,
                description=line.description,
                months=line.months,
                users=line.users,
                net=line.net,
            )
        )
    session.add(order)
    session.execute(delete(CartLine).where(CartLine.subscription_pk == subscription.id))
    session.flush()
    audit.record(
        session=session,
        event="order.placed",
        actor=audit.account_actor(account.id),
        subscription_id=subscription.id,
        ip=ip,
        order=order.code,
        method=payment_method,
        gross=str(order.gross),
        currency=currency,
    )
    session.commit()
    return order


def list_orders(*, session: Session, subscription: Subscription) -> list[Order]:
    """The subscription's orders, newest first."""
    query = select(Order).where(Order.subscription_pk == subscription.id).order_by(Order.id.desc())
    return list(session.execute(query).scalars())


def order_by_code(*, session: Session, code: str) -> Order | None:
    """Any tenant's order with this code (operators), or None."""
    return session.execute(select(Order).where(Order.code == code.strip().upper())).scalar_one_or_none()


def owned_order(*, session: Session, subscription: Subscription, code: str) -> Order:
    """The subscription's order with this code; `NotFound` for another tenant's or an unknown one."""
    order = order_by_code(session=session, code=code)
    if order is None or order.subscription_pk != subscription.id:
        raise NotFound("There is no such order.")
    return order


def pending_bank_orders(*, session: Session) -> list[Order]:
    """Bank-deposit orders waiting for an operator, oldest first."""
    query = (
        select(Order).where(Order.status == PENDING_PAYMENT, Order.payment_method == BANK_DEPOSIT).order_by(Order.id)
    )
    return list(session.execute(query).scalars())


def cancel_order(
    *, session: Session, subscription: Subscription, order: Order, account: AdminAccount, ip: str | None = None
) -> Order:
    """The admin withdraws an order that is still waiting for payment."""
    if order.subscription_pk != subscription.id:
        raise NotFound("There is no such order.")
    result = session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == PENDING_PAYMENT)
        .values(status=CANCELLED)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        session.rollback()
        raise StoreStateError(
            f"Order {order.code} is {order.status.lower().replace('_', ' ')}: it cannot be cancelled."
        )
    audit.record(
        session=session,
        event="order.cancelled",
        actor=audit.account_actor(account.id),
        subscription_id=subscription.id,
        ip=ip,
        order=order.code,
    )
    session.commit()
    session.refresh(order)
    return order
