"""Invoices: issued in the transaction that marks the order paid, numbered `INV-<year>-<seq>` without gaps."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from authserver.store.counters import next_value
from authserver.store.models import Invoice, Order
from authserver.subscriptions.models import Subscription
from shared.errors import NotFound

__all__ = ["invoice_number", "issue_invoice", "list_invoices", "owned_invoice"]


def invoice_number(year: int, seq: int) -> str:
    """`INV-2026-000001`."""
    return f"INV-{year}-{seq:06d}"


def issue_invoice(*, session: Session, order: Order, now: datetime) -> Invoice:
    """Number and add the order's invoice; the caller commits (a rollback gives the number back)."""
    year = now.year
    seq = next_value(session=session, name=f"invoice:{year}")
    invoice = Invoice(
        number=invoice_number(year, seq),
        year=year,
        seq=seq,
        order_id=order.id,
        subscription_pk=order.subscription_pk,
        issued_at=now,
    )
    session.add(invoice)
    session.flush()
    return invoice


def list_invoices(*, session: Session, subscription: Subscription) -> list[Invoice]:
    """The subscription's invoices, newest first."""
    query = (
        select(Invoice)
        .where(Invoice.subscription_pk == subscription.id)
        .order_by(Invoice.issued_at.desc(), Invoice.id.desc())
    )
    return list(session.execute(query).scalars())


def owned_invoice(*, session: Session, subscription: Subscription, number: str) -> Invoice:
    """The subscription's invoice with this number; `NotFound` for another tenant's or an unknown one."""
    query = select(Invoice).where(Invoice.number == number.strip().upper(), Invoice.subscription_pk == subscription.id)
    invoice = session.execute(query).scalar_one_or_none()
    if invoice is None:
        raise NotFound("There is no such invoice.")
    return invoice
