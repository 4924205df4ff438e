"""The cart (total, terms, Next) and billing details (payment method, Next): checkout through the pages."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import flash, redirect, render_template, request, session, url_for

from authserver.accounts.access import admin_required
from authserver.extensions import db
from authserver.store.cart.service import PricedCart, priced_cart, remove_line
from authserver.store.errors import StoreFieldError, StoreStateError
from authserver.store.forms import BillingForm, CartForm
from authserver.store.models import CARD, Order
from authserver.store.orders.service import Billing, billing_defaults, place_order
from authserver.store.payments.provider import PaymentError
from authserver.store.web import account, bp, client_ip, currency, field_error, payment_provider, tenant, vat_rate
from authserver.subscriptions.models import Subscription

_TERMS = "store_terms_accepted"


def _cart(subscription: Subscription) -> PricedCart:
    return priced_cart(session=db.session, subscription=subscription, vat_rate=vat_rate(), currency=currency())


def _fingerprint(subscription: Subscription, cart: PricedCart) -> str:
    """What the terms were accepted for: a changed cart must be accepted again."""
    parts = [subscription.subscription_id]
    parts += [f"{line.line_id}:{line.kind}:{line.months}:{line.users}:{line.net}" for line in cart.lines]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def _accepted(subscription: Subscription, cart: PricedCart) -> bool:
    return session.get(_TERMS, {}).get(str(subscription.id)) == _fingerprint(subscription, cart)


@bp.route("/subscriptions/<sub_id>/cart", methods=["GET", "POST"])
@admin_required
def cart(sub_id: str) -> Any:
    """The cart with its total (net, VAT, gross); accept the terms and press Next."""
    subscription = tenant(sub_id)
    priced = _cart(subscription)
    form = CartForm()
    status = 200
    if form.validate_on_submit():
        if priced.is_empty:
            form.form_errors.append("Your cart is empty. Add an app first.")
            status = 409
        elif priced.problems:
            form.form_errors.append(priced.problems[0] + " Remove it from the cart to go on.")
            status = 409
        elif not form.terms.data:
            form.terms.errors = ["Accept the terms and conditions to continue."]
            status = 422
        else:
            accepted = dict(session.get(_TERMS, {}))
            accepted[str(subscription.id)] = _fingerprint(subscription, priced)
            session[_TERMS] = accepted
            return redirect(url_for("store.billing", sub_id=subscription.subscription_id))
    return render_template("store/cart.html", subscription=subscription, cart=priced, form=form), status


@bp.post("/subscriptions/<sub_id>/cart/lines/<int:line_id>/remove")
@admin_required
def remove_cart_line(sub_id: str, line_id: int) -> Any:
    """Take a line out of the cart."""
    subscription = tenant(sub_id)
    remove_line(session=db.session, subscription=subscription, line_id=line_id)
    flash("Removed from the cart.", "success")
    return redirect(url_for("store.cart", sub_id=subscription.subscription_id))


def _prefill(form: BillingForm, subscription: Subscription) -> None:
    """Billing details from the subscription, or from its last order when there is one."""
    details = billing_defaults(session=db.session, subscription=subscription, email=account().email)
    form.billing_name.data = details.name
    form.billing_vat_number.data = details.vat_number
    form.billing_address.data = details.address
    form.billing_email.data = details.email


@bp.route("/subscriptions/<sub_id>/checkout", methods=["GET", "POST"])
@admin_required
def billing(sub_id: str) -> Any:
    """Billing details and the payment method; Next places the order (Bank deposit) or goes to pay (card)."""
    subscription = tenant(sub_id)
    priced = _cart(subscription)
    if priced.is_empty:
        flash("Your cart is empty. Add an app first.", "info")
        return redirect(url_for("store.catalogue", subscription=subscription.subscription_id))
    if not _accepted(subscription, priced):
        flash("Accept the terms and conditions to continue.", "error")
        return redirect(url_for("store.cart", sub_id=subscription.subscription_id))
    form = BillingForm()
    if request.method == "GET":
        _prefill(form, subscription)
    status = 200
    if form.validate_on_submit():
        try:
            order = place_order(
                session=db.session,
                subscription=subscription,
                account=account(),
                payment_method=form.payment_method.data or "",
                billing=Billing(
                    form.billing_name.data or "",
                    form.billing_vat_number.data or "",
                    form.billing_address.data or "",
                    form.billing_email.data or "",
                ),
                terms_accepted=True,
                vat_rate=vat_rate(),
                currency=currency(),
                ip=client_ip(),
            )
        except StoreFieldError as exc:
            field_error(form, exc)
            status = 422
        except StoreStateError as exc:
            form.form_errors.append(exc.detail)
            status = 409
        else:
            session.get(_TERMS, {}).pop(str(subscription.id), None)
            session.modified = True
            if order.payment_method == CARD:
                return start_payment(subscription, order)
            flash("Your order is placed. Keep the Order Code.", "success")
            return redirect(url_for("store.order", sub_id=subscription.subscription_id, code=order.code))
    return render_template("store/billing.html", subscription=subscription, cart=priced, form=form), status


def start_payment(subscription: Subscription, order: Order) -> Any:
    """Send the browser to the payment provider for the order."""
    return_url = url_for("store.payment_return", sub_id=subscription.subscription_id, code=order.code)
    try:
        start = payment_provider().start(order=order, return_url=return_url)
    except PaymentError as exc:
        flash(str(exc), "error")
        return redirect(url_for("store.order", sub_id=subscription.subscription_id, code=order.code))
    return redirect(start.redirect_url)
