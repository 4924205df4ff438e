"""The Users tab: ADD USER, the invitation e-mail and its Confirm account page, resend, activate, deactivate."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from authserver.extensions import db
from authserver.mail.transport import SmtpSettings, SmtpTransport
from authserver.subscriptions.models import Subscription
from authserver.users.models import INVITED, VERIFIED, SubscriptionUser
from authserver.users.service import find_users_for_signin, subscription_bridge
from tests.integration.authserver.portal.conftest import (
    STRONG,
    create_subscription,
    events,
    free_port,
    invitation_path,
    page_text,
    rows,
    verified_subscription,
)

USERS = "/subscriptions/demo/users"


def _add(admin, user_id: str = "payroll", email: str = "payroll@demo.example", follow: bool = False, **extra):
    data = {"erp_user_id": user_id, "email": email, **extra}
    return admin.client.post(f"{USERS}/new", data=data, follow_redirects=follow)


def _user(portal, user_id: str = "payroll") -> SubscriptionUser:
    [user] = rows(portal.app, SubscriptionUser, SubscriptionUser.erp_user_id_normalized == user_id.lower())
    return user


def test_add_user_sends_the_invitation(portal, admin):
    create_subscription(portal, admin)
    page = page_text(admin.client.get(f"{USERS}/new"))
    assert "User ID" in page and "Email" in page and "ADD USER" in page
    response = _add(admin)
    assert response.status_code == 302 and response.headers["Location"] == USERS
    user = _user(portal)
    assert (user.status, user.active, user.email) == (INVITED, False, "payroll@demo.example")
    assert user.invitation_digest and user.invitation_expires_at
    lifetime = user.invitation_expires_at.replace(tzinfo=UTC) - datetime.now(UTC)
    assert timedelta(days=6, hours=23) < lifetime <= timedelta(days=7)
    mail = portal.inbox.wait_to("payroll@demo.example")
    assert mail["Subject"] == "Confirm your account for Demo S.A."
    body = mail.get_body(("plain",)).get_content()
    assert "Confirm account" in body and "demo/payroll" in body
    assert "You do not get access to the Cloud Store portal itself." in body
    assert invitation_path(mail).split("/")[-1] not in user.invitation_digest  # only a digest is kept
    html_body = mail.get_body(("html",)).get_content()
    assert ">Confirm account</a>" in html_body
    listing = page_text(admin.client.get(USERS))
    assert "payroll" in listing and "INVITED" in listing
    assert "The user has not confirmed the invitation yet." in listing and "Resend invitation" in listing
    [event] = events(portal.app, "user.invited")
    assert event.details == {"user": "payroll", "user_ref": str(user.id)}


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"erp_user_id": ""}, "erp_user_id", "Enter the User ID."),
        ({"erp_user_id": "pay roll"}, "erp_user_id", "may not contain spaces"),
        ({"erp_user_id": "x" * 51}, "erp_user_id", "at most 50 characters"),
        ({"email": ""}, "email", "Enter your e-mail address."),
        ({"email": "payroll"}, "email", "Enter a valid e-mail address"),
        ({"email": "a@b@example.com"}, "email", "Enter a valid e-mail address"),
        ({"email": "x" * 250 + "@example.com"}, "email", "Enter a valid e-mail address"),
    ],
)
def test_add_user_validates_each_field(portal, admin, form, field, message):
    create_subscription(portal, admin)
    data = {"erp_user_id": "payroll", "email": "payroll@demo.example", **form}
    response = admin.client.post(f"{USERS}/new", data=data)
    assert f'id="{field}-errors"' in response.get_data(as_text=True)
    assert message in page_text(response)
    assert rows(portal.app, SubscriptionUser) == []


def test_duplicates_are_refused_case_insensitively(portal, admin, make_admin):
    create_subscription(portal, admin)
    _add(admin)
    same_id = _add(admin, "PAYROLL", "someone@demo.example")
    assert "This User ID is already a user of the subscription." in page_text(same_id)
    same_mail = _add(admin, "esmaster", "Payroll@Demo.Example")
    assert "This e-mail address already belongs to a user of the subscription." in page_text(same_mail)
    assert len(rows(portal.app, SubscriptionUser)) == 1
    other = make_admin()
    create_subscription(portal, other, subscription_id="other", bridge_id="Other_1")
    response = other.client.post(
        "/subscriptions/other/users/new", data={"erp_user_id": "payroll", "email": "payroll@demo.example"}
    )
    assert response.status_code == 302, "another subscription may have the same user"


def test_confirm_account_from_the_invitation(portal, admin):
    create_subscription(portal, admin)
    _add(admin)
    path = invitation_path(portal.inbox.wait_to("payroll@demo.example"))
    invitee = portal.app.test_client()
    page = invitee.get(path)
    text = page_text(page)
    assert page.status_code == 200 and "Confirm account" in text
    assert "You do not get access to the Cloud Store portal itself." in text
    assert _user(portal).status == INVITED, "opening the link changes nothing"
    confirmed = invitee.post(path)
    assert confirmed.status_code == 200
    assert "Your account demo/payroll is confirmed: its status is VERIFIED" in page_text(confirmed)
    user = _user(portal)
    assert user.status == VERIFIED and user.verified_at and user.invitation_digest is None
    again = invitee.post(path)
    assert again.status_code == 400 and "This invitation does not work any more" in page_text(again)
    assert invitee.get(path).status_code == 400
    listing = page_text(admin.client.get(USERS))
    assert "VERIFIED" in listing and "Resend invitation" not in listing
    [event] = events(portal.app, "user.confirmed")
    assert event.actor == f"user:{user.id}" and event.subscription_id is not None


def test_confirming_needs_the_pages_csrf_token(portal, admin):
    create_subscription(portal, admin)
    _add(admin)
    path = invitation_path(portal.inbox.wait_to("payroll@demo.example"))
    invitee = portal.app.test_client()
    portal.app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert invitee.post(path).status_code == 400
        assert _user(portal).status == INVITED
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', invitee.get(path).get_data(as_text=True))
        assert invitee.post(path, data={"csrf_token": token.group(1)}).status_code == 200
    finally:
        portal.app.config["WTF_CSRF_ENABLED"] = False
    assert _user(portal).status == VERIFIED


def test_resend_invalidates_the_old_link(portal, admin):
    create_subscription(portal, admin)
    _add(admin)
    old = invitation_path(portal.inbox.wait_to("payroll@demo.example"))
    user = _user(portal)
    response = admin.client.post(f"{USERS}/{user.id}/resend")
    assert response.status_code == 302
    new = invitation_path(portal.inbox.wait_to("payroll@demo.example", count=2))
    assert new != old
    invitee = portal.app.test_client()
    assert invitee.get(old).status_code == 400
    assert invitee.post(old).status_code == 400
    assert invitee.post(new).status_code == 200
    refused = admin.client.post(f"{USERS}/{user.id}/resend", follow_redirects=True)
    assert "This user has already confirmed the invitation." in page_text(refused)
    assert [e.event for e in events(portal.app, "user.resent")] == ["user.resent"]


def test_an_expired_invitation_does_not_work(portal, admin):
    create_subscription(portal, admin)
    _add(admin)
    path = invitation_path(portal.inbox.wait_to("payroll@demo.example"))
    with portal.app.app_context():
        user = db.session.execute(select(SubscriptionUser)).scalar_one()
        user.invitation_expires_at = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
        db.session.remove()
    invitee = portal.app.test_client()
    assert invitee.post(path).status_code == 400
    assert invitee.get("/invitations/not-a-token").status_code == 400
    assert _user(portal).status == INVITED


def test_activation_needs_a_verified_connection(portal, admin):
    create_subscription(portal, admin)
    checked = _add(admin, active="y")
    assert "Verify a connection of the subscription first" in page_text(checked)
    assert rows(portal.app, SubscriptionUser) == []
    _add(admin)
    user = _user(portal)
    refused = admin.client.post(f"{USERS}/{user.id}/activate", follow_redirects=True)
    assert "Verify a connection of the subscription first" in page_text(refused)
    assert _user(portal).active is False
    assert "Users can be activated once a connection is verified" in page_text(admin.client.get(USERS))


def test_activate_and_deactivate(portal, admin):
    verified_subscription(portal, admin)
    checkbox = re.search(r"<input[^>]*name=\"active\"[^>]*>", admin.client.get(f"{USERS}/new").get_data(as_text=True))
    assert "checked" in checkbox.group(0), "active by default once a connection is verified"
    _add(admin, active="y")
    assert _user(portal).active is True
    _add(admin, "esmaster", "esmaster@demo.example")
    user = _user(portal, "esmaster")
    assert user.active is False
    assert admin.client.post(f"{USERS}/{user.id}/activate").status_code == 302
    assert _user(portal, "esmaster").active is True
    assert admin.client.post(f"{USERS}/{user.id}/deactivate").status_code == 302
    assert _user(portal, "esmaster").active is False
    assert [e.event for e in events(portal.app, "user.activated", "user.deactivated")] == [
        "user.activated",
        "user.deactivated",
    ]


def test_invited_users_cannot_enter_the_portal(portal, admin):
    create_subscription(portal, admin)
    _add(admin)
    path = invitation_path(portal.inbox.wait_to("payroll@demo.example"))
    invitee = portal.app.test_client()
    invitee.post(path)
    assert invitee.get("/subscriptions").status_code == 302, "confirming signs nobody in to the portal"
    signin = invitee.post("/signin", data={"email": "payroll@demo.example", "password": STRONG})
    assert "Incorrect e-mail or password" in page_text(signin)


def test_a_mail_failure_keeps_the_user_for_a_resend(portal, admin):
    create_subscription(portal, admin)
    mail = portal.app.extensions["mail"]
    portal.app.extensions["mail"] = SmtpTransport(SmtpSettings(host="127.0.0.1", port=free_port(), timeout=2))
    try:
        response = _add(admin, follow=True)
    finally:
        portal.app.extensions["mail"] = mail
    assert "We could not send the invitation e-mail. Use resend invitation in a few minutes." in page_text(response)
    user = _user(portal)
    admin.client.post(f"{USERS}/{user.id}/resend")
    assert portal.inbox.wait_to("payroll@demo.example")


def test_sign_in_lookups(portal, admin, make_admin):
    create_subscription(portal, admin)
    _add(admin)
    _add(admin, "esmaster", "boss@example.com")
    other = make_admin()
    create_subscription(portal, other, subscription_id="other", bridge_id="Other_1")
    other.client.post("/subscriptions/other/users/new", data={"erp_user_id": "chief", "email": "Boss@Example.com"})
    with portal.app.app_context():
        session = db.session

        def names(login: str) -> list[str]:
            return [user.login for user in find_users_for_signin(session=session, login=login)]

        assert names("DEMO/ESMASTER") == ["demo/esmaster"]
        assert names(" demo/payroll ") == ["demo/payroll"]
        assert names("BOSS@example.COM") == ["demo/esmaster", "other/chief"]
        assert names("other/esmaster") == []
        assert names("demo/") == [] and names("/esmaster") == [] and names("esmaster") == []
        assert names("nobody@example.com") == []
        assert names("boss\x00@example.com") == [] and names("demo/\x00") == []
        subscription = session.execute(select(Subscription).where(Subscription.subscription_id == "demo")).scalar_one()
        assert subscription_bridge(session=session, subscription=subscription, bridge_id="demo_002").bridge_id == (
            "Demo_002"
        )
        assert subscription_bridge(session=session, subscription=subscription, bridge_id="Other_1") is None
        db.session.remove()
