"""The JSON API (personal access tokens, problem details) and what another tenant can never do."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import select

from authserver.accounts.models import AdminAccount
from authserver.api import tokens as pats
from authserver.endpoint_tokens.consent import endpoint_token_details
from authserver.endpoint_tokens.flow import PORTAL_CLIENT_ID
from authserver.extensions import db
from authserver.oauth2.runtime import find_client
from authserver.signin.users import EndUser, SignInRefused

from .conftest import ESMASTER, _path, add_token, drive, reveal, tokens

BASE = "/api/v1/subscriptions/demo/endpoint-tokens"


@pytest.fixture(scope="module")
def pat(world) -> dict[str, str]:
    """Bearer headers for Ann (owner of `demo`) and Bob (another tenant)."""
    headers = {}
    with world.app.app_context():
        for name, email in (("ann", "ann@example.com"), ("bob", "bob@example.com")):
            account = db.session.execute(select(AdminAccount).where(AdminAccount.email == email)).scalar_one()
            new = pats.create_token(session=db.session, account=account, name="tests")
            db.session.commit()
            headers[name] = f"Bearer {new.value}"
        db.session.remove()
    return headers


def _api(world, pat, method: str, path: str, who: str = "ann", **kwargs):
    return requests.request(method, world.auth_url + path, headers={"Authorization": pat[who]}, timeout=15, **kwargs)


def test_api_create_then_allow_in_a_browser_then_reveal_rotate_revoke(ebs, pat):
    assert _api(ebs, pat, "GET", BASE).json() == []
    created = _api(ebs, pat, "POST", BASE, json={"title": "CRM", "bridgeId": "Demo_002", "endpointType": "surveys"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["requestId"].startswith("etr_")
    assert body["authorizeUrl"].startswith(f"{ebs.auth_url}/oauth/authorize?")
    assert "code_challenge_method=S256" in body["authorizeUrl"]
    browser = ebs.admin.client
    outcome = drive(ebs, browser, browser.get(_path(body["authorizeUrl"])), credentials=ESMASTER)
    assert "created and registered in EBS" in outcome.text
    [listed] = _api(ebs, pat, "GET", BASE).json()
    assert (listed["title"], listed["endpointType"], listed["authorizedBy"]) == ("CRM", "surveys", "esmaster")
    assert "apiKey" not in listed
    key = _api(ebs, pat, "POST", f"{BASE}/{listed['id']}/reveal").json()["apiKey"]
    assert key.startswith("cs_sv_")
    rotated = _api(ebs, pat, "POST", f"{BASE}/{listed['id']}/rotate")
    assert rotated.status_code == 200 and rotated.json()["previousKeyValidUntil"]
    assert _api(ebs, pat, "POST", f"{BASE}/{listed['id']}/reveal").json()["apiKey"] != key
    revoked = _api(ebs, pat, "DELETE", f"{BASE}/{listed['id']}")
    assert revoked.json() == {"revoked": True, "warning": None}
    assert _api(ebs, pat, "GET", BASE).json() == []
    assert _api(ebs, pat, "DELETE", f"{BASE}/{listed['id']}").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "T", "bridgeId": "Demo_002", "endpointType": "nope"}, "endpointType"),
        ({"title": "T", "bridgeId": "Nope_001", "endpointType": "surveys"}, "bridgeId"),
        ({"title": "", "bridgeId": "Demo_002", "endpointType": "surveys"}, "title"),
        ({"title": "T", "endpointType": "surveys"}, "bridgeId"),
        ({"title": "T", "bridgeId": "Demo_002", "endpointType": "surveys", "extra": 1}, "extra"),
    ],
)
def test_api_create_refuses_bad_input_with_problem_details(ebs, pat, body, field):
    response = _api(ebs, pat, "POST", BASE, json=body)
    assert response.status_code == 422
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert field in response.json()["errors"]


def test_api_authorize_url_completes_in_a_browser_not_signed_in_to_the_portal(ebs, pat):
    body = _api(ebs, pat, "POST", BASE, json={"title": "EBS", "bridgeId": "Demo_002", "endpointType": "app-insights"})
    browser = ebs.app.test_client()
    outcome = drive(ebs, browser, browser.get(_path(body.json()["authorizeUrl"])), credentials=ESMASTER)
    assert outcome.response.status_code == 200
    assert "created and registered in EBS" in outcome.text
    assert "cs_ai_" not in outcome.response.get_data(as_text=True)
    assert [t.endpoint_type for t in tokens(ebs)] == ["app-insights"]


def test_another_tenant_sees_and_changes_nothing(ebs, pat):
    add_token(ebs, "surveys", credentials=ESMASTER)
    [token] = tokens(ebs)
    bob = ebs.other.client
    assert bob.get(ebs.tab("surveys")).status_code == 404
    for action in ("reveal", "rotate", "revoke"):
        assert bob.post(f"{ebs.tab('surveys')}/{token.id}/{action}").status_code == 404
    assert _api(ebs, pat, "GET", BASE, who="bob").status_code == 404
    assert _api(ebs, pat, "POST", f"{BASE}/{token.id}/reveal", who="bob").status_code == 404
    assert _api(ebs, pat, "DELETE", f"{BASE}/{token.id}", who="bob").status_code == 404
    assert reveal(ebs, token)  # still there, still Ann's


def test_another_admin_cannot_finish_anothers_request(ebs):
    response = ebs.admin.client.post(
        ebs.tab("surveys"), data={"title": "CRM", "bridge_id": "Demo_002", "endpoint_type": "surveys"}
    )
    authorize = response.headers["Location"]
    bob = ebs.other.client
    outcome = drive(ebs, bob, bob.get(_path(authorize)), credentials=ESMASTER)
    assert outcome.response.status_code == 400
    assert "does not work" in outcome.text
    assert tokens(ebs) == []


def test_an_erp_user_of_another_subscription_or_bridge_is_refused(ebs):
    response = ebs.admin.client.post(
        ebs.tab("surveys"), data={"title": "CRM", "bridge_id": "Demo_002", "endpoint_type": "surveys"}
    )
    state = dict(pair.split("=", 1) for pair in response.headers["Location"].split("?", 1)[1].split("&"))["state"]
    base = {
        "sub": "x",
        "subscription_gid": "g",
        "user_id": "esmaster",
        "email": None,
        "name": None,
        "branch_id": "001",
        "administrator": True,
        "payroll": True,
    }
    with ebs.app.test_request_context():
        client = find_client(PORTAL_CLIENT_ID)
        for user, words in (
            (EndUser(subscription_id="other", bridge_id="Demo_002", **base), "for subscription demo"),
            (EndUser(subscription_id="demo", bridge_id="Other_001", **base), "for Company ID Demo_002"),
        ):
            with pytest.raises(SignInRefused, match=words):
                endpoint_token_details(client, {"state": state}, user)
        with pytest.raises(SignInRefused, match="unknown or has expired"):
            endpoint_token_details(
                client, {"state": "forged"}, EndUser(subscription_id="demo", bridge_id="Demo_002", **base)
            )
