"""Discovery advertises every endpoint, every advertised URL answers, and an RP configured from discovery
alone (Authlib's Flask client with `server_metadata_url`) signs a user in without any other setting."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
from authlib.integrations.flask_client import OAuth
from flask import Flask, session

from .conftest import drive

DOCUMENTS = ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"]
RP_BASE = "https://rp.example.test"


@pytest.mark.parametrize("path", DOCUMENTS)
def test_discovery_lists_every_endpoint_and_capability(live, path):
    body = requests.get(live.base + path, timeout=10).json()
    base = live.base
    assert body["issuer"] == base
    assert body["authorization_endpoint"] == f"{base}/oauth/authorize"
    assert body["token_endpoint"] == f"{base}/oauth/token"
    assert body["userinfo_endpoint"] == f"{base}/oauth/userinfo"
    assert body["end_session_endpoint"] == f"{base}/oauth/end-session"
    assert body["introspection_endpoint"] == f"{base}/oauth/introspect"
    assert body["revocation_endpoint"] == f"{base}/oauth/revoke"
    assert body["jwks_uri"] == f"{base}/.well-known/jwks.json"
    assert set(body["grant_types_supported"]) == {"authorization_code", "refresh_token", "client_credentials"}
    assert body["response_types_supported"] == ["code"]
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert body["authorization_response_iss_parameter_supported"] is True
    assert {"openid", "profile", "email", "offline_access"} <= set(body["scopes_supported"])
    assert not {"gateway:relay", "gateway:bridges"} & set(body["scopes_supported"])
    assert {"sub", "nonce", "at_hash", "auth_time", "email", "name", "subscription_id", "bridge_id"} <= set(
        body["claims_supported"]
    )
    assert body["id_token_signing_alg_values_supported"] == ["ES256", "RS256"]
    assert body["token_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post", "none"]
    assert body["introspection_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post"]
    assert body["subject_types_supported"] == ["public"] and body["request_uri_parameter_supported"] is False


@pytest.mark.parametrize("path", DOCUMENTS)
def test_every_advertised_url_answers(live, path):
    body = requests.get(live.base + path, timeout=10).json()
    urls = [value for key, value in body.items() if key.endswith(("_endpoint", "_uri"))]
    assert len(urls) == 7
    for url in urls:
        assert urlsplit(url).netloc == urlsplit(live.base).netloc
        response = requests.get(url, allow_redirects=False, timeout=10)
        assert response.status_code not in (404, 500), url


def _relying_party(live, client) -> Flask:
    """A separate app that knows only the discovery URL and its client credentials."""
    rp = Flask("rp")
    rp.secret_key = "rp-test-secret"
    oauth = OAuth(rp)
    oauth.register(
        "cloudstore",
        client_id=client.client.client_id,
        client_secret=client.client_secret,
        server_metadata_url=f"{live.base}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid profile email", "code_challenge_method": "S256"},
    )

    @rp.get("/login")
    def login():
        return oauth.cloudstore.authorize_redirect(f"{RP_BASE}/callback")

    @rp.get("/callback")
    def callback():
        token = oauth.cloudstore.authorize_access_token()
        session["user"] = dict(token["userinfo"])
        return {"id_token_claims": dict(token["userinfo"]), "userinfo": dict(oauth.cloudstore.userinfo(token=token))}

    return rp


def test_a_relying_party_configured_by_discovery_alone_signs_the_user_in(live, browser, make_client):
    client = make_client(name="Discovery RP", redirect_uris=(f"{RP_BASE}/callback",))
    rp = _relying_party(live, client).test_client()

    start = rp.get("/login", base_url=RP_BASE)
    assert start.status_code == 302
    outcome = drive(live, browser, start.headers["Location"])
    assert outcome.location.startswith(f"{RP_BASE}/callback?") and outcome.params["iss"] == live.base

    callback = rp.get(outcome.location.removeprefix(RP_BASE), base_url=RP_BASE)
    assert callback.status_code == 200, callback.get_data(as_text=True)
    body = callback.get_json()
    assert body["id_token_claims"]["sub"] == "su-1" and body["id_token_claims"]["iss"] == live.base
    assert body["id_token_claims"]["aud"] == client.client.client_id
    assert body["userinfo"]["email"] == "ann@example.com" and body["userinfo"]["sub"] == "su-1"
