"""Checkout through the pages: months, terms, empty cart, billing; Bank deposit → Order Code → an operator enables."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from authserver.audit.models import AuditEvent
from authserver.extensions import db
from authserver.store.licences.service import licence_for
from authserver.store.models import CartLine, Invoice, Licence, Order, Payment
from authserver.store.orders.paying import enable_order

from .conftest import BILLING, add_to_cart, checkout, make_account, order_code_of, page_text


@pytest.mark.parametrize(
    ("months", "message"),
    [
        ("0", "Choose a number of months from 1 to 36."),
        ("37", "Choose a number of months from 1 to 36."),
        ("twelve", "Choose a number of months from 1 to 36."),
        ("", "Choose a number of months from 1 to 36."),
        ("1.5", "Choose a number of months from 1 to 36."),
        ("-3", "Choose a number of months from 1 to 36."),
    ],
)
def test_months_outside_1_to_36_are_refused(client, subscription, months, message):
    response = add_to_cart(client, "time-attendance", "Business", months=months)
    assert response.status_code == 422
    assert message in page_text(response)
    assert db.session.execute(select(func.count()).select_from(CartLine)).scalar_one() == 0


@pytest.mark.parametrize("months", ["1", "36"])
def test_months_at_the_limits_are_accepted(client, subscription, months):
    assert add_to_cart(client, "time-attendance", "Business", months=months).status_code == 302


def test_the_cart_shows_net_vat_and_gross(client, subscription):
    add_to_cart(client, "time-attendance", "Business", months="12")
    add_to_cart(client, "app-insights", "Standard", months="3")
    text = page_text(client.get("/subscriptions/roservices/cart"))
    # 12 × 45.00 + 3 × 29.00 = 627.00; VAT 24 % = 150.48; total 777.48
    assert "Net 627.00 EUR" in text
    assert "VAT 24 % 150.48 EUR" in text
    assert "Total 777.48 EUR" in text


def test_adding_the_same_app_again_replaces_its_line(client, subscription):
    add_to_cart(client, "time-attendance", "Business", months="12")
    add_to_cart(client, "time-attendance", "Basic", months="2")
    lines = db.session.execute(select(CartLine)).scalars().all()
    assert [(line.plan.name, line.months) for line in lines] == [("Basic", 2)]


def test_terms_must_be_accepted(client, subscription):
    add_to_cart(client, "time-attendance", "Business")
    response = client.post("/subscriptions/roservices/cart", data={})
    assert response.status_code == 422
    assert "Accept the terms and conditions to continue." in page_text(response)
    # Skipping the cart page does not skip the terms.
    response = client.post("/subscriptions/roservices/checkout", data={**BILLING, "payment_method": "BANK_DEPOSIT"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/subscriptions/roservices/cart")
    assert db.session.execute(select(func.count()).select_from(Order)).scalar_one() == 0


def test_a_changed_cart_needs_the_terms_again(client, subscription):
    add_to_cart(client, "time-attendance", "Business")
    assert client.post("/subscriptions/roservices/cart", data={"terms": "y"}).status_code == 302
    add_to_cart(client, "time-attendance", "Enterprise")
    response = client.post("/subscriptions/roservices/checkout", data={**BILLING, "payment_method": "BANK_DEPOSIT"})
    assert response.headers["Location"].endswith("/subscriptions/roservices/cart")


def test_an_empty_cart_cannot_be_checked_out(client, subscription):
    response = client.post("/subscriptions/roservices/cart", data={"terms": "y"})
    assert response.status_code == 409
    assert "Your cart is empty." in page_text(response)
    response = client.post("/subscriptions/roservices/checkout", data={**BILLING, "payment_method": "BANK_DEPOSIT"})
    assert response.status_code == 302 and "/store/apps" in response.headers["Location"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("billing_name", "", "Enter the Company Name."),
        ("billing_vat_number", " ", "Enter the VAT number."),
        ("billing_address", "", "Enter the billing address."),
        ("billing_email", "not-an-address", "Enter a valid e-mail address, like name@example.com."),
        ("payment_method", "CASH", "Choose Bank deposit or Credit card."),
    ],
)
def test_billing_details_are_checked_and_kept(client, subscription, field, value, message):
    add_to_cart(client, "time-attendance", "Business")
    response = checkout(client, **{field: value})
    assert response.status_code == 422
    text = page_text(response)
    assert message in text
    assert "1 Kifisias Ave" in response.get_data(as_text=True) or field == "billing_address"
    assert db.session.execute(select(func.count()).select_from(Order)).scalar_one() == 0


def test_billing_details_are_prefilled_from_the_subscription(client, subscription):
    add_to_cart(client, "time-attendance", "Business")
    client.post("/subscriptions/roservices/cart", data={"terms": "y"})
    html = client.get("/subscriptions/roservices/checkout").get_data(as_text=True)
    assert 'value="roservices S.A."' in html
    assert 'value="EL123456789"' in html
    assert 'value="ann@example.com"' in html


def test_bank_deposit_waits_for_an_operator_then_the_licence_starts(client, subscription, operator_client, inbox):
    add_to_cart(client, "time-attendance", "Business", months="12")
    response = checkout(client, "BANK_DEPOSIT")
    code = order_code_of(response)
    page = page_text(client.get(response.headers["Location"]))
    assert f"Order Code {code}" in page
    assert "Waiting for payment" in page
    assert "GR16 0110 1250 0000 0001 2300 695" in page and "669.60 EUR" in page
    assert licence_for(session=db.session, subscription_id="roservices", app_code="time-attendance") is None
    assert db.session.execute(select(func.count()).select_from(Invoice)).scalar_one() == 0
    assert db.session.execute(select(func.count()).select_from(CartLine)).scalar_one() == 0

    listing = page_text(operator_client.get("/store/operator/orders"))
    assert code in listing and "roservices" in listing
    assert operator_client.post(f"/store/operator/orders/{code}/enable").status_code == 302

    db.session.expire_all()
    order = db.session.execute(select(Order).where(Order.code == code)).scalar_one()
    assert order.status == "PAID" and order.gross == Decimal("669.60")
    licence = licence_for(session=db.session, subscription_id="roservices", app_code="time-attendance")
    assert licence is not None and licence.kind == "PAID" and licence.seats == 20
    assert (licence.ends_at.date() - licence.starts_at.date()).days in (365, 366)
    assert order.invoice.number.endswith("-000001")

    inbox.wait_for(1)
    mail = inbox.last_to("ann@example.com")
    assert mail["Subject"] == f"Order {code} completed: your apps are enabled"
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert order.invoice.number in body and "Entersoft Time Attendance" in body
    events = {e.event for e in db.session.execute(select(AuditEvent)).scalars()}
    assert {"order.placed", "order.enabled", "payment.received", "licence.started", "invoice.issued"} <= events


def test_enabling_twice_changes_nothing_the_second_time(client, subscription, operator_client, inbox):
    add_to_cart(client, "time-attendance", "Business")
    code = order_code_of(checkout(client))
    operator_client.post(f"/store/operator/orders/{code}/enable")
    response = operator_client.post(f"/store/operator/orders/{code}/enable", follow_redirects=True)
    assert f"Order {code} was already enabled." in page_text(response)
    assert db.session.execute(select(func.count()).select_from(Invoice)).scalar_one() == 1
    assert db.session.execute(select(func.count()).select_from(Payment)).scalar_one() == 1
    inbox.wait_for(1)
    assert len(inbox.to("ann@example.com")) == 1


def test_the_next_invoice_takes_the_next_number(client, subscription, operator_client):
    for app_code, plan in (("time-attendance", "Basic"), ("surveys", "Starter"), ("app-insights", "Standard")):
        add_to_cart(client, app_code, plan)
        code = order_code_of(checkout(client))
        operator_client.post(f"/store/operator/orders/{code}/enable")
    numbers = db.session.execute(select(Invoice.number).order_by(Invoice.id)).scalars().all()
    year = numbers[0][4:8]
    assert numbers == [f"INV-{year}-000001", f"INV-{year}-000002", f"INV-{year}-000003"]


def test_only_operators_see_and_enable_pending_orders(client, subscription):
    add_to_cart(client, "time-attendance", "Business")
    code = order_code_of(checkout(client))
    assert client.get("/store/operator/orders").status_code == 403
    assert client.post(f"/store/operator/orders/{code}/enable").status_code == 403
    assert db.session.execute(select(Order.status)).scalar_one() == "PENDING_PAYMENT"


def test_a_cancelled_order_cannot_be_enabled(client, subscription, operator_client):
    add_to_cart(client, "time-attendance", "Business")
    code = order_code_of(checkout(client))
    assert client.post(f"/subscriptions/roservices/orders/{code}/cancel").status_code == 302
    response = operator_client.post(f"/store/operator/orders/{code}/enable", follow_redirects=True)
    assert "cannot be enabled" in page_text(response)
    assert db.session.execute(select(func.count()).select_from(Licence)).scalar_one() == 0


def test_order_codes_are_unique_and_dated(client, subscription):
    codes = []
    for plan in ("Basic", "Business"):
        add_to_cart(client, "time-attendance", plan)
        codes.append(order_code_of(checkout(client)))
    assert codes[0] != codes[1]
    assert codes[0][:13] == codes[1][:13] and codes[0].endswith("-0001") and codes[1].endswith("-0002")


def test_two_operators_enabling_at_once_enable_once(app, client, subscription, operator):
    """Both operators press Enable at the same moment (two sessions, a barrier): one order, one invoice."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL (SQLite serializes every writer)")
    add_to_cart(client, "time-attendance", "Business")
    code = order_code_of(checkout(client))
    second = make_account("ops2@cloudstore.example", role="operator")
    barrier = threading.Barrier(2)
    results: list[bool] = []
    errors: list[BaseException] = []

    def enable(account_id: int) -> None:
        try:
            with app.app_context(), Session(db.engine) as session:
                from authserver.accounts.models import AdminAccount

                account = session.get(AdminAccount, account_id)
                barrier.wait(timeout=10)
                results.append(enable_order(session=session, code=code, operator=account).changed)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    ids = (operator.id, second.id)  # read here: threads must not touch this session
    threads = [threading.Thread(target=enable, args=(a,)) for a in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert sorted(results) == [False, True]
    db.session.expire_all()
    assert db.session.execute(select(func.count()).select_from(Invoice)).scalar_one() == 1
