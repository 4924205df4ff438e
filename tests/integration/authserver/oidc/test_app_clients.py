"""Catalogue apps as OIDC clients: provisioned idempotently (service, local-stack secrets file, operator CLI), and
the ERP directory admitting to an app's client only an active, VERIFIED user holding a seat of an unexpired
licence of that app; anyone else is sent back to the app with `access_denied` and the reason."""

from __future__ import annotations

import json
import os
import stat
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from click.testing import CliRunner
from flask import Flask, g
from sqlalchemy import func, select

from authserver import create_app
from authserver.clients.models import OAuthClient
from authserver.extensions import db
from authserver.signin.users import EndUser
from authserver.store.catalogue.app_clients import APP_SCOPE, ensure_app_clients, served_by_resource_api
from authserver.store.catalogue.seed import seed_catalogue
from authserver.store.licences.seats import assign_seat
from authserver.store.models import App
from cloudstore.clients import clients_group
from cloudstore.internal_clients import ensure_app_clients as ensure_local_app_clients
from shared.db import upgrade_db
from shared.secrets import digest
from tests.integration.authserver.store.conftest import make_account, make_licence, make_subscription, make_user

from .conftest import query

PAGES = "https://apps.example.test"
SERVED = ["time-attendance", "app-insights", "surveys"]


@pytest.fixture
def app(database_url: str) -> Flask:  # the real ERP directory (`DirectoryAuthenticator`), not the test double
    flask_app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "ISSUER": "https://auth.example.test",
            "RESOURCE_API_URL": PAGES,
        }
    )

    @flask_app.before_request
    def _fresh_user() -> None:
        g.pop("_login_user", None)

    with flask_app.app_context():
        upgrade_db()
        seed_catalogue(session=db.session)
        yield flask_app
        db.session.remove()
        db.engine.dispose()


def _clients() -> int:
    return db.session.scalar(select(func.count()).select_from(OAuthClient))


def test_each_app_served_by_the_resource_api_gets_one_confidential_client(app):
    first = ensure_app_clients(session=db.session, resource_api_url=PAGES)
    assert list(first) == SERVED  # WorkLife Payroll has no Integration Endpoint, so no pages here
    for code, credentials in first.items():
        catalogue_app = db.session.execute(select(App).where(App.code == code)).scalar_one()
        row = db.session.get(OAuthClient, credentials.client_id)
        assert catalogue_app.oauth_client_id == row.client_id and row.app == code
        assert row.client_secret_digest == digest(credentials.client_secret)
        assert row.token_endpoint_auth_method == "client_secret_basic" and not row.is_internal
        assert row.grant_types == ["authorization_code", "refresh_token"] and row.scope == APP_SCOPE
        assert row.redirect_uris == [f"{PAGES}/apps/{code}/callback"]
        assert row.post_logout_redirect_uris == [f"{PAGES}/apps/{code}/"]

    held = {code: (c.client_id, c.client_secret) for code, c in first.items()}
    again = ensure_app_clients(session=db.session, resource_api_url=PAGES, held=held)
    assert again == first and _clients() == 3  # nothing new, nothing re-keyed

    lost = ensure_app_clients(session=db.session, resource_api_url="http://127.0.0.1:8101")
    assert _clients() == 3
    for code in SERVED:  # the same clients, new secrets (the old ones stop working), new addresses
        assert lost[code].client_id == first[code].client_id and lost[code].client_secret != first[code].client_secret
        row = db.session.get(OAuthClient, lost[code].client_id)
        assert row.client_secret_digest == digest(lost[code].client_secret)
        assert row.redirect_uris == [f"http://127.0.0.1:8101/apps/{code}/callback"]


def test_an_app_with_its_own_address_is_left_to_the_operator(app):
    insights = db.session.execute(select(App).where(App.code == "app-insights")).scalar_one()
    insights.web_address = "https://insights.example.com/"
    db.session.commit()
    assert not served_by_resource_api(insights)
    assert list(ensure_app_clients(session=db.session, resource_api_url=PAGES)) == ["time-attendance", "surveys"]


def test_the_local_stack_keeps_the_secrets_and_hands_them_to_the_resource_api(app, monkeypatch, database_url):
    monkeypatch.setenv("AUTHSERVER_DATABASE_URL", database_url)
    env = ensure_local_app_clients(PAGES)
    stored = json.loads(env["RESOURCE_API_APP_CLIENTS"])
    assert sorted(stored) == sorted(SERVED)
    path = Path(os.environ["CLOUDSTORE_VAR_DIR"]) / "secrets" / "app-clients.json"
    assert json.loads(path.read_text()) == stored
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_local_app_clients(PAGES) == env  # idempotent: same clients, same secrets
    db.session.expire_all()
    assert _clients() == 3


def test_an_operator_links_an_app_client_by_hand(app, monkeypatch, database_url):
    monkeypatch.setenv("AUTHSERVER_DATABASE_URL", database_url)
    args = ["create", "--name", "Insights", "--grant", "authorization_code", "--scope", "openid profile"]
    args += ["--redirect-uri", "https://insights.example.com/callback", "--app", "app-insights", "--json"]
    result = CliRunner().invoke(clients_group, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    client_id = json.loads(result.stdout)["client_id"]
    db.session.expire_all()
    insights = db.session.execute(select(App).where(App.code == "app-insights")).scalar_one()
    assert insights.oauth_client_id == client_id and db.session.get(OAuthClient, client_id).app == "app-insights"
    unknown = CliRunner().invoke(clients_group, [*args[:-3], "--app", "no-such-app"], catch_exceptions=False)
    assert unknown.exit_code == 1 and "no-such-app" in unknown.output and "Traceback" not in unknown.output


NOW = datetime.now(UTC)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("no-licence", "Your subscription has no licence for Entersoft Time Attendance."),
        ("no-seat", "You have no seat in Entersoft Time Attendance."),
        ("expired", "The licence of Entersoft Time Attendance expired on"),
        ("not-verified", "Your user is no longer active in this subscription."),
        ("inactive", "Your user is no longer active in this subscription."),
        ("seat", None),
    ],
)
def test_the_directory_admits_only_seat_holders_of_a_live_licence(app, case, reason):
    client = ensure_app_clients(session=db.session, resource_api_url=PAGES)["time-attendance"]
    subscription = make_subscription(make_account("ann@example.com"), "roservices")
    user = make_user(subscription, "esmaster")
    if case != "no-licence":
        licence = make_licence(subscription, "time-attendance", "Basic", ends_at=NOW + timedelta(days=30))
        if case != "no-seat":
            assign_seat(session=db.session, subscription=subscription, licence=licence, user_id=user.id, actor="test")
        if case == "expired":  # the seat stays, the licence ran out
            licence.ends_at = NOW - timedelta(days=1)
    if case == "not-verified":
        user.status = "INVITED"
    if case == "inactive":
        user.active = False
    db.session.commit()

    browser = app.test_client()
    with browser.session_transaction() as session:  # the user has just signed in with ERP credentials
        session["end_user"] = EndUser(
            sub=str(user.id),
            subscription_id="roservices",
            subscription_gid=str(subscription.gid),
            user_id="esmaster",
            email=user.email,
            name="Ann",
            bridge_id="Demo_002",
            branch_id="001",
            auth_time=int(time.time()),
        ).to_dict()
        session["end_user_signed_in_at"] = int(time.time())
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": f"{PAGES}/apps/time-attendance/callback",
        "scope": "openid profile",
        "state": "st-9",
        "code_challenge": create_s256_code_challenge("v" * 50),
        "code_challenge_method": "S256",
    }
    answer = browser.get("/oauth/authorize", query_string=params)
    if reason is None:  # a seat holder gets as far as the consent page
        assert answer.status_code == 200 and 'value="allow"' in answer.get_data(as_text=True)
        return
    assert answer.status_code == 302
    back = query(answer.headers["Location"])
    assert answer.headers["Location"].startswith(f"{PAGES}/apps/time-attendance/callback?")
    assert back["error"] == "access_denied" and back["state"] == "st-9" and "code" not in back
    assert back["error_description"].startswith(reason)
