"""Public clients (RFC 6749 §2.1, `token_endpoint_auth_method=none`): registered without a secret, they redeem
codes with PKCE S256 alone; `plain` and a missing challenge are refused, and nothing lets a confidential client
skip its secret. Registered from the service and from `cloudstore clients create --public`."""

from __future__ import annotations

import json

import pytest
import requests
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from click.testing import CliRunner
from sqlalchemy import select

from authserver.clients import service as clients
from authserver.clients.models import OAuthClient
from authserver.extensions import db
from cloudstore.clients import clients_group
from cloudstore.database import db_group

from .conftest import REDIRECT_URI, drive, exchange, query, start


@pytest.fixture
def public_client(make_client) -> clients.NewClient:
    return make_client(name="Time Attendance mobile", token_endpoint_auth_method="none")


def test_a_public_client_has_no_secret(app, public_client):
    assert public_client.client_secret is None and public_client.client.is_public
    assert db.session.get(OAuthClient, public_client.client.client_id).client_secret_digest is None
    with pytest.raises(clients.InvalidClientMetadataError, match="no secret"):
        clients.rotate_secret(session=db.session, client_id=public_client.client.client_id, cache=None)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"grant_types": ("client_credentials",)}, "allows only"),
        ({"grant_types": ("authorization_code", "client_credentials")}, "allows only"),
        ({"grant_types": ("refresh_token",)}, "needs the authorization_code grant"),
        ({"grant_types": ("authorization_code",), "redirect_uris": ()}, "needs at least one redirect URI"),
        ({"grant_types": ("authorization_code",), "is_internal": True}, "not for internal clients"),
    ],
)
def test_public_client_metadata_that_cannot_be_registered(app, kwargs, message):
    with pytest.raises(clients.InvalidClientMetadataError, match=message):
        clients.create_client(
            session=db.session,
            **{"name": "x", "token_endpoint_auth_method": "none", "redirect_uris": (REDIRECT_URI,), **kwargs},
        )
    assert db.session.scalars(select(OAuthClient)).first() is None


def test_a_public_client_signs_in_with_pkce_alone(live, browser, public_client):
    auth = start(live, public_client)
    outcome = drive(live, browser, auth.url)
    token = exchange(live, auth, outcome.location)
    assert token["id_token"] and token["access_token"] and token["refresh_token"]
    refreshed = requests.post(
        f"{live.base}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"], "client_id": auth.rp.client_id},
        timeout=10,
    )
    assert refreshed.status_code == 200, refreshed.text
    revoked = requests.post(
        f"{live.base}/oauth/revoke",
        data={"token": refreshed.json()["refresh_token"], "client_id": auth.rp.client_id},
        timeout=10,
    )
    assert revoked.status_code == 200
    introspected = requests.post(
        f"{live.base}/oauth/introspect",
        data={"token": token["access_token"], "client_id": auth.rp.client_id},
        timeout=10,
    )
    assert introspected.status_code == 401 and introspected.json()["error"] == "invalid_client"


def _code(live, browser, client, verifier: str) -> str:
    params = {
        "response_type": "code",
        "client_id": client.client.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid",
        "state": "st-1",
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
    }
    outcome = drive(live, browser, requests.Request("GET", f"{live.base}/oauth/authorize", params=params).prepare().url)
    return outcome.params["code"]


def _redeem(live, client_id: str, code: str, verifier: str | None, **extra: str) -> requests.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "client_id": client_id}
    if verifier is not None:
        data["code_verifier"] = verifier
    return requests.post(f"{live.base}/oauth/token", data={**data, **extra}, timeout=10)


@pytest.mark.parametrize(
    ("verifier", "extra", "status", "error"),
    [
        (None, {}, 400, "invalid_request"),  # no code_verifier: PKCE is the public client's only proof
        ("w" * 50, {}, 400, "invalid_grant"),  # not the verifier of the challenge
        ("right", {"client_secret": "made-up"}, 401, "invalid_client"),  # a public client presents no secret
    ],
)
def test_a_public_clients_code_needs_the_right_verifier(live, browser, public_client, verifier, extra, status, error):
    right = generate_token(48)
    code = _code(live, browser, public_client, right)
    answer = _redeem(live, public_client.client.client_id, code, right if verifier == "right" else verifier, **extra)
    assert answer.status_code == status and answer.json()["error"] == error
    assert answer.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "params",
    [
        {"code_challenge": None, "code_challenge_method": None},
        {"code_challenge_method": "plain", "code_challenge": "p" * 50},
    ],
)
def test_a_public_client_may_not_skip_pkce_or_use_plain(live, browser, public_client, params):
    base = {
        "response_type": "code",
        "client_id": public_client.client.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid",
        "state": "st-1",
        "code_challenge": create_s256_code_challenge("v" * 50),
        "code_challenge_method": "S256",
    }
    sent = {key: value for key, value in {**base, **params}.items() if value is not None}
    response = browser.get(f"{live.base}/oauth/authorize", params=sent, allow_redirects=False, timeout=10)
    got = query(response.headers["Location"])
    assert got["error"] == "invalid_request" and got["state"] == "st-1" and "code" not in got


def test_a_confidential_client_cannot_drop_its_secret(live, browser, oidc_client):
    verifier = generate_token(48)
    code = _code(live, browser, oidc_client, verifier)
    answer = _redeem(live, oidc_client.client.client_id, code, verifier)
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"


def test_discovery_advertises_none_for_the_token_endpoint_only(live):
    body = requests.get(f"{live.base}/.well-known/openid-configuration", timeout=10).json()
    assert "none" in body["token_endpoint_auth_methods_supported"]
    assert "none" not in body["introspection_endpoint_auth_methods_supported"]
    assert body["code_challenge_methods_supported"] == ["S256"]


def test_cli_registers_a_public_client(monkeypatch, database_url):
    monkeypatch.setenv("AUTHSERVER_DATABASE_URL", database_url)
    runner = CliRunner()
    assert runner.invoke(db_group, ["upgrade"], catch_exceptions=False).exit_code == 0
    created = runner.invoke(
        clients_group,
        ["create", "--name", "Mobile", "--public", "--redirect-uri", REDIRECT_URI, "--json"],
        catch_exceptions=False,
    )
    assert created.exit_code == 0, created.output
    credentials = json.loads(created.stdout)
    assert credentials["client_secret"] is None
    shown = json.loads(
        runner.invoke(clients_group, ["show", credentials["client_id"], "--json"], catch_exceptions=False).stdout
    )
    assert shown["token_endpoint_auth_method"] == "none" and shown["grant_types"] == ["authorization_code"]
    assert shown["is_internal"] is False
    refused = runner.invoke(clients_group, ["create", "--name", "Mobile", "--public"], catch_exceptions=False)
    assert refused.exit_code == 1 and "redirect URI" in refused.output and "Traceback" not in refused.output
