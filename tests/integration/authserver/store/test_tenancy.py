"""Every store route of a subscription answers 404 to another tenant, and nothing changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from authserver.extensions import db
from authserver.store.models import CartLine, Invoice, Order, SeatAssignment

from .conftest import add_to_cart, checkout, make_account, make_licence, make_user, order_code_of, signed_in


@pytest.fixture
def victim(app, client, subscription, operator_client):
    """roservices with an app, a user, a paid order with its invoice, a pending order and a cart line."""
    make_licence(subscription, "time-attendance", "Basic", ends_at=datetime.now(UTC) + timedelta(days=90))
    user = make_user(subscription, "esmaster")
    add_to_cart(client, "app-insights", "Standard")
    paid = order_code_of(checkout(client))
    operator_client.post(f"/store/operator/orders/{paid}/enable")
    add_to_cart(client, "surveys", "Starter")
    pending = order_code_of(checkout(client))
    add_to_cart(client, "surveys", "Team")
    line = db.session.execute(select(CartLine.id)).scalar_one()
    invoice = db.session.execute(select(Invoice.number)).scalar_one()
    return {"user": user.id, "paid": paid, "pending": pending, "line": line, "invoice": invoice}


ROUTES = [
    ("GET", "/subscriptions/roservices/apps"),
    ("GET", "/subscriptions/roservices/apps/time-attendance"),
    ("GET", "/subscriptions/roservices/apps/time-attendance/users"),
    ("POST", "/subscriptions/roservices/apps/time-attendance/users/{user}/assign"),
    ("POST", "/subscriptions/roservices/apps/time-attendance/users/{user}/remove"),
    ("GET", "/subscriptions/roservices/apps/time-attendance/more-users"),
    ("POST", "/subscriptions/roservices/apps/time-attendance/more-users"),
    ("GET", "/subscriptions/roservices/apps/time-attendance/renew"),
    ("POST", "/subscriptions/roservices/apps/time-attendance/renew"),
    ("GET", "/subscriptions/roservices/cart"),
    ("POST", "/subscriptions/roservices/cart"),
    ("POST", "/subscriptions/roservices/cart/lines/{line}/remove"),
    ("GET", "/subscriptions/roservices/checkout"),
    ("POST", "/subscriptions/roservices/checkout"),
    ("GET", "/subscriptions/roservices/orders"),
    ("GET", "/subscriptions/roservices/orders/{paid}"),
    ("POST", "/subscriptions/roservices/orders/{pending}/pay"),
    ("GET", "/subscriptions/roservices/orders/{pending}/payment"),
    ("POST", "/subscriptions/roservices/orders/{pending}/cancel"),
    ("GET", "/subscriptions/roservices/invoices"),
    ("GET", "/subscriptions/roservices/invoices/{invoice}.pdf"),
    ("GET", "/api/v1/subscriptions/roservices/cart"),
    ("POST", "/api/v1/subscriptions/roservices/cart/lines"),
    ("DELETE", "/api/v1/subscriptions/roservices/cart/lines/{line}"),
    ("GET", "/api/v1/subscriptions/roservices/orders"),
    ("POST", "/api/v1/subscriptions/roservices/orders"),
    ("GET", "/api/v1/subscriptions/roservices/orders/{paid}"),
    ("POST", "/api/v1/subscriptions/roservices/orders/{pending}/cancel"),
    ("GET", "/api/v1/subscriptions/roservices/invoices"),
    ("GET", "/api/v1/subscriptions/roservices/invoices/{invoice}"),
    ("GET", "/api/v1/subscriptions/roservices/invoices/{invoice}/pdf"),
    ("GET", "/api/v1/subscriptions/roservices/apps"),
    ("POST", "/api/v1/subscriptions/roservices/apps/worklife-payroll/get-it"),
    ("GET", "/api/v1/subscriptions/roservices/apps/time-attendance/users"),
    ("PUT", "/api/v1/subscriptions/roservices/apps/time-attendance/users/{user}"),
    ("DELETE", "/api/v1/subscriptions/roservices/apps/time-attendance/users/{user}"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_another_tenant_gets_404(app, victim, method, path):
    intruder = make_account("mallory@example.com")
    client = signed_in(app, intruder)
    url = path.format(**victim)
    body = {"kind": "NEW", "app": "surveys", "planId": 1, "months": 1} if url.endswith("/lines") else None
    if url.endswith("/api/v1/subscriptions/roservices/orders") and method == "POST":
        billing = {"name": "x", "vatNumber": "1", "address": "a", "email": "a@b.cd"}
        body = {"paymentMethod": "CARD", "termsAccepted": True, "billing": billing}
    if url.endswith("/get-it"):
        body = {}
    response = (
        client.open(url, method=method, json=body)
        if url.startswith("/api/")
        else client.open(url, method=method, data={"months": "1", "users": "1", "terms": "y", "payment_method": "CARD"})
    )
    assert response.status_code == 404, (method, url, response.status_code)
    db.session.expire_all()
    statuses = dict(db.session.execute(select(Order.code, Order.status)).all())
    assert statuses == {victim["paid"]: "PAID", victim["pending"]: "PENDING_PAYMENT"}
    assert db.session.execute(select(SeatAssignment)).first() is None
    assert len(db.session.execute(select(CartLine)).all()) == 1


def test_the_owner_reaches_each_page(client, victim):
    for method, path in ROUTES:
        if method == "GET" and not path.startswith("/api/") and "payment" not in path:
            url = path.format(**victim)
            assert client.get(url).status_code == (302 if url.endswith("/checkout") else 200), url
