"""What the token endpoint's fast path leaves out, and what it keeps: no cookie session and no app-wide
limiter hooks on the OAuth endpoints, while rate limits, revocation and the pages' sessions, CSRF and
security headers stay as they were."""

from __future__ import annotations

import pytest

from authserver import create_app
from authserver.clients import service as clients
from authserver.extensions import db
from shared.config import ConfigError
from shared.db import upgrade_db

from .conftest import ISSUER, fetch_token


def test_oauth_endpoints_neither_read_nor_set_a_session_while_pages_still_do(app, oauth_client):
    test_client = app.test_client()
    page = test_client.get("/signin")
    assert page.status_code == 200
    assert "session=" in page.headers.get("Set-Cookie", ""), "a form page keeps its session (its CSRF token)"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]

    auth = (oauth_client.client.client_id, oauth_client.client_secret)
    response = test_client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=auth)
    assert response.status_code == 200, "a session cookie sent along is simply not read"
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"

    # A form post of a page is still refused without its CSRF token.
    refused = test_client.post("/signin", data={"email": "a@example.test", "password": "x"})
    assert refused.status_code == 400 and b"form has expired" in refused.data


def test_the_portal_limiter_has_no_app_wide_hooks_and_the_token_limit_counts_each_request_once(database_url):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "ISSUER": ISSUER, "TOKEN_RATE_LIMIT": "3/minute"})
    limiter = app.extensions["portal_limiter"]
    hooks = [*app.before_request_funcs.get(None, []), *app.teardown_request_funcs.get(None, [])]
    assert not [hook for hook in hooks if getattr(hook, "__self__", None) is limiter]
    with app.app_context():
        upgrade_db()
        client = clients.create_client(session=db.session, name="busy", scope="attendance:write")
        auth = (client.client.client_id, client.client_secret)
        test_client = app.test_client()
        fast = {"grant_type": "client_credentials"}
        full = {**fast, "note": "x"}  # a parameter the fast lane leaves to the full endpoint, which ignores it
        statuses = [test_client.post("/oauth/token", data=form, auth=auth).status_code for form in (fast, full, fast)]
        assert statuses == [200, 200, 200]
        for form in (fast, full):
            refused = test_client.post("/oauth/token", data=form, auth=auth)
            assert refused.status_code == 429 and refused.json["error"] == "temporarily_unavailable"
        db.session.remove()
        db.engine.dispose()


def test_a_token_introspected_before_is_inactive_once_revoked(live_server, oauth_client, resource_server, http):
    token = fetch_token(live_server, oauth_client)["access_token"]

    def introspect() -> dict:
        auth = (resource_server.client.client_id, resource_server.client_secret)
        return http.post(f"{live_server}/oauth/introspect", data={"token": token}, auth=auth).json()

    assert introspect()["active"] is True
    assert introspect()["active"] is True  # answered from the verified-token cache
    auth = (oauth_client.client.client_id, oauth_client.client_secret)
    assert http.post(f"{live_server}/oauth/revoke", data={"token": token}, auth=auth).status_code == 200
    assert introspect() == {"active": False}


def test_a_token_rate_limit_that_does_not_parse_stops_the_start(database_url):
    with pytest.raises(ConfigError, match="TOKEN_RATE_LIMIT"):
        create_app({"TESTING": True, "DATABASE_URL": database_url, "ISSUER": ISSUER, "TOKEN_RATE_LIMIT": "lots"})
