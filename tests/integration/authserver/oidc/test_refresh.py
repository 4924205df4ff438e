"""Refresh tokens: issued with offline_access, rotated on every use, and a reused one revokes its family."""

from __future__ import annotations

import jwt
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session

from authserver.extensions import db
from authserver.oauth2.models import RefreshToken
from shared.secrets import digest

from .conftest import sign_in_and_get_tokens


def _refresh(live, client, refresh_token, **extra):
    return requests.post(
        f"{live.base}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token, **extra},
        auth=(client.client.client_id, client.client_secret),
        timeout=10,
    )


def _introspect(live, client, token, **extra):
    return requests.post(
        f"{live.base}/oauth/introspect",
        data={"token": token, **extra},
        auth=(client.client.client_id, client.client_secret),
        timeout=10,
    ).json()


def test_refresh_rotates_with_authlibs_client(live, browser, oidc_client):
    _, token = sign_in_and_get_tokens(live, browser, oidc_client)
    with OAuth2Session(oidc_client.client.client_id, oidc_client.client_secret, token=token) as rp:
        new = dict(rp.refresh_token(f"{live.base}/oauth/token"))
    assert new["refresh_token"] != token["refresh_token"] and new["access_token"] != token["access_token"]
    assert new["scope"] == token["scope"]
    claims = jwt.decode(new["id_token"], options={"verify_signature": False})
    assert claims["sub"] == "su-1" and "nonce" not in claims
    assert _introspect(live, oidc_client, new["refresh_token"])["active"] is True
    assert _introspect(live, oidc_client, token["refresh_token"]) == {"active": False}  # used
    assert _introspect(live, oidc_client, token["access_token"])["active"] is True  # access tokens live on


def test_refresh_tokens_are_stored_only_as_digests(live, browser, oidc_client, app):
    _, token = sign_in_and_get_tokens(live, browser, oidc_client)
    rows = db.session.query(RefreshToken).all()
    assert [row.token_digest for row in rows] == [digest(token["refresh_token"])]


def test_reuse_of_a_rotated_refresh_token_revokes_the_family(live, browser, oidc_client):
    _, token = sign_in_and_get_tokens(live, browser, oidc_client)
    first = _refresh(live, oidc_client, token["refresh_token"])
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    successor = first.json()

    reused = _refresh(live, oidc_client, token["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert "already used" in reused.json()["error_description"]

    assert _refresh(live, oidc_client, successor["refresh_token"]).json()["error"] == "invalid_grant"
    for access in (token["access_token"], successor["access_token"]):
        assert _introspect(live, oidc_client, access) == {"active": False}
        info = requests.get(f"{live.base}/oauth/userinfo", headers={"Authorization": f"Bearer {access}"}, timeout=10)
        assert info.status_code == 401


def test_another_family_survives_reuse_in_one(live, browser, oidc_client):
    _, one = sign_in_and_get_tokens(live, browser, oidc_client)
    _, two = sign_in_and_get_tokens(live, browser, oidc_client)
    _refresh(live, oidc_client, one["refresh_token"])
    _refresh(live, oidc_client, one["refresh_token"])
    assert _refresh(live, oidc_client, two["refresh_token"]).status_code == 200


def test_refresh_scope_can_narrow_not_widen(live, browser, oidc_client):
    _, token = sign_in_and_get_tokens(live, browser, oidc_client, scope="openid email offline_access")
    wider = _refresh(live, oidc_client, token["refresh_token"], scope="openid email profile offline_access")
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    narrower = _refresh(live, oidc_client, token["refresh_token"], scope="email")
    assert narrower.status_code == 200, narrower.text
    body = narrower.json()
    assert body["scope"] == "email" and "id_token" not in body
    again = _refresh(live, oidc_client, body["refresh_token"])  # the family keeps its scope
    assert again.json()["scope"] == "openid email offline_access"


def test_refresh_token_of_another_client_is_invalid(live, browser, oidc_client, make_client):
    _, token = sign_in_and_get_tokens(live, browser, oidc_client)
    other = make_client(name="Other")
    assert _refresh(live, other, token["refresh_token"]).json()["error"] == "invalid_grant"
    assert _refresh(live, oidc_client, token["refresh_token"]).status_code == 200  # not burnt by the attempt


def test_revoking_a_refresh_token_ends_its_family(live, browser, oidc_client):
    _, token = sign_in_and_get_tokens(live, browser, oidc_client)
    introspected = _introspect(live, oidc_client, token["refresh_token"], token_type_hint="refresh_token")
    assert introspected["active"] is True and introspected["token_type"] == "refresh_token"
    assert introspected["client_id"] == oidc_client.client.client_id and introspected["sub"] == "su-1"
    revoked = requests.post(
        f"{live.base}/oauth/revoke",
        data={"token": token["refresh_token"], "token_type_hint": "refresh_token"},
        auth=(oidc_client.client.client_id, oidc_client.client_secret),
        timeout=10,
    )
    assert revoked.status_code == 200
    assert _refresh(live, oidc_client, token["refresh_token"]).json()["error"] == "invalid_grant"
    assert _introspect(live, oidc_client, token["access_token"]) == {"active": False}


def test_refresh_stops_when_the_user_loses_the_app(live, browser, oidc_client, directory):
    _, token = sign_in_and_get_tokens(live, browser, oidc_client)
    directory.users[0].apps.clear()
    refused = _refresh(live, oidc_client, token["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert "no seat" in refused.json()["error_description"]
    directory.users[0].apps.add("timeattendance")
    assert _refresh(live, oidc_client, token["refresh_token"]).json()["error"] == "invalid_grant"  # family ended


@pytest.mark.parametrize("overrides", [{"REFRESH_TOKEN_LIFETIME": 1}])
def test_expired_refresh_token_is_invalid(live, browser, oidc_client, overrides):
    import time

    _, token = sign_in_and_get_tokens(live, browser, oidc_client)
    time.sleep(1.2)
    assert _refresh(live, oidc_client, token["refresh_token"]).json()["error"] == "invalid_grant"
