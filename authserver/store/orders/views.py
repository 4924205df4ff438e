"""Orders and invoices of a subscription: the Order Code page, paying by card, the invoice PDFs."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, flash, redirect, render_template, request, url_for

from authserver.accounts.access import admin_required
from authserver.extensions import db
from authserver.store.cart.views import start_payment
from authserver.store.emails import send_order_completed
from authserver.store.errors import StoreStateError
from authserver.store.invoices.pdf import Seller, invoice_pdf
from authserver.store.invoices.service import list_invoices, owned_invoice
from authserver.store.models import CARD
from authserver.store.orders.paying import record_card_payment
from authserver.store.orders.service import cancel_order, list_orders, owned_order
from authserver.store.payments.provider import PaymentError
from authserver.store.web import account, bp, client_ip, payment_provider, tenant


@bp.get("/subscriptions/<sub_id>/orders")
@admin_required
def orders(sub_id: str) -> Any:
    """The subscription's orders."""
    subscription = tenant(sub_id)
    return render_template(
        "store/orders.html",
        subscription=subscription,
        orders=list_orders(session=db.session, subscription=subscription),
    )


@bp.get("/subscriptions/<sub_id>/orders/<code>")
@admin_required
def order(sub_id: str, code: str) -> Any:
    """An order: its Order Code, what it buys, the totals, and how to pay."""
    subscription = tenant(sub_id)
    found = owned_order(session=db.session, subscription=subscription, code=code)
    return render_template("store/order.html", subscription=subscription, order=found)


@bp.post("/subscriptions/<sub_id>/orders/<code>/pay")
@admin_required
def pay(sub_id: str, code: str) -> Any:
    """Pay (again) by card an order that waits for a card payment."""
    subscription = tenant(sub_id)
    found = owned_order(session=db.session, subscription=subscription, code=code)
    if not found.is_pending or found.payment_method != CARD:
        flash("This order does not wait for a card payment.", "info")
        return redirect(url_for("store.order", sub_id=subscription.subscription_id, code=found.code))
    return start_payment(subscription, found)


@bp.get("/subscriptions/<sub_id>/orders/<code>/payment")
@admin_required
def payment_return(sub_id: str, code: str) -> Any:
    """Where the payment provider sends the browser back: record the result, show the order."""
    subscription = tenant(sub_id)
    found = owned_order(session=db.session, subscription=subscription, code=code)
    provider = payment_provider()
    target = url_for("store.order", sub_id=subscription.subscription_id, code=found.code)
    try:
        result = provider.confirm(order=found, params=request.args)
        paid = record_card_payment(session=db.session, order=found, provider=provider.name, result=result)
    except (PaymentError, StoreStateError) as exc:
        flash(str(exc.detail if isinstance(exc, StoreStateError) else exc), "error")
        return redirect(target)
    if not result.succeeded:
        reason = (result.message or "the card was refused").rstrip(".")
        flash(f"The payment was declined: {reason}. Nothing was charged.", "error")
    elif paid.changed:
        send_order_completed(to=account().email, subscription=subscription, order=paid.order, invoice=paid.invoice)
        flash("Payment received. Your apps are enabled.", "success")
    return redirect(target)


@bp.post("/subscriptions/<sub_id>/orders/<code>/cancel")
@admin_required
def cancel(sub_id: str, code: str) -> Any:
    """Withdraw an order that still waits for payment."""
    subscription = tenant(sub_id)
    found = owned_order(session=db.session, subscription=subscription, code=code)
    try:
        cancel_order(session=db.session, subscription=subscription, order=found, account=account(), ip=client_ip())
    except StoreStateError as exc:
        flash(exc.detail or "", "error")
    else:
        flash(f"Order {found.code} is cancelled.", "success")
    return redirect(url_for("store.order", sub_id=subscription.subscription_id, code=found.code))


@bp.get("/subscriptions/<sub_id>/invoices")
@admin_required
def invoices(sub_id: str) -> Any:
    """The subscription's invoices."""
    subscription = tenant(sub_id)
    return render_template(
        "store/invoices.html",
        subscription=subscription,
        invoices=list_invoices(session=db.session, subscription=subscription),
    )


@bp.get("/subscriptions/<sub_id>/invoices/<number>.pdf", endpoint="invoice_pdf")
@admin_required
def invoice_pdf_download(sub_id: str, number: str) -> Any:
    """An invoice as a PDF."""
    subscription = tenant(sub_id)
    invoice = owned_invoice(session=db.session, subscription=subscription, number=number)
    body = invoice_pdf(
        invoice,
        seller=Seller.from_config(current_app.config),
        subscription_id=subscription.subscription_id,
        font=current_app.config.get("INVOICE_FONT") or None,
    )
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
