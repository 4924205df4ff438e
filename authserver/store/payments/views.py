"""The test processor's card form: check the card, charge it, send the browser back with the signed result."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template

from authserver.accounts.access import admin_required
from authserver.portal import render_message
from authserver.store.clock import utcnow
from authserver.store.forms import CardForm
from authserver.store.payments.provider import PaymentError
from authserver.store.payments.test_processor import DECLINE_CARD, SUCCESS_CARD, CardProblem, TestProcessor, check_card
from authserver.store.web import bp, payment_provider


@bp.route("/store/test-processor/<token>", methods=["GET", "POST"])
@admin_required
def test_processor(token: str) -> Any:
    """Pay with a test card: 4242 4242 4242 4242 is accepted, 4000 0000 0000 0002 is declined."""
    provider = payment_provider()
    if not isinstance(provider, TestProcessor):
        return render_message("Not available", "The test payment processor is not in use on this server.", 404)
    try:
        payment = provider.read_request(token)
    except PaymentError as exc:
        return render_message("This payment page has expired", str(exc), 400)
    form = CardForm()
    status = 200
    if form.validate_on_submit():
        try:
            number = check_card(
                holder=form.holder.data or "",
                number=form.number.data or "",
                expiry=form.expiry.data or "",
                cvc=form.cvc.data or "",
                today=utcnow().date(),
            )
        except CardProblem as exc:
            getattr(form, exc.field).errors = [exc.message]
            status = 422
        else:
            return redirect(provider.charge(payment, card_number=number))
    form.number.data = ""  # a card number is never sent back to the browser
    form.cvc.data = ""
    return render_template(
        "store/test_processor.html",
        form=form,
        payment=payment,
        success_card=SUCCESS_CARD,
        decline_card=DECLINE_CARD,
    ), status
