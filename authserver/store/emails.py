"""The store's e-mails to a subscription's admin: order completed (licence on, invoice issued), expiry reminders."""

from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app, has_request_context, render_template, url_for

from authserver.mail import MailError, send_mail
from authserver.store.models import Invoice, Licence, Order
from authserver.subscriptions.models import Subscription

__all__ = ["send_expiry_reminder", "send_order_completed"]

log = logging.getLogger(__name__)


def _link(endpoint: str, **values: object) -> str:
    """An absolute link built from ISSUER; outside a request (the `remind` command) too."""
    base = str(current_app.config["ISSUER"]).rstrip("/")
    if has_request_context():
        return base + url_for(endpoint, **values)
    with current_app.test_request_context():
        return base + url_for(endpoint, **values)


def _send(template: str, *, to: str, subject: str, **context: object) -> None:
    context = {"subject": subject, **context}
    send_mail(
        to=to,
        subject=subject,
        text=render_template(f"store/email/{template}.txt", **context),
        html=render_template(f"store/email/{template}.html", **context),
    )


def send_order_completed(*, to: str, subscription: Subscription, order: Order, invoice: Invoice | None) -> bool:
    """Tell the admin the order is completed (the apps are enabled) and the invoice is issued; False if not sent."""
    sub_id = subscription.subscription_id
    try:
        _send(
            "order_completed",
            to=to,
            subject=f"Order {order.code} completed: your apps are enabled",
            order=order,
            invoice=invoice,
            subscription=subscription,
            apps_link=_link("store.my_apps", sub_id=sub_id),
            invoice_link=_link("store.invoice_pdf", sub_id=sub_id, number=invoice.number) if invoice else None,
        )
    except MailError:
        log.warning("order %s: completion e-mail not sent", order.code)
        return False
    return True


def send_expiry_reminder(
    *, to: str, subscription: Subscription, licence: Licence, ends_at: datetime, days_left: int
) -> None:
    """Remind the admin that a licence ends soon; raise MailError."""
    _send(
        "expiry_reminder",
        to=to,
        subject=f"{licence.app.name} ends on {ends_at:%Y-%m-%d}",
        licence=licence,
        subscription=subscription,
        ends_at=ends_at,
        days_left=days_left,
        renew_link=_link("store.renew", sub_id=subscription.subscription_id, code=licence.app.code),
    )
