"""The Audit log tab: the subscription's security events and its admin's sign-ins, newest first, by pages."""

from __future__ import annotations

import re

from tests.integration.authserver.portal.conftest import STRONG, create_subscription, page_text, verify_form


def _events_on_page(response) -> list[str]:
    html = response.get_data(as_text=True)
    return re.findall(r'<td class="mono">([a-z_]+\.[a-z_]+)</td>', html)


def test_the_audit_tab_shows_the_admins_security_events(portal, admin, make_admin):
    client = portal.app.test_client()
    assert client.post("/signin", data={"email": admin.email, "password": "Wrong#pass1"}).status_code == 200
    assert client.post("/signin", data={"email": admin.email, "password": STRONG}).status_code == 302
    create_subscription(portal, admin)
    client.post("/subscriptions/demo/verify", data=verify_form(password="Wrong#2024"))
    client.post("/subscriptions/demo/users/new", data={"erp_user_id": "payroll", "email": "payroll@demo.example"})
    other = make_admin()
    create_subscription(portal, other, subscription_id="other", bridge_id="Other_1")

    page = client.get("/subscriptions/demo/audit")
    assert page.status_code == 200
    shown = _events_on_page(page)
    assert shown == [
        "user.invited",
        "bridge.verify_login",
        "bridge.created",
        "subscription.created",
        "account.signin",
        "account.signin_failed",
    ]
    text = page_text(page)
    assert "login-invalid-password" in text and "you" in text and "127.0.0.1" in text
    assert "Other_1" not in text, "another admin's subscription stays out"
    assert "Audit log" in page_text(client.get("/subscriptions/demo"))


def test_the_audit_tab_is_paginated(portal, admin):
    create_subscription(portal, admin)
    for index in range(3):
        admin.client.post(
            "/subscriptions/demo/edit",
            data={
                "company_name": f"Demo {index}",
                "serial_number": "ES-1",
                "vat_number": "EL1",
                "password": "",
                "confirm_password": "",
            },
        )
    portal.app.config["AUDIT_PAGE_SIZE"] = 2
    try:
        first = admin.client.get("/subscriptions/demo/audit")
        second = admin.client.get("/subscriptions/demo/audit?page=2")
        third = admin.client.get("/subscriptions/demo/audit?page=3")
        junk = admin.client.get("/subscriptions/demo/audit?page=abc")
    finally:
        portal.app.config["AUDIT_PAGE_SIZE"] = 50
    assert _events_on_page(first) == ["subscription.updated", "subscription.updated"]
    assert "Page 1 of 3" in page_text(first) and "Older" in page_text(first)
    assert _events_on_page(second) == ["subscription.updated", "bridge.created"]
    assert _events_on_page(third) == ["subscription.created"] and "Newer" in page_text(third)
    assert _events_on_page(junk) == _events_on_page(first)
