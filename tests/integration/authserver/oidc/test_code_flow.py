"""Authorization code + PKCE + OpenID Connect over real HTTP, driven by Authlib's client and a scripted browser."""

from __future__ import annotations

import base64
import hashlib

import jwt
import pytest
import requests

from .conftest import ANN, REDIRECT_URI, drive, exchange, query, sign_in_and_get_tokens, start


def _jwks_client(live) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(f"{live.base}/.well-known/jwks.json")


def _verify_id_token(live, token: str, client_id: str, alg: str = "ES256") -> dict:
    key = _jwks_client(live).get_signing_key_from_jwt(token)
    return jwt.decode(token, key, algorithms=[alg], audience=client_id, issuer=live.base)


def _at_hash(access_token: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(access_token.encode()).digest()[:16]).rstrip(b"=").decode()


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_full_code_flow_gives_tokens_an_id_token_and_userinfo(live, browser, make_client, method):
    client = make_client(token_endpoint_auth_method=method)
    client_id = client.client.client_id
    auth = start(live, client)
    outcome = drive(live, browser, auth.url)

    assert outcome.seen == ["/signin/erp", "/oauth/authorize"]  # sign-in page, then the consent page
    params = outcome.params
    assert outcome.location.startswith(REDIRECT_URI + "?")
    assert params["state"] == auth.state and params["iss"] == live.base and params["code"]

    response = requests.post(
        f"{live.base}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": auth.verifier,
            **(
                {"client_id": client_id, "client_secret": client.client_secret}
                if method == "client_secret_post"
                else {}
            ),
        },
        auth=(client_id, client.client_secret) if method == "client_secret_basic" else None,
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store" and response.headers["Pragma"] == "no-cache"
    token = response.json()
    assert token["token_type"] == "Bearer" and token["expires_in"] == 300
    assert token["scope"] == "openid profile email offline_access" and token["refresh_token"]

    id_claims = _verify_id_token(live, token["id_token"], client_id)
    assert id_claims["sub"] == "su-1" and id_claims["nonce"] == auth.nonce and id_claims["azp"] == client_id
    assert id_claims["at_hash"] == _at_hash(token["access_token"])
    assert id_claims["auth_time"] <= id_claims["iat"] < id_claims["exp"]
    assert id_claims["email"] == "ann@example.com" and id_claims["name"] == "Ann Example"
    assert id_claims["preferred_username"] == "esmaster"
    assert id_claims["subscription_id"] == "roservices" and id_claims["bridge_id"] == "Demo_002"
    assert id_claims["branch_id"] == "001"
    assert jwt.get_unverified_header(token["id_token"])["typ"] == "JWT"

    access = jwt.decode(
        token["access_token"],
        _jwks_client(live).get_signing_key_from_jwt(token["access_token"]),
        algorithms=["ES256"],
        audience=live.base,
        issuer=live.base,
    )
    assert jwt.get_unverified_header(token["access_token"])["typ"] == "at+jwt"
    assert access["sub"] == "su-1" and access["client_id"] == client_id
    assert access["subscription_id"] == "roservices" and access["subscription_gid"] == "GID-ROS"
    assert access["bridge_id"] == "Demo_002" and access["app"] == "timeattendance"

    for call in (
        lambda: requests.get(
            f"{live.base}/oauth/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=10
        ),
        lambda: requests.post(f"{live.base}/oauth/userinfo", data={"access_token": token["access_token"]}, timeout=10),
    ):
        info = call()
        assert info.status_code == 200 and info.headers["Cache-Control"] == "no-store"
        assert info.json() == {
            "sub": "su-1",
            "name": "Ann Example",
            "preferred_username": "esmaster",
            "email": "ann@example.com",
            "subscription_id": "roservices",
            "subscription_gid": "GID-ROS",
            "bridge_id": "Demo_002",
            "branch_id": "001",
        }


def test_rs256_client_gets_rs256_id_tokens(live, browser, make_client):
    client = make_client(alg="RS256")
    auth, token = sign_in_and_get_tokens(live, browser, client)
    assert jwt.get_unverified_header(token["id_token"])["alg"] == "RS256"
    claims = _verify_id_token(live, token["id_token"], client.client.client_id, alg="RS256")
    assert claims["nonce"] == auth.nonce and claims["at_hash"] == _at_hash(token["access_token"])


def test_scopes_decide_refresh_token_id_token_and_claims(live, browser, oidc_client):
    _, token = sign_in_and_get_tokens(live, browser, oidc_client, scope="openid")
    assert "refresh_token" not in token and token["scope"] == "openid"
    claims = jwt.decode(token["id_token"], options={"verify_signature": False})
    assert not {"email", "name", "preferred_username"} & claims.keys()

    _, token = sign_in_and_get_tokens(live, browser, oidc_client, scope="attendance:write")
    assert "id_token" not in token and "refresh_token" not in token
    info = requests.get(
        f"{live.base}/oauth/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=10
    )
    assert info.status_code == 403
    assert (
        'error="insufficient_scope"' in info.headers["WWW-Authenticate"]
        and info.json()["error"] == "insufficient_scope"
    )


def test_no_refresh_token_for_a_client_without_the_refresh_grant(live, browser, make_client):
    client = make_client(grant_types=("authorization_code",))
    _, token = sign_in_and_get_tokens(live, browser, client)
    assert "refresh_token" not in token and "offline_access" in token["scope"]


def test_userinfo_errors_follow_rfc6750(live):
    missing = requests.get(f"{live.base}/oauth/userinfo", timeout=10)
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == f'Bearer realm="{live.base}"'
    bad = requests.get(f"{live.base}/oauth/userinfo", headers={"Authorization": "Bearer nonsense"}, timeout=10)
    assert bad.status_code == 401 and 'error="invalid_token"' in bad.headers["WWW-Authenticate"]
    twice = requests.post(
        f"{live.base}/oauth/userinfo", headers={"Authorization": "Bearer a"}, data={"access_token": "b"}, timeout=10
    )
    assert twice.status_code == 400 and twice.json()["error"] == "invalid_request"


def test_code_replay_is_refused_and_revokes_what_the_code_issued(live, browser, oidc_client):
    auth = start(live, oidc_client)
    location = drive(live, browser, auth.url).location
    token = exchange(live, auth, location)

    replay = requests.post(
        f"{live.base}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": query(location)["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": auth.verifier,
        },
        auth=(oidc_client.client.client_id, oidc_client.client_secret),
        timeout=10,
    )
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert replay.headers["Cache-Control"] == "no-store"

    refreshed = requests.post(
        f"{live.base}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=(oidc_client.client.client_id, oidc_client.client_secret),
        timeout=10,
    )
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"
    introspected = requests.post(
        f"{live.base}/oauth/introspect",
        data={"token": token["access_token"]},
        auth=(oidc_client.client.client_id, oidc_client.client_secret),
        timeout=10,
    )
    assert introspected.json() == {"active": False}
    info = requests.get(
        f"{live.base}/oauth/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=10
    )
    assert info.status_code == 401


def test_code_is_bound_to_client_and_redirect_uri(live, browser, make_client, oidc_client):
    other = make_client(name="Other app")
    auth = start(live, oidc_client)
    code = query(drive(live, browser, auth.url).location)["code"]
    stolen = requests.post(
        f"{live.base}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": auth.verifier,
        },
        auth=(other.client.client_id, other.client_secret),
        timeout=10,
    )
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"

    auth = start(live, oidc_client)
    code = query(drive(live, browser, auth.url).location)["code"]
    wrong_uri = requests.post(
        f"{live.base}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "https://app.example.test/other",
            "code_verifier": auth.verifier,
        },
        auth=(oidc_client.client.client_id, oidc_client.client_secret),
        timeout=10,
    )
    assert wrong_uri.status_code == 400 and wrong_uri.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("overrides", [{"AUTHORIZATION_CODE_LIFETIME": 1}])
def test_expired_code_is_refused(live, browser, oidc_client, overrides):
    import time

    auth = start(live, oidc_client)
    location = drive(live, browser, auth.url).location
    time.sleep(1.2)
    response = requests.post(
        f"{live.base}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": query(location)["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": auth.verifier,
        },
        auth=(oidc_client.client.client_id, oidc_client.client_secret),
        timeout=10,
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_signed_in_user_is_not_asked_to_sign_in_again(live, browser, oidc_client):
    sign_in_and_get_tokens(live, browser, oidc_client)
    auth = start(live, oidc_client)
    outcome = drive(live, browser, auth.url)
    assert outcome.seen == ["/oauth/authorize"] and outcome.params["code"]
    assert live.directory.calls.count("authenticate") == 1


def test_prompt_login_asks_again_and_prompt_none_never_shows_a_page(live, browser, oidc_client):
    auth = start(live, oidc_client, prompt="none")
    outcome = drive(live, browser, auth.url)
    assert outcome.params["error"] == "login_required" and outcome.params["state"] == auth.state
    assert outcome.params["iss"] == live.base

    sign_in_and_get_tokens(live, browser, oidc_client)
    auth = start(live, oidc_client, prompt="none")
    outcome = drive(live, browser, auth.url)
    assert outcome.params["error"] == "consent_required"

    auth = start(live, oidc_client, prompt="login")
    outcome = drive(live, browser, auth.url)
    assert outcome.seen == ["/signin/erp", "/oauth/authorize"] and outcome.params["code"]
    assert live.directory.calls.count("authenticate") == 2
    assert ANN  # the same credentials were typed again
