"""App sign-in's user directory: portal users, their verified bridge, and the ERP's live answer."""

from __future__ import annotations

import pytest

from authserver.directory import DirectoryAuthenticator
from authserver.signin.users import ErpUnavailable, SignInRefused
from authserver.users.models import SubscriptionUser
from tests.integration.authserver.portal.conftest import (
    create_subscription,
    invitation_path,
    rows,
    verified_subscription,
)

USERS = "/subscriptions/demo/users"


def _invite_and_confirm(portal, admin, user_id: str, email: str, *, active: bool = True) -> None:
    data = {"erp_user_id": user_id, "email": email, **({"active": "y"} if active else {})}
    assert admin.client.post(f"{USERS}/new", data=data).status_code == 302
    path = invitation_path(portal.inbox.wait_to(email))
    assert portal.app.test_client().post(path).status_code == 200


def _sign_in(portal, **kwargs):
    with portal.app.test_request_context():
        return DirectoryAuthenticator().authenticate(**kwargs)


def _refusal(portal, **kwargs) -> str:
    with pytest.raises(SignInRefused) as excinfo:
        _sign_in(portal, **kwargs)
    return excinfo.value.message


def test_verified_active_user_signs_in_with_erp_credentials(portal, admin):
    verified_subscription(portal, admin)
    _invite_and_confirm(portal, admin, "esmaster", "esmaster@demo.example")
    user = _sign_in(portal, login="demo/esmaster", password="Esmaster#2024", company_id="Demo_002", branch_id="001")
    [row] = rows(portal.app, SubscriptionUser, SubscriptionUser.erp_user_id_normalized == "esmaster")
    assert (user.sub, user.subscription_id, user.bridge_id, user.branch_id) == (str(row.id), "demo", "Demo_002", "001")
    assert user.administrator is True and user.email == "esmaster@demo.example"
    by_email = _sign_in(
        portal, login="esmaster@demo.example", password="Esmaster#2024", company_id="demo_002", branch_id="001"
    )
    assert by_email.sub == user.sub
    with portal.app.test_request_context():
        branches = DirectoryAuthenticator().branches(login="demo/esmaster", company_id="Demo_002")
    assert ("001", "Κεντρικό") in branches


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"login": "demo/nobody"}, "Unknown user"),
        ({"login": "not-a-login"}, "Unknown user"),
        ({"company_id": "Other_009"}, "is not a connection"),
        ({"password": "Wrong#2024x"}, "The ERP refused the sign-in"),
        ({"branch_id": "003", "login": "demo/payroll", "password": "Payroll#2024"}, "The ERP refused the sign-in"),
    ],
)
def test_refusals_say_why(portal, admin, kwargs, message):
    verified_subscription(portal, admin)
    _invite_and_confirm(portal, admin, "esmaster", "esmaster@demo.example")
    _invite_and_confirm(portal, admin, "payroll", "payroll@demo.example")
    attempt = {"login": "demo/esmaster", "password": "Esmaster#2024", "company_id": "Demo_002", "branch_id": "001"}
    assert message in _refusal(portal, **{**attempt, **kwargs})


def test_unconfirmed_inactive_and_unverified_bridge_are_refused(portal, admin):
    create_subscription(portal, admin)  # the bridge is not verified
    assert (
        admin.client.post(f"{USERS}/new", data={"erp_user_id": "esmaster", "email": "e@demo.example"}).status_code
        == 302
    )
    attempt = {"login": "demo/esmaster", "password": "Esmaster#2024", "company_id": "Demo_002", "branch_id": "001"}
    assert "not confirmed yet" in _refusal(portal, **attempt)
    portal.app.test_client().post(invitation_path(portal.inbox.wait_to("e@demo.example")))
    assert "deactivated" in _refusal(portal, **attempt)


def test_erp_down_is_unavailable_not_a_refusal(portal, admin):
    verified_subscription(portal, admin)
    _invite_and_confirm(portal, admin, "esmaster", "esmaster@demo.example")
    portal.simulator.go_down()
    try:
        with pytest.raises(ErpUnavailable):
            _sign_in(portal, login="demo/esmaster", password="Esmaster#2024", company_id="Demo_002", branch_id="001")
    finally:
        portal.simulator.come_up()
