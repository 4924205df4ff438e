"""Tenancy: an admin reaches only their own subscriptions. Every route that takes a tenant's id, built from the
app's url_map (so a new route is covered the day it appears), answers 404 to another admin, pages and API alike,
with the session and with a personal access token, and changes nothing."""

from __future__ import annotations

import re
import uuid
from typing import Any

from werkzeug.routing import Rule

from authserver.api.models import PersonalAccessToken
from authserver.audit.models import AuditEvent
from authserver.subscriptions.models import Bridge, Subscription
from authserver.users.models import SubscriptionUser
from tests.integration.authserver.portal.conftest import (
    DEMO_PASSWORD,
    create_subscription,
    events,
    page_text,
    rows,
    verify_form,
)

# Path arguments that name something a tenant owns.
TENANT_ARGS = {"subscription_id", "sub_id", "bridge_id", "user_id", "token_id"}
# Routes of the portal's areas that name no tenant's object, and why that is safe.
NOT_TENANT = {
    "subscriptions.index": "lists the caller's own subscriptions",
    "subscriptions.new": "creates a subscription for the caller",
    "subscriptions_assets.static": "a stylesheet",
    "users.invitation": "the invitee's link; the random token is the credential",
    "api_tokens_page.index": "lists and creates the caller's own tokens",
    "api_subscriptions.list_subscriptions": "the caller's own",
    "api_subscriptions.create_subscription": "for the caller",
    "api_tokens.me": "the caller",
    "api_tokens.list_tokens": "the caller's own",
    "api_tokens.create_token": "for the caller",
    "api-docs.openapi_json": "the public API description",
    "api-docs.openapi_swagger_ui": "the public API description",
}
# The areas where everything belongs to someone (the store's catalogue under /api/v1/store is everyone's).
AREAS = ("/subscriptions", "/api/v1/subscriptions", "/api/v1/tokens", "/api/v1/me", "/api/v1/openapi", "/api/v1/docs")
AREAS += ("/account", "/invitations")

BRIDGE_JSON = {"bridgeId": "Hack_1", "databaseId": "DEMO", "companyId": "002", "host": "127.0.0.1", "port": 1}
BODIES: dict[str, dict[str, Any]] = {
    "subscriptions.edit": {
        "company_name": "Hacked",
        "serial_number": "X1",
        "vat_number": "EL1",
        "password": "",
        "confirm_password": "",
    },
    "subscriptions.bridge_new": {
        "bridge_id": "Hack_1",
        "database_id": "DEMO",
        "company_id": "002",
        "host": "127.0.0.1",
        "port": "1",
        "scheme": "http",
    },
    "subscriptions.bridge_edit": {
        "database_id": "DEMO",
        "company_id": "002",
        "host": "localhost",
        "port": "2",
        "scheme": "http",
    },
    "subscriptions.verify_login": verify_form(subscription_id="victim", bridge_id="Victim_1"),
    "users.add": {"erp_user_id": "hacker", "email": "hacker@example.com", "active": "y"},
    "api_subscriptions.update_subscription": {"companyName": "Hacked"},
    "api_subscriptions.add_bridge": BRIDGE_JSON,
    "api_subscriptions.update_bridge": {"port": 2},
    "api_subscriptions.verify_login": {
        "subscriptionPassword": DEMO_PASSWORD,
        "userId": "esmaster",
        "password": "Esmaster#2024",
    },
    "api_users.invite_user": {"userId": "hacker", "email": "hacker@example.com"},
    "api_users.update_user": {"active": True},
}


def _portal_rules(app) -> list[Rule]:
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith(AREAS)]


def test_every_route_of_the_portal_is_tenant_scoped_or_known(app):
    unexplained = [
        f"{rule.endpoint} {rule.rule}"
        for rule in _portal_rules(app)
        if not (rule.arguments & TENANT_ARGS) and rule.endpoint not in NOT_TENANT
    ]
    assert unexplained == [], "new routes must take a tenant's id (and pass the 404 test) or be explained here"
    assert set(NOT_TENANT) <= {rule.endpoint for rule in app.url_map.iter_rules()}, "stale entries"


def _setup(portal, make_admin) -> dict[str, Any]:
    victim = make_admin()
    create_subscription(portal, victim, subscription_id="victim", bridge_id="Victim_1", password="Victim#Pass1")
    victim.client.post("/subscriptions/victim/users/new", data={"erp_user_id": "vuser", "email": "vuser@example.com"})
    victim.client.post("/account/api-tokens", data={"name": "victim's"})
    attacker = make_admin()
    create_subscription(portal, attacker, subscription_id="attacker", bridge_id="Attack_1")
    page = attacker.client.post("/account/api-tokens", data={"name": "attacker's"}).get_data(as_text=True)
    token = re.search(r'id="new-token">([^<]+)<', page).group(1)
    [user] = rows(portal.app, SubscriptionUser)
    [victim_token] = rows(portal.app, PersonalAccessToken, PersonalAccessToken.account_id == victim.id)
    return {
        "victim": victim,
        "attacker": attacker,
        "token": token,
        "ids": {
            "subscription_id": "victim",
            "sub_id": "victim",
            "bridge_id": "Victim_1",
            "user_id": str(user.id),
            "token_id": victim_token.id,
        },
    }


def _url(app, rule: Rule, ids: dict[str, Any]) -> str:
    values = {name: ids.get(name, 1) for name in rule.arguments}
    with app.test_request_context():
        adapter = app.url_map.bind("localhost")
        try:
            return adapter.build(rule.endpoint, values, method=next(iter(rule.methods - {"HEAD", "OPTIONS"})))
        except Exception:  # noqa: BLE001 - an argument of another kind (say, a uuid converter)
            values = {name: ids.get(name, uuid.UUID(int=1)) for name in rule.arguments}
            return adapter.build(rule.endpoint, values)


def _call(client, method: str, url: str, endpoint: str, headers: dict[str, str] | None = None):
    body = BODIES.get(endpoint, {})
    if url.startswith("/api/"):
        return client.open(url, method=method, json=body, headers=headers)
    return client.open(url, method=method, data=body, headers=headers)


def test_another_tenants_ids_answer_404_everywhere(portal, make_admin):
    app = portal.app
    world = _setup(portal, make_admin)
    attacker, bearer = world["attacker"], {"Authorization": f"Bearer {world['token']}"}
    token_client = app.test_client()
    own = {**world["ids"], "subscription_id": "attacker", "sub_id": "attacker"}
    checked, failures = [], []
    for rule in app.url_map.iter_rules():
        if not rule.arguments & TENANT_ARGS:
            continue
        variants = [world["ids"]]
        if rule.arguments & {"bridge_id", "user_id"}:
            variants.append(own)  # the attacker's own subscription, the victim's bridge or user
        for ids in variants:
            url = _url(app, rule, ids)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                callers = [("session", attacker.client, None)]
                if url.startswith("/api/"):
                    callers.append(("token", token_client, bearer))
                for how, client, headers in callers:
                    response = _call(client, method, url, rule.endpoint, headers)
                    checked.append(f"{method} {url} ({how})")
                    if response.status_code != 404:
                        failures.append(f"{method} {url} ({how}): {response.status_code} {page_text(response)[:120]}")
    assert failures == []
    assert len(checked) >= 40, checked
    _victim_untouched(portal, world)


def _victim_untouched(portal, world) -> None:
    [subscription] = rows(portal.app, Subscription, Subscription.subscription_id == "victim")
    assert subscription.company_name == "Demo S.A."
    [bridge] = rows(portal.app, Bridge, Bridge.subscription_pk == subscription.id)
    assert (bridge.bridge_id, bridge.host, bridge.challenge_code_encrypted) == ("Victim_1", "127.0.0.1", None)
    [user] = rows(portal.app, SubscriptionUser, SubscriptionUser.subscription_pk == subscription.id)
    assert (user.erp_user_id, user.status, user.active) == ("vuser", "INVITED", False)
    [token] = rows(portal.app, PersonalAccessToken, PersonalAccessToken.account_id == world["victim"].id)
    assert token.revoked_at is None
    on_victim = rows(portal.app, AuditEvent, AuditEvent.subscription_id == subscription.id)
    assert {event.actor for event in on_victim} == {f"account:{world['victim'].id}"}
    assert len(portal.inbox.to("vuser@example.com")) == 1, "no invitation was resent"
    assert events(portal.app, "user.invited")[-1].details["user"] == "vuser"


def test_the_owner_reaches_the_same_routes(portal, make_admin):
    """The 404s above are about ownership: the victim's own session gets the pages."""
    world = _setup(portal, make_admin)
    victim = world["victim"]
    for url in (
        "/subscriptions/victim",
        "/subscriptions/VICTIM/users",
        "/subscriptions/victim/verify?bridge=victim_1",
        "/subscriptions/victim/bridges/Victim_1/edit",
        "/subscriptions/victim/audit",
        "/api/v1/subscriptions/victim",
        f"/api/v1/subscriptions/victim/users/{world['ids']['user_id']}",
    ):
        assert victim.client.get(url).status_code == 200, url
