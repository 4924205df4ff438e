"""The token endpoint over real HTTP, driven by an independent OAuth client (Authlib's requests client)."""

from __future__ import annotations

import base64
import time

import jwt
import pytest
import requests

from authserver import create_app
from authserver.clients import service as clients
from authserver.extensions import db
from authserver.keys.service import rotate_keys
from authserver.oauth2.runtime import client_cache
from shared.db import upgrade_db
from shared.keys import JWKSCache
from shared.service import encryptor

from .conftest import ISSUER, fetch_token


def _header(token: str) -> dict:
    return jwt.get_unverified_header(token)


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_client_credentials_token_is_an_rfc9068_jwt(live_server, make_client, method):
    client = make_client(token_endpoint_auth_method=method)
    token = fetch_token(live_server, client, method)

    assert token["token_type"].lower() == "bearer" and token["expires_in"] == 300
    assert token["scope"] == "attendance:write surveys:read"
    assert "refresh_token" not in token
    header = _header(token["access_token"])
    assert header["typ"] == "at+jwt" and header["alg"] == "ES256" and header["kid"]

    with requests.Session() as http:
        cache = JWKSCache(lambda: http.get(f"{live_server}/.well-known/jwks.json").json())
        claims = cache.verify(token["access_token"], audience="resource_api", issuer=ISSUER, typ="at+jwt")
    client_id = client.client.client_id
    assert claims["sub"] == client_id and claims["client_id"] == client_id
    assert claims["aud"] == "resource_api" and claims["iss"] == ISSUER
    assert claims["scope"] == "attendance:write surveys:read"
    assert claims["exp"] - claims["iat"] == 300 and claims["jti"]
    assert not {"subscription_id", "subscription_gid", "bridge_id", "app"} & claims.keys()

    # PyJWT on its own, fetching the published key set itself.
    signing_key = jwt.PyJWKClient(f"{live_server}/.well-known/jwks.json").get_signing_key_from_jwt(
        token["access_token"]
    )
    decoded = jwt.decode(
        token["access_token"], signing_key, algorithms=["ES256"], audience="resource_api", issuer=ISSUER
    )
    assert decoded == claims


def test_token_response_is_not_cacheable(live_server, oauth_client, http):
    response = http.post(
        f"{live_server}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(oauth_client.client.client_id, oauth_client.client_secret),
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store" and response.headers["Pragma"] == "no-cache"
    assert response.headers["Content-Type"] == "application/json"


def test_narrower_scope_and_requested_audience(live_server, make_client):
    client = make_client(scope="attendance:write surveys:read", audience="resource_api bridge_gateway")
    token = fetch_token(live_server, client, scope="surveys:read", resource="bridge_gateway")
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert token["scope"] == claims["scope"] == "surveys:read"
    assert claims["aud"] == "bridge_gateway"


def test_client_without_audience_gets_tokens_for_the_issuer(live_server, make_client):
    token = fetch_token(live_server, make_client(audience=None))
    assert jwt.decode(token["access_token"], options={"verify_signature": False})["aud"] == ISSUER


def test_tenant_claims_come_from_the_client(live_server, make_client):
    client = make_client(subscription_id="roservices", subscription_gid="8d1e", bridge_id="Demo_002", app="worklife")
    claims = jwt.decode(fetch_token(live_server, client)["access_token"], options={"verify_signature": False})
    assert (claims["subscription_id"], claims["subscription_gid"], claims["bridge_id"], claims["app"]) == (
        "roservices",
        "8d1e",
        "Demo_002",
        "worklife",
    )


def test_rs256_client_gets_rs256_tokens(live_server, make_client):
    token = fetch_token(live_server, make_client(alg="RS256"))["access_token"]
    assert _header(token)["alg"] == "RS256"
    with requests.Session() as http:
        cache = JWKSCache(lambda: http.get(f"{live_server}/.well-known/jwks.json").json())
        assert cache.verify(token, audience="resource_api", issuer=ISSUER, typ="at+jwt")


def test_key_rotation_new_tokens_use_new_key_and_old_tokens_still_verify(app, live_server, oauth_client, http):
    old = fetch_token(live_server, oauth_client)["access_token"]
    (new_kid,) = rotate_keys(session=db.session, encryptor=encryptor(), algs=("ES256",))
    new = fetch_token(live_server, oauth_client)["access_token"]
    assert _header(new)["kid"] == new_kid != _header(old)["kid"]

    cache = JWKSCache(lambda: http.get(f"{live_server}/.well-known/jwks.json").json())
    for token in (old, new):
        assert cache.verify(token, audience="resource_api", issuer=ISSUER, typ="at+jwt")
        body = http.post(
            f"{live_server}/oauth/introspect",
            data={"token": token},
            auth=(oauth_client.client.client_id, oauth_client.client_secret),
        ).json()
        assert body["active"] is True


def test_rotated_secret_works_at_once_and_old_one_stops(live_server, oauth_client):
    fetch_token(live_server, oauth_client)  # the client is now cached by the server
    rotated = clients.rotate_secret(session=db.session, client_id=oauth_client.client.client_id, cache=client_cache())
    assert rotated.client_secret != oauth_client.client_secret
    assert fetch_token(live_server, rotated)["access_token"]
    with pytest.raises(Exception, match="invalid_client"):
        fetch_token(live_server, oauth_client)


def test_deleted_client_can_no_longer_get_tokens(live_server, oauth_client):
    fetch_token(live_server, oauth_client)
    clients.delete_client(session=db.session, client_id=oauth_client.client.client_id, cache=client_cache())
    with pytest.raises(Exception, match="invalid_client"):
        fetch_token(live_server, oauth_client)


def _basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


# (case, form, credentials, status, error): credentials is "basic", "post", "wrong", "unknown" or None.
ERROR_MATRIX = [
    ("wrong secret", {"grant_type": "client_credentials"}, "wrong", 401, "invalid_client"),
    ("unknown client", {"grant_type": "client_credentials"}, "unknown", 401, "invalid_client"),
    ("no client authentication", {"grant_type": "client_credentials"}, None, 401, "invalid_client"),
    ("registered for basic, sent post", {"grant_type": "client_credentials"}, "post", 401, "invalid_client"),
    (
        "password grant",
        {"grant_type": "password", "username": "u", "password": "p"},
        "basic",
        400,
        "unsupported_grant_type",
    ),
    ("implicit grant", {"grant_type": "implicit"}, "basic", 400, "unsupported_grant_type"),
    (
        "authorization code, client not registered for it",
        {"grant_type": "authorization_code", "code": "x"},
        "basic",
        400,
        "unauthorized_client",
    ),
    ("no grant type", {}, "basic", 400, "unsupported_grant_type"),
    (
        "scope the client lacks",
        {"grant_type": "client_credentials", "scope": "surveys:write"},
        "basic",
        400,
        "invalid_scope",
    ),
    ("internal scope", {"grant_type": "client_credentials", "scope": "gateway:relay"}, "basic", 400, "invalid_scope"),
    (
        "scope outside the catalogue",
        {"grant_type": "client_credentials", "scope": "admin"},
        "basic",
        400,
        "invalid_scope",
    ),
    (
        "OIDC scope without a user",
        {"grant_type": "client_credentials", "scope": "openid"},
        "basic",
        400,
        "invalid_scope",
    ),
    (
        "resource the client may not have",
        {"grant_type": "client_credentials", "resource": "bridge_gateway"},
        "basic",
        400,
        "invalid_target",
    ),
    (
        "two resources",
        {"grant_type": "client_credentials", "resource": ["resource_api", "resource_api"]},
        "basic",
        400,
        "invalid_target",
    ),
]


@pytest.mark.parametrize(
    ("form", "credentials", "status", "error"), [row[1:] for row in ERROR_MATRIX], ids=[row[0] for row in ERROR_MATRIX]
)
def test_token_errors(live_server, make_client, http, form, credentials, status, error):
    client = make_client(scope="attendance:write surveys:read openid")
    client_id, secret = client.client.client_id, client.client_secret
    kwargs: dict = {}
    if credentials == "basic":
        kwargs["headers"] = _basic(client_id, secret)
    elif credentials == "wrong":
        kwargs["headers"] = _basic(client_id, secret + "x")
    elif credentials == "unknown":
        kwargs["headers"] = _basic("no-such-client", secret)
    elif credentials == "post":
        form = {**form, "client_id": client_id, "client_secret": secret}
    response = http.post(f"{live_server}/oauth/token", data=form, **kwargs)

    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.headers["Cache-Control"] == "no-store"
    if status == 401 and credentials in ("basic", "wrong", "unknown"):
        assert response.headers["WWW-Authenticate"].startswith('Basic error="invalid_client"')


def test_client_not_registered_for_client_credentials(live_server, make_client, http):
    client = make_client(grant_types=["authorization_code"], redirect_uris=["https://app.example.test/cb"])
    response = http.post(
        f"{live_server}/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=_basic(client.client.client_id, client.client_secret),
    )
    assert response.status_code == 400 and response.json()["error"] == "unauthorized_client"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_token_endpoint_takes_post_only(live_server, http, method):
    response = http.request(method, f"{live_server}/oauth/token?grant_type=client_credentials")
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST" and response.headers["Cache-Control"] == "no-store"
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "authorization",
    ["Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(), "Basic !!!", "Basic", "Bearer abc"],
    ids=["non-utf8", "not-base64", "empty", "other-scheme"],
)
def test_malformed_client_credentials_are_invalid_client_not_errors(live_server, http, authorization):
    response = http.post(
        f"{live_server}/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": authorization},
    )
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


@pytest.mark.parametrize("client_id", ["a\x00b", "x" * 5000, "' OR 1=1 --"])
def test_odd_client_ids_never_reach_an_error(live_server, http, client_id):
    response = http.post(
        f"{live_server}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": "s"},
    )
    # Authlib answers an unknown client in the form body with 400 (401 is for Basic credentials).
    assert response.status_code == 400 and response.json()["error"] == "invalid_client"


@pytest.fixture
def limited_app(database_url):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "ISSUER": ISSUER, "TOKEN_RATE_LIMIT": "2/minute"})
    with app.app_context():
        upgrade_db()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_token_endpoint_is_rate_limited_per_address(limited_app):
    client = clients.create_client(session=db.session, name="busy", scope="attendance:write")
    test_client = limited_app.test_client()
    auth = (client.client.client_id, client.client_secret)
    statuses = [
        test_client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=auth).status_code
        for _ in range(2)
    ]
    assert statuses == [200, 200]
    # Introspection is not counted against the token endpoint's limit.
    assert test_client.post("/oauth/introspect", data={"token": "x"}, auth=auth).status_code == 200

    response = test_client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=auth)
    assert response.status_code == 429
    assert response.get_json() == {"error": "temporarily_unavailable", "error_description": "rate limit exceeded"}
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert response.headers["Cache-Control"] == "no-store"

    other = test_client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=auth, environ_base={"REMOTE_ADDR": "10.0.0.9"}
    )
    assert other.status_code == 200


def test_access_token_lifetime_is_configurable_but_bounded(database_url):
    from shared.config import ConfigError

    with pytest.raises(ConfigError, match="ACCESS_TOKEN_LIFETIME"):
        create_app(
            {"DATABASE_URL": database_url, "ISSUER": ISSUER, "ACCESS_TOKEN_LIFETIME": 7200, "MAX_TOKEN_LIFETIME": 3600}
        )
    app = create_app({"DATABASE_URL": database_url, "ISSUER": ISSUER, "ACCESS_TOKEN_LIFETIME": 60})
    with app.app_context():
        upgrade_db()
        client = clients.create_client(session=db.session, name="short", scope="attendance:write")
        response = app.test_client().post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client.client.client_id, client.client_secret),
        )
        claims = jwt.decode(response.get_json()["access_token"], options={"verify_signature": False})
        assert response.get_json()["expires_in"] == 60 and claims["exp"] - claims["iat"] == 60
        assert claims["exp"] <= time.time() + 61
        db.session.remove()
        db.engine.dispose()


def test_warm_token_requests_touch_no_database(app, oauth_client):
    """DESIGN §7: the client and the signing key come from memory, and no row is written per token."""
    from sqlalchemy import event

    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    test_client = app.test_client()
    auth = (oauth_client.client.client_id, oauth_client.client_secret)
    # The first request creates the key set; storing a key resets the cached signers, so warm up twice.
    for _ in range(2):
        assert test_client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=auth).status_code == 200
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        for _ in range(5):
            response = test_client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=auth)
            assert response.status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert statements == []
