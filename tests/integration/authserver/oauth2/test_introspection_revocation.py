"""Introspection (RFC 7662) and revocation (RFC 7009) over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from authserver.clients import service as clients
from authserver.extensions import db
from authserver.keys.service import active_key
from authserver.oauth2.models import RevokedAccessToken
from authserver.oauth2.runtime import client_cache
from authserver.oauth2.tokens import purge_revoked_tokens
from shared.keys import generate_private_key, public_jwk, sign_jwt
from shared.service import encryptor

from .conftest import ISSUER, fetch_token, forge_token


@pytest.fixture
def introspect(live_server, resource_server, http):
    """POST a token to the introspection endpoint as the resource server; answer (status, body)."""

    def call(token: str, caller=resource_server, **form):
        response = http.post(
            f"{live_server}/oauth/introspect",
            data={"token": token, **form},
            auth=(caller.client.client_id, caller.client_secret),
        )
        assert response.headers["Cache-Control"] == "no-store"
        return response.status_code, response.json()

    return call


@pytest.fixture
def revoke(live_server, http):
    def call(token: str, caller, **form):
        response = http.post(
            f"{live_server}/oauth/revoke",
            data={"token": token, **form},
            auth=(caller.client.client_id, caller.client_secret),
        )
        return response.status_code, response.json()

    return call


def test_active_token_answers_its_claims(live_server, oauth_client, introspect):
    token = fetch_token(live_server, oauth_client)["access_token"]
    status, body = introspect(token)
    assert status == 200
    assert body["active"] is True and body["token_type"] == "Bearer"
    assert body["client_id"] == body["sub"] == oauth_client.client.client_id
    assert body["scope"] == "attendance:write surveys:read" and body["aud"] == "resource_api"
    assert body["iss"] == ISSUER and body["exp"] > body["iat"] and body["jti"]


def _foreign_key_token(client_id: str) -> str:
    pem = generate_private_key("ES256")
    return forge_token(private_pem=pem, kid=public_jwk(pem, "ES256")["kid"], client_id=client_id)


def _expired(client_id: str) -> str:
    now = datetime.now(UTC)
    return forge_token(client_id=client_id, iat=now - timedelta(minutes=10), exp=now - timedelta(minutes=5))


def _id_token(client_id: str) -> str:
    key = active_key(session=db.session, encryptor=encryptor(), alg="ES256")
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "sub": "s",
        "aud": "a",
        "client_id": client_id,
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "jti": "j",
    }
    return sign_jwt(claims, private_pem=key.private_pem, kid=key.kid, alg="ES256", typ="JWT")


def _without(claim: str):
    def make(client_id: str) -> str:
        key = active_key(session=db.session, encryptor=encryptor(), alg="ES256")
        now = datetime.now(UTC)
        claims = {
            "iss": ISSUER,
            "sub": "s",
            "aud": "a",
            "client_id": client_id,
            "iat": now,
            "exp": now + timedelta(minutes=5),
            "jti": "j",
        }
        del claims[claim]
        return sign_jwt(claims, private_pem=key.private_pem, kid=key.kid, alg="ES256", typ="at+jwt")

    return make


INACTIVE = {
    "expired": _expired,
    "garbage": lambda _: "not-a-token",
    "three dots of nothing": lambda _: "..",
    "alg none": lambda _: "eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.eyJpc3MiOiJ4In0.",
    "foreign key": _foreign_key_token,
    "foreign key posing as ours": lambda client_id: forge_token(
        private_pem=generate_private_key("ES256"), client_id=client_id
    ),
    "unknown kid": lambda client_id: forge_token(kid="no-such-kid", client_id=client_id),
    "another issuer": lambda client_id: forge_token(iss="https://evil.example.test", client_id=client_id),
    "typ JWT (an ID token, not an access token)": _id_token,
    "no jti": _without("jti"),
    "no exp": _without("exp"),
    "unknown client": lambda _: forge_token(client_id="no-such-client"),
    "huge": lambda _: "a" * 100_000,
}


def test_control_a_forged_token_for_a_real_client_is_active(oauth_client, introspect):
    """The inactive cases below differ from this one only in what their names say."""
    assert introspect(forge_token(client_id=oauth_client.client.client_id))[1]["active"] is True


@pytest.mark.parametrize("make_token", list(INACTIVE.values()), ids=list(INACTIVE))
def test_anything_but_a_live_token_is_inactive_never_an_error(oauth_client, introspect, make_token):
    status, body = introspect(make_token(oauth_client.client.client_id))
    assert (status, body) == (200, {"active": False})


@pytest.mark.parametrize("hint", ["access_token", "refresh_token", "id_token", None])
def test_a_hint_is_only_a_hint(live_server, oauth_client, introspect, hint):
    token = fetch_token(live_server, oauth_client)["access_token"]
    form = {"token_type_hint": hint} if hint else {}
    assert introspect(token, **form)[1]["active"] is True


@pytest.mark.parametrize("hint", ["refresh_token", "made_up"])
def test_revocation_ignores_hints_too(live_server, oauth_client, introspect, revoke, hint):
    token = fetch_token(live_server, oauth_client)["access_token"]
    assert revoke(token, oauth_client, token_type_hint=hint) == (200, {})
    assert introspect(token) == (200, {"active": False})


@pytest.mark.parametrize("endpoint", ["introspect", "revoke"])
def test_missing_token_is_invalid_request(live_server, resource_server, http, endpoint):
    response = http.post(
        f"{live_server}/oauth/{endpoint}",
        data={},
        auth=(resource_server.client.client_id, resource_server.client_secret),
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_anonymous_callers_are_refused(live_server, oauth_client, http):
    token = fetch_token(live_server, oauth_client)["access_token"]
    response = http.post(f"{live_server}/oauth/introspect", data={"token": token})
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    assert "active" not in response.json()


def test_wrong_secret_is_refused(live_server, resource_server, http):
    response = http.post(
        f"{live_server}/oauth/introspect", data={"token": "x"}, auth=(resource_server.client.client_id, "nope")
    )
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_client_secret_post_callers_are_accepted(live_server, make_client, http):
    caller = make_client(is_internal=True, grant_types=(), scope="", token_endpoint_auth_method="client_secret_post")
    response = http.post(
        f"{live_server}/oauth/introspect",
        data={"token": "x", "client_id": caller.client.client_id, "client_secret": caller.client_secret},
    )
    assert (response.status_code, response.json()) == (200, {"active": False})


def test_token_in_the_url_is_not_read(live_server, oauth_client, resource_server, http):
    token = fetch_token(live_server, oauth_client)["access_token"]
    auth = (resource_server.client.client_id, resource_server.client_secret)
    get = http.get(f"{live_server}/oauth/introspect", params={"token": token}, auth=auth)
    assert get.status_code == 405 and get.json()["error"] == "invalid_request"
    post = http.post(f"{live_server}/oauth/introspect", params={"token": token}, auth=auth)
    assert post.status_code == 400 and post.json()["error"] == "invalid_request"


def test_external_client_sees_only_its_own_tokens(live_server, make_client, introspect):
    alice, bob = make_client(name="alice"), make_client(name="bob")
    token = fetch_token(live_server, alice)["access_token"]
    assert introspect(token, caller=alice)[1]["active"] is True
    assert introspect(token, caller=bob) == (200, {"active": False})


def test_revoked_token_is_inactive(live_server, oauth_client, introspect, revoke):
    token = fetch_token(live_server, oauth_client)["access_token"]
    other = fetch_token(live_server, oauth_client)["access_token"]
    assert revoke(token, oauth_client) == (200, {})
    assert introspect(token) == (200, {"active": False})
    assert introspect(other)[1]["active"] is True
    assert revoke(token, oauth_client) == (200, {}), "revoking twice is harmless"
    assert db.session.scalar(select(func.count()).select_from(RevokedAccessToken)) == 1


@pytest.mark.parametrize("token", ["garbage", "eyJ.eyJ.x", "a" * 100_000])
def test_revoking_unknown_tokens_succeeds(app, oauth_client, revoke, token):
    assert revoke(token, oauth_client) == (200, {})


def test_only_the_owner_may_revoke(live_server, make_client, introspect, revoke):
    owner, other = make_client(name="owner"), make_client(name="other")
    token = fetch_token(live_server, owner)["access_token"]
    status, body = revoke(token, other)
    assert (status, body["error"]) == (400, "invalid_grant")
    assert introspect(token)[1]["active"] is True


def test_revocation_needs_client_authentication(live_server, oauth_client, http):
    token = fetch_token(live_server, oauth_client)["access_token"]
    response = http.post(f"{live_server}/oauth/revoke", data={"token": token})
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_tokens_of_a_deleted_client_are_inactive(live_server, oauth_client, introspect):
    token = fetch_token(live_server, oauth_client)["access_token"]
    clients.delete_client(session=db.session, client_id=oauth_client.client.client_id, cache=client_cache())
    assert introspect(token) == (200, {"active": False})


def test_expired_revocations_are_purged(live_server, oauth_client, revoke):
    token = fetch_token(live_server, oauth_client)["access_token"]
    revoke(token, oauth_client)
    now = datetime.now(UTC)
    db.session.add(
        RevokedAccessToken(
            jti="long-gone", client_id="c", expires_at=now - timedelta(seconds=1), revoked_at=now - timedelta(minutes=6)
        )
    )
    db.session.commit()
    assert purge_revoked_tokens(session=db.session) == 1
    # and each revocation purges what has expired
    db.session.add(
        RevokedAccessToken(
            jti="gone-too", client_id="c", expires_at=now - timedelta(seconds=1), revoked_at=now - timedelta(minutes=6)
        )
    )
    db.session.commit()
    revoke(fetch_token(live_server, oauth_client)["access_token"], oauth_client)
    db.session.expire_all()
    assert "gone-too" not in set(db.session.scalars(select(RevokedAccessToken.jti)))
    assert db.session.scalar(select(func.count()).select_from(RevokedAccessToken)) == 2
