"""Paying an order, exactly once: an operator enabling a bank deposit, or a card payment's result.

The step that pays is a conditional UPDATE from PENDING_PAYMENT to PAID, so a second click, a replayed card result
or two operators enabling at once find nothing left to change. Paying, applying the lines to licences and numbering
the invoice happen in one transaction: all of it or none of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from authserver import audit
from authserver.accounts.models import AdminAccount
from authserver.store.clock import utcnow
from authserver.store.errors import StoreStateError
from authserver.store.models import (
    BANK_DEPOSIT,
    CARD,
    DECLINED,
    ORDER_PAID,
    PENDING_PAYMENT,
    SUCCEEDED,
    Invoice,
    Order,
    Payment,
)
from authserver.store.orders.fulfil import fulfil_order
from authserver.store.orders.service import order_by_code
from authserver.store.payments.provider import PaymentResult
from shared.errors import NotFound

__all__ = ["Paid", "enable_order", "record_card_payment"]


@dataclass(frozen=True)
class Paid:
    """The outcome of paying an order: `changed` is False when it had been paid already."""

    order: Order
    invoice: Invoice | None
    changed: bool


def _mark_paid(session: Session, order: Order, method: str, now: datetime, enabled_by: int | None) -> bool:
    """PENDING_PAYMENT → PAID, if nobody did it first (the row lock makes a second caller wait, then miss)."""
    values = {"status": ORDER_PAID, "paid_at": now, "enabled_by": enabled_by}
    result = session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == PENDING_PAYMENT, Order.payment_method == method)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.refresh(order)
    return bool(result.rowcount)  # type: ignore[attr-defined]


def enable_order(*, session: Session, code: str, operator: AdminAccount, now: datetime | None = None) -> Paid:
    """An operator confirms a bank deposit: the order is paid, its licences start, its invoice is issued.

    Enabling twice (a double click, two operators) changes nothing the second time.
    """
    now = now or utcnow()
    order = order_by_code(session=session, code=code)
    if order is None:
        raise NotFound("There is no such order.")
    actor = audit.account_actor(operator.id)
    if not _mark_paid(session, order, BANK_DEPOSIT, now, operator.id):
        session.rollback()
        if order.status == ORDER_PAID and order.payment_method == BANK_DEPOSIT:
            return Paid(order, order.invoice, changed=False)
        raise StoreStateError(f"Order {order.code} cannot be enabled: it is {order.status.lower().replace('_', ' ')}.")
    session.add(
        Payment(
            order_id=order.id,
            provider="bank_deposit",
            reference=order.code,
            status=SUCCEEDED,
            amount=order.gross,
            currency=order.currency,
            created_at=now,
        )
    )
    audit.record(
        session=session, event="order.enabled", actor=actor, subscription_id=order.subscription_pk, order=order.code
    )
    audit.record(
        session=session,
        event="payment.received",
        actor=actor,
        subscription_id=order.subscription_pk,
        order=order.code,
        provider="bank_deposit",
        amount=str(order.gross),
    )
    invoice = fulfil_order(session=session, order=order, actor=actor, now=now)
    session.commit()
    return Paid(order, invoice, changed=True)


def record_card_payment(
    *, session: Session, order: Order, provider: str, result: PaymentResult, now: datetime | None = None
) -> Paid:
    """Record what the provider says: a decline leaves the order unpaid; a success pays and fulfils it once."""
    now = now or utcnow()
    existing = session.execute(
        select(Payment).where(Payment.provider == provider, Payment.reference == result.reference)
    ).scalar_one_or_none()
    if existing is not None:  # the same result again (reload, back button): nothing more to do
        return Paid(order, order.invoice, changed=False)
    if result.succeeded and (result.amount != order.gross or result.currency != order.currency):
        raise StoreStateError("The amount paid does not match the order. Contact support with the Order Code.")
    actor = audit.SYSTEM
    payment = Payment(
        order_id=order.id,
        provider=provider,
        reference=result.reference,
        status=SUCCEEDED if result.succeeded else DECLINED,
        amount=result.amount,
        currency=result.currency,
        card_last4=result.card_last4,
        message=(result.message or "")[:200] or None,
        created_at=now,
    )
    details = {"order": order.code, "provider": provider, "reference": result.reference, "last4": result.card_last4}
    if not result.succeeded:
        session.add(payment)
        audit.record(
            session=session, event="payment.declined", actor=actor, subscription_id=order.subscription_pk, **details
        )
        _commit_payment(session)
        return Paid(order, None, changed=False)
    if not _mark_paid(session, order, CARD, now, None):
        session.rollback()
        if order.status == ORDER_PAID:
            return Paid(order, order.invoice, changed=False)
        raise StoreStateError(f"Order {order.code} is {order.status.lower().replace('_', ' ')}: it cannot be paid.")
    session.add(payment)
    audit.record(
        session=session,
        event="payment.received",
        actor=actor,
        subscription_id=order.subscription_pk,
        amount=str(result.amount),
        **details,
    )
    invoice = fulfil_order(session=session, order=order, actor=actor, now=now)
    _commit_payment(session)
    return Paid(order, invoice, changed=True)


def _commit_payment(session: Session) -> None:
    try:
        session.commit()
    except IntegrityError:  # the same provider reference, recorded concurrently
        session.rollback()
