"""Create New Subscription, its details, connections (bridges): every field rule, uniqueness, the gateway's say."""

from __future__ import annotations

import uuid
from contextlib import contextmanager

import pytest
import requests
from sqlalchemy import select

from authserver.extensions import db
from authserver.subscriptions.models import Bridge, Subscription
from shared.service import encryptor
from tests.integration.authserver.portal.conftest import (
    DEMO_PASSWORD,
    create_subscription,
    events,
    free_port,
    page_text,
    rows,
    subscription_form,
    verified_subscription,
)


def _gateway_bridge(portal, subscription_id: str, bridge_id: str) -> requests.Response:
    """The bridge as the gateway has it (asked with the auth server's own client)."""
    with portal.app.app_context():
        from authserver.gateway_client import gateway_client

        return gateway_client().send("GET", f"/v1/bridges/{subscription_id}/{bridge_id}")


def test_create_subscription_registers_its_bridge_and_shows_the_gid(portal, admin):
    page = admin.client.get("/subscriptions/new")
    text = page_text(page)
    for label in (
        "Company Name",
        "Subscription ID",
        "Customer serial number",
        "Customer VAT number",
        "Password",
        "Confirm Password",
        "Database ID",
        "Company ID",
        "Application server",
        "Port",
    ):
        assert label in text
    response = create_subscription(portal, admin)
    assert response.headers["Location"] == "/subscriptions/demo"
    [subscription] = rows(portal.app, Subscription)
    assert subscription.subscription_id_normalized == "demo" and subscription.owner_id == admin.id
    assert isinstance(subscription.gid, uuid.UUID)
    assert DEMO_PASSWORD not in subscription.password_encrypted
    with portal.app.app_context():
        assert encryptor().decrypt(subscription.password_encrypted) == DEMO_PASSWORD
    detail = page_text(admin.client.get("/subscriptions/demo"))
    assert f"SubscriptionGID {subscription.gid}" in detail
    assert "Demo_002" in detail and "Not verified" in detail
    at_gateway = _gateway_bridge(portal, "demo", "Demo_002")
    assert at_gateway.status_code == 200
    assert at_gateway.json()["subscriptionGid"] == str(subscription.gid)
    assert at_gateway.json()["host"] == "127.0.0.1" and at_gateway.json()["scheme"] == "http"
    assert [e.event for e in events(portal.app)] == ["subscription.created", "bridge.created"]
    listing = page_text(admin.client.get("/subscriptions"))
    assert "demo" in listing and "Demo S.A." in listing and "Create New Subscription" in listing


def test_the_first_bridge_id_defaults_to_database_and_company(portal, admin):
    create_subscription(portal, admin, subscription_id="acme", bridge_id="", database_id="ACME", company_id="01")
    [bridge] = rows(portal.app, Bridge)
    assert bridge.bridge_id == "ACME_01"


SUBSCRIPTION_RULES = [
    ({"company_name": ""}, "company_name", "Enter the Company Name."),
    ({"company_name": "x" * 201}, "company_name", "at most 200 characters"),
    ({"subscription_id": ""}, "subscription_id", "Enter the Subscription ID."),
    ({"subscription_id": "a"}, "subscription_id", "Use 2 to 50 letters, digits, '_' or '-'."),
    ({"subscription_id": "x" * 51}, "subscription_id", "Use 2 to 50 letters, digits, '_' or '-'."),
    ({"subscription_id": "ro services"}, "subscription_id", "Use 2 to 50 letters, digits, '_' or '-'."),
    ({"subscription_id": "roservices/x"}, "subscription_id", "Use 2 to 50 letters, digits, '_' or '-'."),
    ({"subscription_id": "dΣmo"}, "subscription_id", "Use 2 to 50 letters, digits, '_' or '-'."),
    ({"subscription_id": "NEW"}, "subscription_id", "is reserved"),
    ({"serial_number": ""}, "serial_number", "Enter the Customer serial number."),
    ({"serial_number": "x" * 51}, "serial_number", "at most 50 characters"),
    ({"vat_number": ""}, "vat_number", "Enter the Customer VAT number."),
    ({"vat_number": "EL#1234"}, "vat_number", "Use 2 to 30 letters, digits"),
    ({"vat_number": "1"}, "vat_number", "Use 2 to 30 letters, digits"),
    ({"password": ""}, "password", "Enter a password."),
    ({"password": "short1!A"[:7]}, "password", "Must be at least 8 characters long."),
    ({"password": "nouppercase1!"}, "password", "Must contain an uppercase letter."),
    ({"password": "NOLOWERCASE1!"}, "password", "Must contain a lowercase letter."),
    ({"password": "NoDigits!!"}, "password", "Must contain a digit."),
    ({"password": "NoSymbol123"}, "password", "Must contain one of the symbols ! @ # $ & *."),
    ({"confirm_password": "Other#2024x"}, "confirm_password", "The passwords do not match."),
    ({"database_id": ""}, "database_id", "Enter the Database ID."),
    ({"database_id": "DE MO"}, "database_id", "may not contain spaces"),
    ({"company_id": ""}, "company_id", "Enter the Company ID."),
    ({"company_id": "0" * 51}, "company_id", "at most 50 characters"),
    ({"host": ""}, "host", "Enter the Application server"),
    ({"host": "not a host"}, "host", "Enter the public IP address or the domain name"),
    ({"host": "http://erp.example.com"}, "host", "Enter the public IP address or the domain name"),
    ({"host": "-bad-.example.com"}, "host", "Enter the public IP address or the domain name"),
    ({"host": "256.1.1.1"}, "host", "Enter the public IP address or the domain name"),
    ({"port": ""}, "port", "Enter the Port."),
    ({"port": "0"}, "port", "Enter a port between 1 and 65535."),
    ({"port": "65536"}, "port", "Enter a port between 1 and 65535."),
    ({"port": "80a"}, "port", "Enter a port between 1 and 65535."),
    ({"port": "٣٣"}, "port", "Enter a port between 1 and 65535."),
    ({"scheme": "ftp"}, "scheme", "Not a valid choice"),
    ({"bridge_id": "Demo 002"}, "bridge_id", "Use 2 to 50 letters, digits, '_' or '-'."),
]


@pytest.mark.parametrize(("overrides", "field", "message"), SUBSCRIPTION_RULES)
def test_create_subscription_validates_each_field(portal, admin, overrides, field, message):
    response = admin.client.post("/subscriptions/new", data=subscription_form(portal, **overrides))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="{field}-errors"' in html, f"no error on {field}"
    assert message in page_text(response)
    assert rows(portal.app, Subscription) == []
    if "company_name" not in overrides:
        assert 'value="Demo S.A."' in html  # the form keeps what was typed
    assert DEMO_PASSWORD not in html  # but never a password


def test_subscription_id_is_unique_case_insensitively(portal, admin, make_admin):
    create_subscription(portal, admin)
    other = make_admin()
    response = other.client.post(
        "/subscriptions/new", data=subscription_form(portal, subscription_id="DEMO", bridge_id="X_1")
    )
    assert response.status_code == 200
    assert "This Subscription ID is taken. Choose another one." in page_text(response)
    assert len(rows(portal.app, Subscription)) == 1


def test_a_host_the_gateway_refuses_saves_nothing_and_says_why(portal, admin):
    response = admin.client.post("/subscriptions/new", data=subscription_form(portal, host="169.254.169.254"))
    assert response.status_code == 200
    text = page_text(response)
    assert "not a public internet address" in text
    assert 'id="host-errors"' in response.get_data(as_text=True)
    assert rows(portal.app, Subscription) == [] and rows(portal.app, Bridge) == []
    assert _gateway_bridge(portal, "demo", "Demo_002").status_code == 404


@contextmanager
def _gateway_client_with(app, **config):
    """The app's gateway client rebuilt with other settings for the block, then the usual one again."""
    saved, old = app.extensions.pop("gateway_client", None), {key: app.config[key] for key in config}
    app.config.update(config)
    try:
        yield
    finally:
        app.extensions.pop("gateway_client", None)
        if saved is not None:
            app.extensions["gateway_client"] = saved
        app.config.update(old)


def test_a_gateway_that_is_down_saves_nothing(portal, admin):
    with _gateway_client_with(portal.app, GATEWAY_URL=f"http://127.0.0.1:{free_port()}"):
        response = admin.client.post("/subscriptions/new", data=subscription_form(portal))
    assert "The connection service is not available right now." in page_text(response)
    assert rows(portal.app, Subscription) == []


def test_no_service_token_saves_nothing(portal, admin):
    with _gateway_client_with(portal.app, CLIENT_ID="no-such-client"):
        response = admin.client.post("/subscriptions/new", data=subscription_form(portal))
    assert "The connection service is not available right now." in page_text(response)
    assert rows(portal.app, Subscription) == []


def test_edit_details_and_password(portal, admin):
    verified_subscription(portal, admin)
    page = admin.client.get("/subscriptions/demo/edit")
    assert 'value="Demo S.A."' in page.get_data(as_text=True)
    response = admin.client.post(
        "/subscriptions/demo/edit",
        data={
            "company_name": "Demo Corp",
            "serial_number": "ES-1",
            "vat_number": "EL999",
            "password": "",
            "confirm_password": "",
        },
    )
    assert response.status_code == 302
    [subscription] = rows(portal.app, Subscription)
    assert (subscription.company_name, subscription.serial_number, subscription.vat_number) == (
        "Demo Corp",
        "ES-1",
        "EL999",
    )
    assert rows(portal.app, Bridge)[0].verified_at is not None, "details alone leave the bridges verified"
    weak = admin.client.post(
        "/subscriptions/demo/edit",
        data={**_details(), "password": "weak", "confirm_password": "weak"},
    )
    assert "Must be at least 8 characters long." in page_text(weak)
    response = admin.client.post(
        "/subscriptions/demo/edit", data={**_details(), "password": "New#Pass2025", "confirm_password": "New#Pass2025"}
    )
    assert response.status_code == 302
    with portal.app.app_context():
        stored = db.session.execute(select(Subscription)).scalar_one()
        assert encryptor().decrypt(stored.password_encrypted) == "New#Pass2025"
        db.session.remove()
    assert rows(portal.app, Bridge)[0].verified_at is None, "a new subscription password unverifies the bridges"
    assert _gateway_bridge(portal, "demo", "Demo_002").json()["verifiedAt"] is None
    changed = [e.details["changed"] for e in events(portal.app, "subscription.updated")]
    assert changed == [["company_name", "serial_number", "vat_number"], ["password"]]


def _details() -> dict[str, str]:
    return {"company_name": "Demo Corp", "serial_number": "ES-1", "vat_number": "EL999"}


def _bridge_form(portal, **overrides):
    form = {
        "bridge_id": "Demo_003",
        "database_id": "DEMO",
        "company_id": "003",
        "host": "127.0.0.1",
        "port": str(portal.simulator.port),
        "scheme": "http",
    }
    form.update(overrides)
    return form


def test_more_connections_with_bridge_ids_unique_within_the_subscription(portal, admin, make_admin):
    create_subscription(portal, admin)
    assert "Add Connection" in page_text(admin.client.get("/subscriptions/demo/bridges/new"))
    assert admin.client.post("/subscriptions/demo/bridges/new", data=_bridge_form(portal)).status_code == 302
    duplicate = admin.client.post("/subscriptions/demo/bridges/new", data=_bridge_form(portal, bridge_id="demo_003"))
    assert "This subscription already has a connection with this Bridge ID." in page_text(duplicate)
    assert sorted(b.bridge_id for b in rows(portal.app, Bridge)) == ["Demo_002", "Demo_003"]
    other = make_admin()
    create_subscription(portal, other, subscription_id="other", bridge_id="Demo_003")  # another subscription may
    assert len(rows(portal.app, Bridge)) == 3
    assert _gateway_bridge(portal, "demo", "Demo_003").status_code == 200
    assert _gateway_bridge(portal, "other", "Demo_003").status_code == 200


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"bridge_id": ""}, "bridge_id", "Enter the Bridge ID."),
        ({"bridge_id": "D"}, "bridge_id", "Use 2 to 50 letters, digits, '_' or '-'."),
        ({"bridge_id": "Demo.003"}, "bridge_id", "Use 2 to 50 letters, digits, '_' or '-'."),
        ({"database_id": ""}, "database_id", "Enter the Database ID."),
        ({"company_id": "0 3"}, "company_id", "may not contain spaces"),
        ({"host": "exa mple.com"}, "host", "Enter the public IP address or the domain name"),
        ({"port": "99999"}, "port", "Enter a port between 1 and 65535."),
    ],
)
def test_add_connection_validates_each_field(portal, admin, overrides, field, message):
    create_subscription(portal, admin)
    response = admin.client.post("/subscriptions/demo/bridges/new", data=_bridge_form(portal, **overrides))
    assert f'id="{field}-errors"' in response.get_data(as_text=True)
    assert message in page_text(response)
    assert len(rows(portal.app, Bridge)) == 1


def test_changing_host_or_port_makes_the_bridge_unverified(portal, admin):
    verified_subscription(portal, admin)
    form = {"database_id": "DEMO", "company_id": "002", "host": "127.0.0.1", "port": portal.simulator.port}
    response = admin.client.post("/subscriptions/demo/bridges/Demo_002/edit", data={**form, "scheme": "http"})
    assert response.status_code == 302
    assert rows(portal.app, Bridge)[0].verified_at is not None, "nothing changed, still verified"
    response = admin.client.post(
        "/subscriptions/demo/bridges/Demo_002/edit", data={**form, "scheme": "http", "host": "localhost"}
    )
    assert response.status_code == 302
    [bridge] = rows(portal.app, Bridge)
    assert bridge.host == "localhost" and bridge.verified_at is None
    gateway = _gateway_bridge(portal, "demo", "Demo_002").json()
    assert gateway["host"] == "localhost"
    [updated] = events(portal.app, "bridge.updated")
    assert updated.details == {"bridge": "Demo_002", "changed": ["host"], "unverified": True}
    refused = admin.client.post(
        "/subscriptions/demo/bridges/Demo_002/edit", data={**form, "scheme": "http", "host": "10.1.2.3"}
    )
    assert "not a public internet address" in page_text(refused)
    assert rows(portal.app, Bridge)[0].host == "localhost", "the refused change is not saved"


def test_remove_a_connection(portal, admin):
    create_subscription(portal, admin)
    admin.client.post("/subscriptions/demo/bridges/new", data=_bridge_form(portal))
    response = admin.client.post("/subscriptions/demo/bridges/Demo_003/delete")
    assert response.status_code == 302
    assert [b.bridge_id for b in rows(portal.app, Bridge)] == ["Demo_002"]
    assert _gateway_bridge(portal, "demo", "Demo_003").status_code == 404
    assert [e.details["bridge"] for e in events(portal.app, "bridge.deleted")] == ["Demo_003"]


def test_a_bridge_the_gateway_lost_is_registered_again(portal, admin):
    create_subscription(portal, admin)
    with portal.app.app_context():
        from authserver.gateway_client import gateway_client

        gateway_client().delete_bridge(subscription_id="demo", bridge_id="Demo_002")
    form = {"database_id": "DEMO", "company_id": "002", "host": "localhost", "port": portal.simulator.port}
    response = admin.client.post("/subscriptions/demo/bridges/Demo_002/edit", data={**form, "scheme": "http"})
    assert response.status_code == 302
    assert _gateway_bridge(portal, "demo", "Demo_002").json()["host"] == "localhost"


def test_pages_need_a_signed_in_admin(portal):
    anonymous = portal.app.test_client()
    response = anonymous.get("/subscriptions")
    assert response.status_code == 302 and response.headers["Location"].startswith("/signin")
    assert anonymous.post("/subscriptions/new", data={}).status_code == 302


def test_csrf_protects_the_forms(portal, admin):
    portal.app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = admin.client.post("/subscriptions/new", data=subscription_form(portal))
        assert refused.status_code == 400 and "The form has expired" in page_text(refused)
        page = admin.client.get("/subscriptions/new").get_data(as_text=True)
        import re

        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        accepted = admin.client.post("/subscriptions/new", data={**subscription_form(portal), "csrf_token": token})
        assert accepted.status_code == 302
    finally:
        portal.app.config["WTF_CSRF_ENABLED"] = False


def test_odd_ids_in_paths_are_simply_not_found(portal, admin, make_admin):
    create_subscription(portal, admin)
    for path in (
        "/subscriptions/%00",
        "/subscriptions/demo%00",
        "/subscriptions/" + "x" * 300,
        "/subscriptions/demo/bridges/%00/edit",
        "/subscriptions/demo/users/not-a-uuid/activate",
        "/api/v1/subscriptions/%00",
        "/api/v1/subscriptions/demo/bridges/Demo%00",
    ):
        method = "POST" if path.endswith("activate") else "GET"
        assert admin.client.open(path, method=method).status_code == 404, path
    assert admin.client.get("/subscriptions/demo/verify?bridge=%00").status_code == 404
