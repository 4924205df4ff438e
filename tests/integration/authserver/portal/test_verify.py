"""VERIFY CONNECTION as the guide walks it: the six-field login (stage 1), then the CSWebAssets file (stage 2)."""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from authserver.extensions import db
from authserver.subscriptions.models import Bridge
from tests.integration.authserver.portal.conftest import (
    EGRESS,
    create_subscription,
    events,
    free_port,
    page_text,
    rows,
    verify_form,
)

VERIFY = "/subscriptions/demo/verify"
CHALLENGE = "/subscriptions/demo/bridges/Demo_002/verify"
FILE = "demo-Demo_002.txt"


def _code(response) -> str:
    match = re.search(r'id="challenge-code">(\d+)<', response.get_data(as_text=True))
    assert match, page_text(response)
    return match.group(1)


def test_the_form_has_the_guides_fields_and_the_firewall_addresses(portal, admin):
    create_subscription(portal, admin)
    page = admin.client.get(VERIFY)
    text = page_text(page)
    for label in ("Subscription ID", "Subscription Password", "Backoffice User", "Password", "Bridge ID", "Branch ID"):
        assert label in text
    assert "VERIFY CONNECTION" in text
    assert all(address in text for address in EGRESS)
    html = page.get_data(as_text=True)
    assert 'value="demo"' in html and 'value="Demo_002"' in html  # prefilled for the only connection


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"subscription_id": ""}, "subscription_id", "Enter the Subscription ID."),
        ({"subscription_id": "other"}, "subscription_id", "This is not the Subscription ID of demo."),
        ({"subscription_password": ""}, "subscription_password", "Enter the Subscription Password."),
        (
            {"subscription_password": "Wrong#2024"},
            "subscription_password",
            "The Subscription Password is not the password of this subscription.",
        ),
        ({"user_id": ""}, "user_id", "Enter the User ID."),
        ({"user_id": "es master"}, "user_id", "may not contain spaces"),
        ({"password": ""}, "password", "Enter the user's password."),
        ({"bridge_id": ""}, "bridge_id", "Enter the Bridge ID."),
        ({"bridge_id": "Demo_009"}, "bridge_id", "This subscription has no connection with this Bridge ID."),
        ({"branch_id": "x" * 51}, "branch_id", "Field cannot be longer than 50 characters."),
    ],
)
def test_stage_one_checks_what_was_typed(portal, admin, overrides, field, message):
    create_subscription(portal, admin)
    response = admin.client.post(VERIFY, data=verify_form(**overrides))
    assert response.status_code == 200
    assert f'id="{field}-errors"' in response.get_data(as_text=True)
    assert message in page_text(response)
    assert rows(portal.app, Bridge)[0].challenge_code_encrypted is None
    assert "Esmaster#2024" not in response.get_data(as_text=True)


def test_a_wrong_subscription_password_is_audited(portal, admin):
    create_subscription(portal, admin)
    admin.client.post(VERIFY, data=verify_form(subscription_password="Wrong#2024"))
    [event] = events(portal.app, "bridge.verify_login")
    assert event.details == {"bridge": "Demo_002", "outcome": "failed", "reason": "subscription-password"}


@pytest.mark.parametrize(
    ("overrides", "message_id", "said"),
    [
        ({"user_id": "backoffice", "password": "Backoffice#2024"}, "login-webapi-not-allowed", "add WebApi"),
        ({"password": "Wrong#2024"}, "login-invalid-password", "Check the User ID and password."),
        ({"user_id": "nobody"}, "login-invalid-user", "Check the User ID"),
        ({"user_id": "former", "password": "Former#2024x"}, "login-inactive-user", "The ERP user is inactive"),
        ({"branch_id": "009"}, "login-invalid-branch", "Choose one of the user's branches."),
    ],
)
def test_stage_one_shows_what_ebs_said(portal, admin, overrides, message_id, said):
    create_subscription(portal, admin)
    response = admin.client.post(VERIFY, data=verify_form(**overrides))
    text = page_text(response)
    assert "Rejected by EBS" in text and "EBS said:" in text
    assert f"({message_id})" in text and said in text
    assert rows(portal.app, Bridge)[0].challenge_code_encrypted is None
    [event] = events(portal.app, "bridge.verify_login")
    assert event.details["outcome"] == "failed" and event.details["message_id"] == message_id
    assert event.details["reason"] == "ebs-rejected"
    assert "password" not in str(event.details).lower().replace("invalid-password", "")


def test_ebs_refusing_the_subscription_password(portal, admin):
    """The portal's password matches what was typed, but the EBS server is configured with another one."""
    create_subscription(portal, admin, password="Other#Pass2024")
    response = admin.client.post(VERIFY, data=verify_form(subscription_password="Other#Pass2024"))
    text = page_text(response)
    assert "(subscription-invalid-password)" in text
    assert "does not match the EBS WebApi server's configuration" in text


def test_an_unreachable_server_names_the_egress_addresses(portal, admin):
    create_subscription(portal, admin, port=str(free_port()))
    response = admin.client.post(VERIFY, data=verify_form())
    text = page_text(response)
    assert "EBS server unreachable" in text
    assert "Open the application server's port in your firewall to these addresses:" in text
    assert all(address in text for address in EGRESS)
    [event] = events(portal.app, "bridge.verify_login")
    assert event.details["reason"] == "upstream-unreachable"


def test_the_guard_refuses_a_name_that_now_points_inside(portal, admin):
    """A name that resolved to an allowed address at registration and now resolves to a private one."""
    guard = portal.gateway_app.extensions["bridge_gateway"].guard
    original, answers = guard.resolver, {"erp.customer.test": "127.0.0.1"}

    def resolver(host, port, *args, **kwargs):
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return original(host, port, *args, **kwargs)

    guard.resolver = resolver
    try:
        create_subscription(portal, admin, host="erp.customer.test")
        answers["erp.customer.test"] = "10.0.0.5"
        response = admin.client.post(VERIFY, data=verify_form())
    finally:
        guard.resolver = original
    text = page_text(response)
    assert "Destination refused" in text and "not a public internet address" in text
    assert "10.0.0.5" not in text
    assert rows(portal.app, Bridge)[0].challenge_code_encrypted is None


def test_stage_one_issues_a_seven_digit_code_for_the_file(portal, admin):
    create_subscription(portal, admin)
    response = admin.client.post(VERIFY, data=verify_form())
    assert response.status_code == 302
    page = admin.client.get(response.headers["Location"])
    text = page_text(page)
    assert "CSWebAssets/demo-Demo_002.txt" in text
    code = _code(page)
    assert re.fullmatch(r"\d{7}", code)
    assert "valid until" in text
    [bridge] = rows(portal.app, Bridge)
    assert bridge.challenge_code_encrypted and code not in bridge.challenge_code_encrypted
    expires = bridge.challenge_expires_at.replace(tzinfo=UTC)
    assert timedelta(hours=23, minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=24)
    assert bridge.challenge_user_id == "esmaster" and bridge.verified_at is None
    [event] = events(portal.app, "bridge.verify_login")
    assert event.details == {"bridge": "Demo_002", "outcome": "ok", "user": "esmaster"}
    admin.client.post(VERIFY, data=verify_form())  # each success issues a fresh code
    assert rows(portal.app, Bridge)[0].challenge_code_encrypted != bridge.challenge_code_encrypted


def _stage_one(portal, admin) -> str:
    create_subscription(portal, admin)
    response = admin.client.post(VERIFY, data=verify_form())
    return _code(admin.client.get(response.headers["Location"]))


def test_stage_two_without_the_file(portal, admin):
    code = _stage_one(portal, admin)
    response = admin.client.post(CHALLENGE)
    text = page_text(response)
    assert "The EBS server has no file demo-Demo_002.txt in its CSWebAssets folder." in text
    assert "create the folder CSWebAssets" in text
    assert _code(response) == code, "the code is still shown"
    assert rows(portal.app, Bridge)[0].verified_at is None
    [event] = events(portal.app, "bridge.verify_challenge")
    assert event.details == {"bridge": "Demo_002", "outcome": "failed", "reason": "challenge-file-missing"}


def test_stage_two_with_a_wrong_code(portal, admin):
    code = _stage_one(portal, admin)
    portal.write_asset(FILE, "1234567" if code != "1234567" else "7654321")
    text = page_text(admin.client.post(CHALLENGE))
    assert "does not hold the code the portal showed" in text
    assert rows(portal.app, Bridge)[0].verified_at is None


def test_stage_two_with_an_expired_code(portal, admin):
    code = _stage_one(portal, admin)
    portal.write_asset(FILE, code)
    with portal.app.app_context():
        bridge = db.session.execute(select(Bridge)).scalar_one()
        bridge.challenge_expires_at = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
        db.session.remove()
    response = admin.client.post(CHALLENGE)
    assert "The code has expired. Fill in the VERIFY CONNECTION form again to get a new code." in page_text(response)
    [bridge] = rows(portal.app, Bridge)
    assert bridge.verified_at is None and bridge.challenge_code_encrypted is None
    assert events(portal.app, "bridge.verify_challenge")[0].details["reason"] == "expired"


def test_stage_two_before_stage_one(portal, admin):
    create_subscription(portal, admin)
    assert "First fill in the VERIFY CONNECTION form" in page_text(admin.client.post(CHALLENGE))


def test_the_right_code_verifies_the_connection(portal, admin):
    code = _stage_one(portal, admin)
    portal.write_asset(FILE, f"  {code}\r\n")
    response = admin.client.post(CHALLENGE)
    assert response.status_code == 302
    page = page_text(admin.client.get(response.headers["Location"]))
    when = r"\d{4}-\d\d-\d\d \d\d:\d\d UTC"
    assert re.search(rf"Connection verified on {when} \(with back-office user\s+esmaster\s*\)", page)
    [bridge] = rows(portal.app, Bridge)
    assert bridge.verified_at is not None and bridge.verified_by == "esmaster"
    assert bridge.challenge_code_encrypted is None
    assert "Verified" in page_text(admin.client.get("/subscriptions/demo"))
    assert [e.details["outcome"] for e in events(portal.app, "bridge.verify_challenge")] == ["ok"]


def test_verify_connection_is_rate_limited(portal, admin):
    create_subscription(portal, admin)
    token_page = admin.client.post("/account/api-tokens", data={"name": "t"}).get_data(as_text=True)
    bearer = {"Authorization": "Bearer " + re.search(r'id="new-token">([^<]+)<', token_page).group(1)}
    portal.app.config.update(PORTAL_RATE_LIMITS=True, VERIFY_LIMIT_PER_ADDRESS="2 per minute")
    try:
        wrong = verify_form(subscription_password="Wrong#2024")
        assert admin.client.post(VERIFY, data=wrong).status_code == 200
        assert admin.client.post(VERIFY, data=wrong).status_code == 200
        page = admin.client.post(VERIFY, data=wrong)
        assert page.status_code == 429 and "Too many requests" in page_text(page)
        api = portal.app.test_client().post(
            "/api/v1/subscriptions/demo/bridges/Demo_002/verify/login",
            json={"subscriptionPassword": "x", "userId": "esmaster", "password": "x"},
            headers=bearer,
        )
        assert api.status_code == 429 and api.mimetype == "application/problem+json"
        assert int(api.headers["Retry-After"]) >= 1
    finally:
        portal.app.config.update(PORTAL_RATE_LIMITS=False, VERIFY_LIMIT_PER_ADDRESS="30 per minute")


def test_the_gateway_client_checks_credentials_and_lists_branches(portal, admin):
    """What the apps' sign-in uses (authserver/directory.py): one live login, and the user's branches."""
    from authserver.gateway_client import GatewayProblem, gateway_client

    create_subscription(portal, admin)
    with portal.app.app_context():
        client = gateway_client()
        profile = client.check_credentials(
            subscription_id="demo", bridge_id="demo_002", user_id="esmaster", password="Esmaster#2024", branch_id="001"
        )
        assert profile["userId"] == "esmaster" and profile["administrator"] is True
        assert [
            b["id"]
            for b in client.branches(subscription_id="demo", bridge_id="Demo_002", user_id="payroll")["branches"]
        ] == ["001"]
        with pytest.raises(GatewayProblem) as refused:
            client.check_credentials(subscription_id="demo", bridge_id="Demo_002", user_id="esmaster", password="x")
        assert refused.value.status == 422 and refused.value.message_id == "login-invalid-password"
        with pytest.raises(GatewayProblem) as unknown:
            client.branches(subscription_id="nobody", bridge_id="Demo_002")
        assert unknown.value.slug == "bridge-not-found" and unknown.value.status == 404
