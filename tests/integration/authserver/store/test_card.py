"""Card payments through the test processor's real card form: success pays at once; a decline leaves nothing."""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from authserver.extensions import db
from authserver.store.licences.service import licence_for
from authserver.store.models import Invoice, Licence, Order, Payment
from authserver.store.payments.test_processor import DECLINE_CARD, SUCCESS_CARD, check_card, luhn_valid

from .conftest import add_to_cart, checkout, page_text

CARD = {"holder": "Ann Example", "expiry": "12/39", "cvc": "123"}


def _start_card_order(client):
    add_to_cart(client, "app-insights", "Standard", months="6")
    response = checkout(client, "CARD")
    assert response.status_code == 302
    form_path = response.headers["Location"]
    assert form_path.startswith("/store/test-processor/")
    return form_path


def _pay(client, form_path, number):
    response = client.post(form_path, data={**CARD, "number": number})
    assert response.status_code == 302, page_text(response)
    return client.get(response.headers["Location"], follow_redirects=True)


def _count(model):
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        (SUCCESS_CARD, True),
        (DECLINE_CARD, True),
        ("4242 4242 4242 4241", False),
        ("4000-0000-0000-0002", False),  # dashes are the caller's to strip
        ("79927398713", False),  # too short for a card
        ("5555555555554444", True),
        ("abcd", False),
    ],
)
def test_luhn(number, valid):
    assert luhn_valid(number) is valid


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"number": "4242 4242 4242 4241"}, "number", "Enter a valid card number."),
        ({"number": ""}, "number", "Enter a valid card number."),
        ({"expiry": "13/30"}, "expiry", "Enter the expiry date as MM/YY."),
        ({"expiry": "01/20"}, "expiry", "The card has expired."),
        ({"cvc": "12"}, "cvc", "Enter the 3 or 4 digits of the security code (CVC)."),
        ({"holder": " "}, "holder", "Enter the name on the card."),
    ],
)
def test_card_form_checks_fields(fields, field, message):
    from datetime import date

    values = {"holder": "Ann", "number": SUCCESS_CARD, "expiry": "12/39", "cvc": "123", **fields}
    with pytest.raises(Exception) as excinfo:
        check_card(**values, today=date(2026, 11, 24))
    assert excinfo.value.field == field and excinfo.value.message == message


def test_card_success_pays_at_once(client, subscription, inbox, caplog):
    caplog.set_level(logging.DEBUG)
    form_path = _start_card_order(client)
    form = page_text(client.get(form_path))
    assert "Card payment" in form and "215.76 EUR" in form  # 6 × 29.00 = 174.00 + 24 % VAT
    page = page_text(_pay(client, form_path, "4242 4242 4242 4242"))
    assert "Payment received. Your apps are enabled." in page
    assert "Paid" in page
    order = db.session.execute(select(Order)).scalar_one()
    assert order.status == "PAID" and order.invoice is not None
    payment = db.session.execute(select(Payment)).scalar_one()
    assert (payment.status, payment.card_last4, payment.provider) == ("SUCCEEDED", "4242", "test")
    assert payment.reference.startswith("tp_")
    licence = licence_for(session=db.session, subscription_id=subscription.id, app_code="app-insights")
    assert licence is not None and licence.seats == 10
    inbox.wait_for(1)
    assert "completed" in inbox.last_to("ann@example.com")["Subject"]
    # The card number is kept nowhere: not in the database, not in the logs.
    assert SUCCESS_CARD not in caplog.text and "4242 4242 4242 4242" not in caplog.text
    for row in db.session.execute(select(Payment)).scalars():
        assert SUCCESS_CARD not in repr(row.__dict__)


def test_card_decline_leaves_nothing_half_done(client, subscription):
    form_path = _start_card_order(client)
    page = page_text(_pay(client, form_path, DECLINE_CARD))
    assert "The payment was declined: Your card was declined. Nothing was charged." in page
    order = db.session.execute(select(Order)).scalar_one()
    assert order.status == "PENDING_PAYMENT" and order.paid_at is None
    assert _count(Licence) == 0 and _count(Invoice) == 0
    payment = db.session.execute(select(Payment)).scalar_one()
    assert (payment.status, payment.card_last4) == ("DECLINED", "0002")
    # Paying again with a good card completes the same order.
    response = client.post(f"/subscriptions/roservices/orders/{order.code}/pay")
    assert response.status_code == 302
    page = page_text(_pay(client, response.headers["Location"], SUCCESS_CARD))
    assert "Payment received" in page
    assert _count(Licence) == 1 and _count(Invoice) == 1


def test_a_replayed_result_pays_once(client, subscription):
    form_path = _start_card_order(client)
    response = client.post(form_path, data={**CARD, "number": SUCCESS_CARD})
    back = response.headers["Location"]
    client.get(back)
    client.get(back)
    assert _count(Payment) == 1 and _count(Invoice) == 1


def test_a_tampered_result_is_refused(client, subscription):
    form_path = _start_card_order(client)
    response = client.post(form_path, data={**CARD, "number": DECLINE_CARD})
    parts = urlsplit(response.headers["Location"])
    token = parse_qs(parts.query)["result"][0]
    forged = re.sub(r"^.", lambda m: "A" if m.group(0) != "A" else "B", token)
    page = page_text(client.get(f"{parts.path}?result={forged}", follow_redirects=True))
    assert "could not be verified" in page
    assert _count(Payment) == 0 and db.session.execute(select(Order.status)).scalar_one() == "PENDING_PAYMENT"


def test_a_tampered_payment_page_is_refused(client, subscription):
    form_path = _start_card_order(client)
    assert client.get(form_path + "x").status_code == 400


def test_the_card_form_keeps_the_number_out_of_the_page(client, subscription):
    form_path = _start_card_order(client)
    response = client.post(form_path, data={**CARD, "number": SUCCESS_CARD, "cvc": "1"})
    assert response.status_code == 422
    assert SUCCESS_CARD not in response.get_data(as_text=True)
    assert "Ann Example" in response.get_data(as_text=True)
