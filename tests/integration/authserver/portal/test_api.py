"""The JSON API under /api/v1: the same services as the pages, with a personal access token or the session + CSRF."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from authserver.api.models import PersonalAccessToken
from authserver.extensions import db
from authserver.subscriptions.models import Bridge, Subscription
from authserver.users.models import SubscriptionUser
from tests.integration.authserver.portal.conftest import (
    DEMO_PASSWORD,
    EGRESS,
    events,
    free_port,
    invitation_path,
    page_text,
    rows,
)

PROBLEM = "application/problem+json"


def _body(portal, **overrides):
    body = {
        "companyName": "Demo S.A.",
        "subscriptionId": "demo",
        "serialNumber": "ES-100200",
        "vatNumber": "EL123456789",
        "password": DEMO_PASSWORD,
        "databaseId": "DEMO",
        "companyId": "002",
        "host": "127.0.0.1",
        "port": portal.simulator.port,
        "scheme": "http",
        "bridgeId": "Demo_002",
    }
    body.update(overrides)
    return body


def _token(admin, name: str = "script") -> str:
    """A personal access token made on the API tokens page."""
    page = admin.client.post("/account/api-tokens", data={"name": name})
    match = re.search(r'id="new-token">(cspat_[^<]+)<', page.get_data(as_text=True))
    assert match, page_text(page)
    return match.group(1)


@pytest.fixture
def bearer(admin):
    return {"Authorization": f"Bearer {_token(admin)}"}


@pytest.fixture
def api(portal):
    """A client without cookies: every call carries its own credentials."""
    return portal.app.test_client()


def test_openapi_document_and_docs_page(portal, api):
    spec = api.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    document = spec.get_json()
    assert document["info"]["title"] == "Cloud Store portal API"
    for path in (
        "/api/v1/subscriptions",
        "/api/v1/subscriptions/{subscription_id}/bridges/{bridge_id}/verify/login",
        "/api/v1/subscriptions/{subscription_id}/bridges/{bridge_id}/verify/challenge",
        "/api/v1/subscriptions/{subscription_id}/users/{user_id}/invitation",
        "/api/v1/subscriptions/{subscription_id}/audit",
        "/api/v1/tokens",
    ):
        assert path in document["paths"], path
    assert set(document["components"]["securitySchemes"]) == {"personalAccessToken", "portalSession"}
    assert not any(path.startswith("/subscriptions") for path in document["paths"]), "pages are not in the API"
    docs = api.get("/api/v1/docs")
    assert docs.status_code == 200 and "swagger-ui" in docs.get_data(as_text=True)
    assert "'unsafe-inline'" in docs.headers["Content-Security-Policy"]
    assert "https://" not in docs.get_data(as_text=True), "no external CDN"
    assert "'unsafe-inline'" not in api.get("/signin").headers["Content-Security-Policy"]


def test_calls_without_valid_credentials(portal, api, admin):
    anonymous = api.get("/api/v1/subscriptions")
    assert anonymous.status_code == 401 and anonymous.mimetype == PROBLEM
    assert anonymous.headers["WWW-Authenticate"] == 'Bearer realm="cloudstore-portal-api"'
    for header in ("Bearer cspat_unknown", "Bearer nonsense", "Basic abc", "Bearer "):
        refused = api.get("/api/v1/subscriptions", headers={"Authorization": header})
        assert refused.status_code == 401, header
        assert 'error="' in refused.headers["WWW-Authenticate"]
    assert api.post("/api/v1/subscriptions", json=_body(portal)).status_code == 401
    assert rows(portal.app, Subscription) == []


def test_tokens_are_shown_once_and_stored_as_digests(portal, admin, api):
    value = _token(admin, "deploy")
    [row] = rows(portal.app, PersonalAccessToken)
    assert row.name == "deploy" and value not in row.token_digest and row.prefix == value[:10]
    listing = admin.client.get("/account/api-tokens").get_data(as_text=True)
    assert value not in listing and row.prefix in listing and "never" in listing
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {value}"})
    assert me.get_json() == {"email": admin.email, "csrfToken": None}
    assert rows(portal.app, PersonalAccessToken)[0].last_used_at is not None
    assert admin.client.post(f"/account/api-tokens/{row.id}/revoke").status_code == 302
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {value}"}).status_code == 401
    assert [e.event for e in events(portal.app, "pat.created", "pat.revoked")] == ["pat.created", "pat.revoked"]


def test_tokens_through_the_api(portal, admin, api, bearer):
    made = admin.client.post("/api/v1/tokens", json={"name": "second"})
    assert made.status_code == 201 and made.get_json()["token"].startswith("cspat_")
    expires = datetime.fromisoformat(made.get_json()["expiresAt"].replace("Z", "+00:00"))
    assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30), "30 days unless chosen"
    refused = api.post("/api/v1/tokens", json={"name": "third"}, headers=bearer)
    assert refused.status_code == 403, "a token cannot mint tokens"
    listed = api.get("/api/v1/tokens", headers=bearer).get_json()
    assert [t["name"] for t in listed] == ["second", "script"] and all("token" not in t for t in listed)
    second = {"Authorization": f"Bearer {made.get_json()['token']}"}
    assert api.delete(f"/api/v1/tokens/{made.get_json()['id']}", headers=bearer).status_code == 204
    assert api.get("/api/v1/me", headers=second).status_code == 401


def _lifetime(row: PersonalAccessToken) -> timedelta | None:
    if row.expires_at is None:
        return None
    return row.expires_at.replace(tzinfo=UTC) - row.created_at.replace(tzinfo=UTC)


def test_tokens_expire_after_the_chosen_lifetime(portal, admin, api):
    default = admin.client.post("/account/api-tokens", data={"name": "default"})
    assert "Expires" in page_text(default)
    admin.client.post("/account/api-tokens", data={"name": "weekly", "expires": "7"})
    admin.client.post("/account/api-tokens", data={"name": "forever", "expires": "never"})
    wrong = admin.client.post("/account/api-tokens", data={"name": "odd", "expires": "12"})
    assert wrong.status_code == 200 and "Not a valid choice" in page_text(wrong)
    lifetimes = {row.name: _lifetime(row) for row in rows(portal.app, PersonalAccessToken)}
    assert lifetimes == {"default": timedelta(days=30), "weekly": timedelta(days=7), "forever": None}


def test_an_expired_token_is_refused_and_shown_as_expired(portal, admin, api):
    value = _token(admin, "old")
    headers = {"Authorization": f"Bearer {value}"}
    assert api.get("/api/v1/me", headers=headers).status_code == 200
    with portal.app.app_context():
        past = datetime.now(UTC) - timedelta(seconds=1)
        db.session.execute(update(PersonalAccessToken).values(expires_at=past))
        db.session.commit()
        db.session.remove()
    refused = api.get("/api/v1/me", headers=headers)
    assert refused.status_code == 401 and 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    listing = page_text(admin.client.get("/account/api-tokens"))
    assert "Expired" in listing and "Revoke" not in listing
    [listed] = admin.client.get("/api/v1/tokens").get_json()
    assert listed["active"] is False and listed["expiresAt"] is not None and listed["revokedAt"] is None


@pytest.mark.parametrize(
    ("lifetime", "status", "days"),
    [(None, 201, None), (90, 201, 90), (12, 422, None), ("30", 422, None), (True, 422, None)],
)
def test_token_lifetime_through_the_api(portal, admin, lifetime, status, days):
    made = admin.client.post("/api/v1/tokens", json={"name": "scripted", "expiresInDays": lifetime})
    assert made.status_code == status, made.get_json()
    if status == 422:
        assert "expiresInDays" in made.get_json()["errors"]
        assert rows(portal.app, PersonalAccessToken) == []
        return
    [row] = rows(portal.app, PersonalAccessToken)
    assert _lifetime(row) == (None if days is None else timedelta(days=days))
    assert (made.get_json()["expiresAt"] is None) == (days is None)


def test_subscription_lifecycle_with_a_token(portal, api, bearer):
    created = api.post("/api/v1/subscriptions", json=_body(portal), headers=bearer)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert created.headers["Location"] == "/api/v1/subscriptions/demo"
    assert body["subscriptionId"] == "demo" and body["verified"] is False and "password" not in body
    assert [b["bridgeId"] for b in body["bridges"]] == ["Demo_002"]
    assert body["subscriptionGid"] == str(rows(portal.app, Subscription)[0].gid)
    assert api.get("/api/v1/subscriptions", headers=bearer).get_json()[0]["subscriptionId"] == "demo"
    assert api.get("/api/v1/subscriptions/DEMO", headers=bearer).status_code == 200
    patched = api.patch("/api/v1/subscriptions/demo", json={"companyName": "Demo Corp"}, headers=bearer)
    assert patched.get_json()["companyName"] == "Demo Corp"
    duplicate = api.post("/api/v1/subscriptions", json=_body(portal, subscriptionId="Demo"), headers=bearer)
    assert duplicate.status_code == 409 and duplicate.mimetype == PROBLEM
    assert duplicate.get_json()["errors"] == {"subscriptionId": ["This Subscription ID is taken. Choose another one."]}

    bridge = {"bridgeId": "Demo_003", "databaseId": "DEMO", "companyId": "003", "host": "127.0.0.1", "port": 8443}
    added = api.post("/api/v1/subscriptions/demo/bridges", json=bridge, headers=bearer)
    assert added.status_code == 201 and added.get_json()["scheme"] == "https"
    again = api.post("/api/v1/subscriptions/demo/bridges", json={**bridge, "bridgeId": "DEMO_003"}, headers=bearer)
    assert again.status_code == 409 and "bridgeId" in again.get_json()["errors"]
    moved = api.patch("/api/v1/subscriptions/demo/bridges/demo_003", json={"port": 9443}, headers=bearer)
    assert moved.get_json()["port"] == 9443 and moved.get_json()["verified"] is False
    assert api.delete("/api/v1/subscriptions/demo/bridges/Demo_003", headers=bearer).status_code == 204
    assert [b["bridgeId"] for b in api.get("/api/v1/subscriptions/demo/bridges", headers=bearer).get_json()] == [
        "Demo_002"
    ]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"subscriptionId": "a b"}, "subscriptionId", "Use 2 to 50 letters, digits, '_' or '-'."),
        ({"subscriptionId": None}, "subscriptionId", "Field may not be null."),
        ({"companyName": ""}, "companyName", "Enter the Company Name."),
        ({"vatNumber": "#"}, "vatNumber", "Use 2 to 30 letters, digits"),
        ({"password": "weakpass"}, "password", "Must contain an uppercase letter."),
        ({"databaseId": "D B"}, "databaseId", "may not contain spaces"),
        ({"host": "http://x"}, "host", "Enter the public IP address or the domain name"),
        ({"port": "8443"}, "port", "Not a valid integer."),
        ({"port": 70000}, "port", "Enter a port between 1 and 65535."),
        ({"scheme": "ftp"}, "scheme", "Use https or http."),
        ({"extra": 1}, "extra", "Unknown field."),
    ],
)
def test_api_validation_answers_422_by_field(portal, api, bearer, overrides, field, message):
    response = api.post("/api/v1/subscriptions", json=_body(portal, **overrides), headers=bearer)
    assert response.status_code == 422 and response.mimetype == PROBLEM
    errors = response.get_json()["errors"]
    assert any(message in text for text in errors[field]), errors
    assert rows(portal.app, Subscription) == []


def test_api_guard_refusal_is_a_field_problem(portal, api, bearer):
    refused = api.post("/api/v1/subscriptions", json=_body(portal, host="10.0.0.8"), headers=bearer)
    assert refused.status_code == 422
    problem = refused.get_json()
    assert problem["type"] == "https://cloudstore.dev/problems/destination-refused"
    assert "not a public internet address" in problem["errors"]["host"][0]
    assert rows(portal.app, Subscription) == [] and rows(portal.app, Bridge) == []


def test_verify_connection_through_the_api(portal, api, bearer):
    api.post("/api/v1/subscriptions", json=_body(portal), headers=bearer)
    login = "/api/v1/subscriptions/demo/bridges/Demo_002/verify/login"
    credentials = {"subscriptionPassword": DEMO_PASSWORD, "userId": "esmaster", "password": "Esmaster#2024"}
    backoffice = {**credentials, "userId": "backoffice", "password": "Backoffice#2024"}
    rejected = api.post(login, json=backoffice, headers=bearer)
    assert rejected.status_code == 422
    problem = rejected.get_json()
    assert problem["type"].endswith("/ebs-rejected") and problem["messageId"] == "login-webapi-not-allowed"
    assert problem["userMessage"] and "WebApi" in problem["hint"]
    wrong = api.post(login, json={**credentials, "subscriptionPassword": "Nope#1234"}, headers=bearer)
    assert wrong.status_code == 422 and "subscriptionPassword" in wrong.get_json()["errors"]
    challenge = api.post(login, json=credentials, headers=bearer)
    assert challenge.status_code == 200
    data = challenge.get_json()
    assert data["challengeFile"] == "CSWebAssets/demo-Demo_002.txt" and re.fullmatch(r"\d{7}", data["code"])
    stage_two = "/api/v1/subscriptions/demo/bridges/Demo_002/verify/challenge"
    missing = api.post(stage_two, headers=bearer)
    assert missing.status_code == 422 and missing.get_json()["type"].endswith("/challenge-file-missing")
    portal.write_asset("demo-Demo_002.txt", data["code"])
    verified = api.post(stage_two, headers=bearer)
    assert verified.status_code == 200 and verified.get_json()["verified"] is True
    assert verified.get_json()["verifiedBy"] == "esmaster" and verified.get_json()["verifiedAt"]
    assert api.get("/api/v1/subscriptions/demo", headers=bearer).get_json()["verified"] is True
    again = api.post(stage_two, headers=bearer)
    assert again.status_code == 409, "the code was used"


def test_unreachable_server_through_the_api(portal, api, bearer):
    api.post("/api/v1/subscriptions", json=_body(portal, port=free_port()), headers=bearer)
    login = "/api/v1/subscriptions/demo/bridges/Demo_002/verify/login"
    credentials = {"subscriptionPassword": DEMO_PASSWORD, "userId": "esmaster", "password": "Esmaster#2024"}
    problem = api.post(login, json=credentials, headers=bearer)
    assert problem.status_code == 502
    assert problem.get_json()["egressAddresses"] == EGRESS
    assert problem.get_json()["type"].endswith("/upstream-unreachable")


def test_users_through_the_api(portal, api, bearer):
    api.post("/api/v1/subscriptions", json=_body(portal), headers=bearer)
    users = "/api/v1/subscriptions/demo/users"
    invited = api.post(users, json={"userId": "payroll", "email": "payroll@demo.example"}, headers=bearer)
    assert invited.status_code == 201, invited.get_json()
    user = invited.get_json()
    assert user["status"] == "INVITED" and user["active"] is False and user["invitationSent"] is True
    assert user["login"] == "demo/payroll"
    old = invitation_path(portal.inbox.wait_to("payroll@demo.example"))
    duplicate = api.post(users, json={"userId": "PAYROLL", "email": "x@demo.example"}, headers=bearer)
    assert duplicate.status_code == 409 and "userId" in duplicate.get_json()["errors"]
    bad = api.post(users, json={"userId": "pay roll", "email": "nope"}, headers=bearer)
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"userId", "email"}
    early = api.patch(f"{users}/{user['id']}", json={"active": True}, headers=bearer)
    assert early.status_code == 409 and "Verify a connection" in early.get_json()["detail"]
    resent = api.post(f"{users}/{user['id']}/invitation", headers=bearer)
    assert resent.status_code == 200 and resent.get_json()["invitationSent"] is True
    new = invitation_path(portal.inbox.wait_to("payroll@demo.example", count=2))
    assert portal.app.test_client().post(old).status_code == 400
    assert portal.app.test_client().post(new).status_code == 200
    assert api.get(f"{users}/{user['id']}", headers=bearer).get_json()["status"] == "VERIFIED"
    with portal.app.app_context():  # a verified connection, then activation is allowed
        from authserver.extensions import db

        bridge = db.session.query(Bridge).one()
        from datetime import UTC, datetime

        bridge.verified_at = datetime.now(UTC)
        db.session.commit()
        db.session.remove()
    active = api.patch(f"{users}/{user['id']}", json={"active": True}, headers=bearer)
    assert active.status_code == 200 and active.get_json()["active"] is True
    assert [u["userId"] for u in api.get(users, headers=bearer).get_json()] == ["payroll"]
    assert rows(portal.app, SubscriptionUser)[0].active is True


def test_audit_log_through_the_api(portal, api, bearer):
    api.post("/api/v1/subscriptions", json=_body(portal), headers=bearer)
    api.patch("/api/v1/subscriptions/demo", json={"vatNumber": "EL1"}, headers=bearer)
    page = api.get("/api/v1/subscriptions/demo/audit?perPage=2", headers=bearer).get_json()
    assert page["total"] >= 3 and page["pages"] >= 2 and len(page["events"]) == 2
    assert page["events"][0]["event"] == "subscription.updated"
    assert api.get("/api/v1/subscriptions/demo/audit?perPage=500", headers=bearer).status_code == 422


def test_the_session_needs_the_csrf_header(portal, admin, bearer, api):
    portal.app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = admin.client.post("/api/v1/subscriptions", json=_body(portal))
        assert refused.status_code == 403 and refused.mimetype == PROBLEM
        assert "X-CSRFToken" in refused.get_json()["detail"]
        token = admin.client.get("/api/v1/me").get_json()["csrfToken"]
        assert token
        accepted = admin.client.post("/api/v1/subscriptions", json=_body(portal), headers={"X-CSRFToken": token})
        assert accepted.status_code == 201, accepted.get_json()
        patched = api.patch("/api/v1/subscriptions/demo", json={"companyName": "By token"}, headers=bearer)
        assert patched.status_code == 200, "a token needs no CSRF token"
    finally:
        portal.app.config["WTF_CSRF_ENABLED"] = False
