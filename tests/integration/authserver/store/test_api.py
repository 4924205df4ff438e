"""The store in /api/v1 with a personal access token: catalogue, cart, checkout, operator enable, My Apps, seats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from authserver.api import tokens
from authserver.extensions import db

from .conftest import make_licence, make_user, plan_named

BILLING = {"name": "Roservices S.A.", "vatNumber": "EL123456789", "address": "Athens", "email": "b@roservices.example"}


def _bearer(account):
    created = tokens.create_token(session=db.session, account=account, name="store tests")
    return {"Authorization": f"Bearer {created.value}"}


@pytest.fixture
def api(app, admin, subscription):
    headers = _bearer(admin)
    client = app.test_client()

    def call(method, path, **kwargs):
        return client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    return call


def test_catalogue(api):
    apps = api("GET", "/store/apps").get_json()
    codes = {a["code"]: a for a in apps}
    assert codes["app-insights"]["endpointType"] == "app-insights" and codes["app-insights"]["endpointNeedsAdmin"]
    assert codes["time-attendance"]["plans"][0]["monthlyPrice"] == "15.00"
    assert codes["surveys"]["screenshots"][0]["url"].startswith("/store/screenshots/")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "NEW", "app": "time-attendance", "months": 0}, "months"),
        ({"kind": "NEW", "app": "time-attendance", "months": 37}, "months"),
        ({"kind": "NEW", "app": "time-attendance", "months": "12"}, "months"),
        ({"kind": "NEW", "app": "time-attendance", "months": 12}, "planId"),
        ({"kind": "GIFT", "app": "time-attendance", "months": 12}, "kind"),
    ],
)
def test_cart_validation(api, body, field):
    if field != "planId":
        body = {**body, "planId": plan_named("time-attendance", "Basic").id}
    response = api("POST", "/subscriptions/roservices/cart/lines", json=body)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]


def test_checkout_bank_deposit_and_operator_enable(app, api, operator, inbox):
    plan = plan_named("time-attendance", "Business").id
    cart = api(
        "POST",
        "/subscriptions/roservices/cart/lines",
        json={"kind": "NEW", "app": "time-attendance", "planId": plan, "months": 12},
    )
    assert cart.status_code == 201
    assert cart.get_json()["gross"] == "669.60" and cart.get_json()["vat"] == "129.60"
    refused = api(
        "POST",
        "/subscriptions/roservices/orders",
        json={"paymentMethod": "BANK_DEPOSIT", "termsAccepted": False, "billing": BILLING},
    )
    assert refused.status_code == 422 and "terms" in refused.get_json()["errors"]
    order = api(
        "POST",
        "/subscriptions/roservices/orders",
        json={"paymentMethod": "BANK_DEPOSIT", "termsAccepted": True, "billing": BILLING},
    )
    assert order.status_code == 201, order.get_json()
    code = order.get_json()["code"]
    assert order.get_json()["status"] == "PENDING_PAYMENT" and order.get_json()["paymentUrl"] is None
    assert api("POST", f"/store/orders/{code}/enable").status_code == 403  # admins are not operators

    ops = app.test_client()
    headers = _bearer(operator)
    pending = ops.get("/api/v1/store/orders", headers=headers).get_json()
    assert [o["code"] for o in pending] == [code]
    enabled = ops.post(f"/api/v1/store/orders/{code}/enable", headers=headers)
    assert enabled.status_code == 200 and enabled.get_json()["status"] == "PAID"
    again = ops.post(f"/api/v1/store/orders/{code}/enable", headers=headers)
    assert again.status_code == 200 and again.get_json()["invoice"] == enabled.get_json()["invoice"]
    inbox.wait_for(1)

    mine = api("GET", "/subscriptions/roservices/apps").get_json()
    assert mine[0]["app"] == "time-attendance" and mine[0]["seats"] == 20 and mine[0]["seatsUsed"] == 0
    assert mine[0]["webAddress"] == "https://api.example.test/apps/time-attendance/"
    invoices = api("GET", "/subscriptions/roservices/invoices").get_json()
    assert invoices[0]["number"] == enabled.get_json()["invoice"]
    pdf = api("GET", invoices[0]["pdfUrl"].removeprefix("/api/v1"))
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_card_order_answers_the_payment_page(api):
    plan = plan_named("app-insights", "Standard").id
    api(
        "POST",
        "/subscriptions/roservices/cart/lines",
        json={"kind": "NEW", "app": "app-insights", "planId": plan, "months": 1},
    )
    order = api(
        "POST",
        "/subscriptions/roservices/orders",
        json={"paymentMethod": "CARD", "termsAccepted": True, "billing": BILLING},
    )
    assert order.status_code == 201
    assert order.get_json()["paymentUrl"].startswith("/store/test-processor/")


def test_empty_cart_is_refused(api):
    response = api(
        "POST",
        "/subscriptions/roservices/orders",
        json={"paymentMethod": "CARD", "termsAccepted": True, "billing": BILLING},
    )
    assert response.status_code == 409


def test_get_it_and_seats(api, subscription):
    assert api("POST", "/subscriptions/roservices/apps/surveys/get-it", json={}).status_code == 201
    assert api("POST", "/subscriptions/roservices/apps/surveys/get-it", json={}).status_code == 409
    make_licence(subscription, "time-attendance", "Basic", ends_at=datetime.now(UTC) + timedelta(days=9), seats=1)
    first, second = make_user(subscription, "first"), make_user(subscription, "second")
    assert api("PUT", f"/subscriptions/roservices/apps/time-attendance/users/{first.id}").status_code == 204
    full = api("PUT", f"/subscriptions/roservices/apps/time-attendance/users/{second.id}")
    assert full.status_code == 409 and "seats" in full.get_json()["detail"]
    users = api("GET", "/subscriptions/roservices/apps/time-attendance/users").get_json()
    assert {u["erpUserId"]: u["assigned"] for u in users} == {"first": True, "second": False}
    assert api("DELETE", f"/subscriptions/roservices/apps/time-attendance/users/{first.id}").status_code == 204
    assert api("DELETE", f"/subscriptions/roservices/apps/time-attendance/users/{first.id}").status_code == 404


def test_operators_edit_the_catalogue_through_the_api(app, api, operator):
    headers = _bearer(operator)
    ops = app.test_client()
    created = ops.post(
        "/api/v1/store/apps",
        headers=headers,
        json={
            "code": "cloud-reports",
            "name": "Cloud Reports",
            "summary": "Reports.",
            "description": "Reports.",
            "pricing": "PAID",
        },
    )
    assert created.status_code == 201, created.get_json()
    plan = ops.post(
        "/api/v1/store/apps/cloud-reports/plans",
        headers=headers,
        json={"name": "S", "users": 2, "monthlyPrice": "9.99"},
    )
    assert plan.status_code == 201 and plan.get_json()["extraUserPrice"] == "5.00"
    assert api("POST", "/store/apps", json={"code": "nope-app", "name": "x"}).status_code == 403


def test_the_store_is_in_the_openapi_document(app):
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    for path in (
        "/api/v1/store/apps",
        "/api/v1/subscriptions/{subscription_id}/cart/lines",
        "/api/v1/store/orders/{code}/enable",
    ):
        assert path in spec["paths"]
    assert "CartLineCreate" in spec["components"]["schemas"]
