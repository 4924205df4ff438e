"""What a paid order does: start, extend or enlarge licences, then issue the invoice, in the caller's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from authserver import audit
from authserver.store.clock import aware
from authserver.store.invoices.service import issue_invoice
from authserver.store.licences.service import is_active, licence_for
from authserver.store.models import MORE_USERS, NEW, PAID, RENEWAL, Invoice, Licence, Order, OrderLine
from authserver.store.money import add_months, renewal_start

__all__ = ["fulfil_order"]


def _months(line: OrderLine) -> int:
    if not line.months:
        raise RuntimeError(f"order line {line.id}: no months")
    return line.months


def _start(session: Session, order: Order, line: OrderLine, now: datetime) -> Licence:
    licence = licence_for(session=session, subscription_id=order.subscription_pk, app_code=line.app.code)
    if licence is None:
        licence = Licence(
            subscription_pk=order.subscription_pk,
            app_id=line.app_id,
            plan_id=line.plan_id,
            kind=PAID,
            seats=line.plan.users,
            starts_at=now,
            ends_at=add_months(now, _months(line)),
            created_at=now,
            updated_at=now,
        )
        session.add(licence)
        return licence
    if licence.kind == PAID and is_active(licence, now):
        # Bought twice (two orders waited for payment at once): the second purchase extends the first.
        licence.ends_at = add_months(renewal_start(now=now, ends_at=aware(licence.ends_at)), _months(line))
        licence.seats = max(licence.seats, line.plan.users)
    else:  # a trial, a free licence or an expired one: the purchase replaces it, from now
        licence.kind, licence.starts_at = PAID, now
        licence.ends_at = add_months(now, _months(line))
        licence.seats = line.plan.users
    licence.plan_id = line.plan_id
    licence.updated_at = now
    return licence


def _apply(session: Session, order: Order, line: OrderLine, now: datetime) -> Licence:
    if line.kind == NEW:
        return _start(session, order, line, now)
    licence = licence_for(session=session, subscription_id=order.subscription_pk, app_code=line.app.code)
    if licence is None:  # cannot happen through the cart, which only sells these for bought apps
        raise RuntimeError(f"order {order.code}: no licence of {line.app.code} to change")
    if line.kind == RENEWAL:
        licence.ends_at = add_months(renewal_start(now=now, ends_at=aware(licence.ends_at)), _months(line))
    elif line.kind == MORE_USERS:
        licence.seats += line.users or 0
    licence.updated_at = now
    return licence


def fulfil_order(*, session: Session, order: Order, actor: str, now: datetime) -> Invoice:
    """Apply each line of a just-paid order to the subscription's licences and issue its invoice (no commit)."""
    for line in order.lines:
        licence = _apply(session, order, line, now)
        session.flush()
        ends = aware(licence.ends_at)
        audit.record(
            session=session,
            event={NEW: "licence.started", RENEWAL: "licence.renewed", MORE_USERS: "licence.seats_added"}[line.kind],
            actor=actor,
            subscription_id=order.subscription_pk,
            app=line.app.code,
            order=order.code,
            seats=licence.seats,
            ends_at=ends.isoformat() if ends else None,
        )
    invoice = issue_invoice(session=session, order=order, now=now)
    audit.record(
        session=session,
        event="invoice.issued",
        actor=actor,
        subscription_id=order.subscription_pk,
        order=order.code,
        invoice=invoice.number,
    )
    return invoice
