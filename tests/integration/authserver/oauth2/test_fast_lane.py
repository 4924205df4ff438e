"""The fast lane answers fully valid token and introspection requests exactly as the full endpoints would,
and passes everything else to them with the body intact. Which door answered is told by Flask's
`request_started` signal, which only the full app sends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient

from authserver import create_app
from authserver.clients import service as clients
from authserver.extensions import db
from tests.conftest import migrated_app

_VARYING = {"Date", "Content-Length", "X-Request-ID"}


def _post(test_client: FlaskClient, path: str, form: dict[str, str], client: clients.NewClient, **kwargs: Any) -> Any:
    return test_client.post(path, data=form, auth=(client.client.client_id, client.client_secret), **kwargs)


def _same_answers(fast: Any, full: Any) -> None:
    assert fast.status_code == full.status_code
    assert {k: v for k, v in fast.headers if k not in _VARYING} == {k: v for k, v in full.headers if k not in _VARYING}


def test_a_client_credentials_token_comes_from_the_fast_lane_as_the_full_endpoint_makes_it(
    test_client, oauth_client, doors
):
    form = {"grant_type": "client_credentials", "scope": "attendance:write"}
    fast = _post(test_client, "/oauth/token", form, oauth_client)
    assert doors == []
    full = _post(test_client, "/oauth/token", {**form, "note": "x"}, oauth_client)
    assert doors == ["/oauth/token"]
    _same_answers(fast, full)
    assert fast.json.keys() == full.json.keys() == {"access_token", "token_type", "expires_in", "scope"}
    claims = [jwt.decode(r.json["access_token"], options={"verify_signature": False}) for r in (fast, full)]
    varying = {"iat", "exp", "jti"}
    assert {k: v for k, v in claims[0].items() if k not in varying} == {
        k: v for k, v in claims[1].items() if k not in varying
    }
    assert jwt.get_unverified_header(fast.json["access_token"]) == jwt.get_unverified_header(full.json["access_token"])


def test_client_secret_post_and_a_resource_take_the_fast_lane_too(test_client, make_client, doors):
    client = make_client(token_endpoint_auth_method="client_secret_post", audience="resource_api")
    form = {
        "grant_type": "client_credentials",
        "client_id": client.client.client_id,
        "client_secret": client.client_secret,
        "resource": "resource_api",
    }
    response = test_client.post("/oauth/token", data=form)
    assert response.status_code == 200 and doors == []
    assert jwt.decode(response.json["access_token"], options={"verify_signature": False})["aud"] == "resource_api"


def test_an_introspection_answer_is_the_same_from_either_door(test_client, oauth_client, resource_server, doors):
    token = _post(test_client, "/oauth/token", {"grant_type": "client_credentials"}, oauth_client).json["access_token"]
    fast = _post(test_client, "/oauth/introspect", {"token": token}, resource_server)
    hinted = _post(
        test_client, "/oauth/introspect", {"token": token, "token_type_hint": "access_token"}, resource_server
    )
    assert doors == []
    full = _post(test_client, "/oauth/introspect", {"token": token, "note": "x"}, resource_server)
    assert doors == ["/oauth/introspect"]
    _same_answers(fast, full)
    assert fast.json == hinted.json == full.json and fast.json["active"] is True


@pytest.mark.parametrize(
    ("form", "auth", "status", "error"),
    [
        ({"grant_type": "client_credentials"}, "wrong secret", 401, "invalid_client"),
        ({"grant_type": "client_credentials", "scope": "openid"}, None, 400, "invalid_scope"),
        ({"grant_type": "client_credentials", "resource": "elsewhere"}, None, 400, "invalid_target"),
        ({"grant_type": "password", "username": "a", "password": "b"}, None, 400, "unsupported_grant_type"),
    ],
)
def test_what_the_fast_lane_does_not_answer_gets_the_full_endpoints_error(
    test_client, oauth_client, doors, form, auth, status, error
):
    credentials = (oauth_client.client.client_id, auth or oauth_client.client_secret)
    response = test_client.post("/oauth/token", data=form, auth=credentials)
    assert doors == ["/oauth/token"]
    assert response.status_code == status, response.json
    assert response.json["error"] == error
    assert response.headers["Cache-Control"] == "no-store"


def test_credentials_presented_twice_are_left_to_the_full_endpoint(test_client, oauth_client, doors):
    form = {"grant_type": "client_credentials", "client_secret": oauth_client.client_secret}
    response = _post(test_client, "/oauth/token", form, oauth_client)
    assert doors == ["/oauth/token"]
    assert response.status_code == 200  # Authlib takes the Basic credentials, as registered


def test_a_repeated_field_or_a_json_body_is_left_to_the_full_endpoint(test_client, oauth_client, doors):
    auth = (oauth_client.client.client_id, oauth_client.client_secret)
    repeated = test_client.post(
        "/oauth/token",
        data="grant_type=client_credentials&scope=a&scope=b",
        auth=auth,
        content_type="application/x-www-form-urlencoded",
    )
    as_json = test_client.post("/oauth/token", json={"grant_type": "client_credentials"}, auth=auth)
    assert doors == ["/oauth/token", "/oauth/token"]
    assert repeated.status_code == 400 and as_json.status_code == 400


def test_an_inactive_token_is_answered_by_the_full_endpoint(test_client, oauth_client, resource_server, doors):
    token = _post(test_client, "/oauth/token", {"grant_type": "client_credentials"}, oauth_client).json["access_token"]
    assert _post(test_client, "/oauth/revoke", {"token": token}, oauth_client).status_code == 200
    assert _post(test_client, "/oauth/introspect", {"token": token}, resource_server).json == {"active": False}
    assert _post(test_client, "/oauth/introspect", {"token": "garbage"}, resource_server).json == {"active": False}
    assert doors == ["/oauth/revoke", "/oauth/introspect", "/oauth/introspect"]


def test_a_client_may_not_introspect_someone_elses_token_through_either_door(
    test_client, oauth_client, make_client, doors
):
    token = _post(test_client, "/oauth/token", {"grant_type": "client_credentials"}, oauth_client).json["access_token"]
    stranger = make_client()
    assert _post(test_client, "/oauth/introspect", {"token": token}, stranger).json == {"active": False}
    assert doors == ["/oauth/introspect"]


def test_the_request_id_is_echoed_or_made(test_client, oauth_client):
    form = {"grant_type": "client_credentials"}
    echoed = _post(test_client, "/oauth/token", form, oauth_client, headers={"X-Request-ID": "abc-123"})
    made = _post(test_client, "/oauth/token", form, oauth_client, headers={"X-Request-ID": "bad id\x7f"})
    assert echoed.headers["X-Request-ID"] == "abc-123"
    assert len(made.headers["X-Request-ID"]) == 32


@pytest.fixture
def proxied_app(database_url: str) -> Iterator[Flask]:
    settings = {"ISSUER": "https://auth.example.test", "TRUSTED_PROXIES": 1, "TOKEN_RATE_LIMIT": "1/minute"}
    yield from migrated_app(create_app, database_url, **settings)


def test_behind_a_trusted_proxy_the_lane_limits_each_forwarded_address(proxied_app):
    client = clients.create_client(session=db.session, name="proxied", scope="attendance:write")
    test_client = proxied_app.test_client()
    form = {"grant_type": "client_credentials"}
    statuses = [
        _post(test_client, "/oauth/token", form, client, headers={"X-Forwarded-For": address}).status_code
        for address in ("203.0.113.1", "203.0.113.2", "203.0.113.1")
    ]
    assert statuses == [200, 200, 429]
