"""Authorization request errors: redirected with `state` and `iss` once client and redirect URI are trusted,
an error page (never a redirect) before that; PKCE is S256 only and always required."""

from __future__ import annotations

import pytest
import requests
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from .conftest import REDIRECT_URI, drive, exchange, query, start

VERIFIER = "v" * 50
CHALLENGE = create_s256_code_challenge(VERIFIER)


def _authorize(live, browser, **params):
    return browser.get(f"{live.base}/oauth/authorize", params=params, allow_redirects=False, timeout=10)


def _valid(client, **params):
    base = {
        "response_type": "code",
        "client_id": client.client.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid",
        "state": "st-1",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
    }
    return {key: value for key, value in {**base, **params}.items() if value is not None}


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),  # PKCE missing
        ({"code_challenge_method": None}, "invalid_request"),  # defaults to plain (RFC 7636 §4.3)
        ({"code_challenge_method": "plain", "code_challenge": VERIFIER}, "invalid_request"),
        ({"code_challenge": "short"}, "invalid_request"),
        ({"scope": "openid gateway:relay"}, "invalid_scope"),  # an internal scope
        ({"scope": "openid surveys:read"}, "invalid_scope"),  # not one of the client's
        ({"scope": "openid nonsense"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),  # no implicit grant
        ({"response_type": "code id_token"}, "unsupported_response_type"),
        ({"nonce": "n" * 300}, "invalid_request"),
    ],
)
def test_errors_redirect_to_the_client_with_state_and_iss(live, browser, oidc_client, params, error):
    response = _authorize(live, browser, **_valid(oidc_client, **params))
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?")
    got = query(location)
    assert got["error"] == error and got["state"] == "st-1" and got["iss"] == live.base
    assert "code" not in got


def test_client_not_registered_for_the_code_grant_is_told_so_by_redirect(live, browser, make_client):
    client = make_client(grant_types=("client_credentials",), redirect_uris=(REDIRECT_URI,))
    response = _authorize(live, browser, **_valid(client))
    got = query(response.headers["Location"])
    assert got["error"] == "unauthorized_client" and got["state"] == "st-1" and got["iss"] == live.base


@pytest.mark.parametrize(
    "params",
    [
        {"redirect_uri": "https://evil.example.test/callback"},
        {"redirect_uri": REDIRECT_URI + "/"},  # exact match only
        {"redirect_uri": REDIRECT_URI + "?x=1"},
        {"redirect_uri": "https://APP.example.test/callback"},
        {"client_id": "no-such-client"},
        {"client_id": None},
        {"client_id": "no-such-client", "response_type": "token"},
    ],
)
def test_untrusted_client_or_redirect_uri_gets_an_error_page_never_a_redirect(live, browser, oidc_client, params):
    response = _authorize(live, browser, **_valid(oidc_client, **params))
    assert response.status_code == 400 and "Location" not in response.headers
    assert response.headers["Content-Type"].startswith("text/html")
    assert "This sign-in link does not work" in response.text
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_missing_code_verifier_and_wrong_verifier_are_refused(live, browser, oidc_client):
    auth = start(live, oidc_client)
    location = drive(live, browser, auth.url).location
    missing = requests.post(
        f"{live.base}/oauth/token",
        data={"grant_type": "authorization_code", "code": query(location)["code"], "redirect_uri": REDIRECT_URI},
        auth=(oidc_client.client.client_id, oidc_client.client_secret),
        timeout=10,
    )
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"

    auth = start(live, oidc_client)
    location = drive(live, browser, auth.url).location
    wrong = requests.post(
        f"{live.base}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": query(location)["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": "w" * 50,
        },
        auth=(oidc_client.client.client_id, oidc_client.client_secret),
        timeout=10,
    )
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"


def test_a_nonce_is_accepted_once_per_client(live, browser, oidc_client):
    auth = start(live, oidc_client)
    exchange(live, auth, drive(live, browser, auth.url).location)
    again = drive(live, browser, auth.url)  # the same request, nonce and all
    assert again.params["error"] == "invalid_request" and again.params["state"] == auth.state


@pytest.mark.parametrize(
    ("method", "auth_kind", "error", "status"),
    [
        ("client_secret_basic", "wrong-secret", "invalid_client", 401),
        ("client_secret_basic", "post", "invalid_client", 401),  # registered for basic, sends post
        ("client_secret_post", "basic", "invalid_client", 401),
    ],
)
def test_token_endpoint_client_authentication_errors(live, browser, make_client, method, auth_kind, error, status):
    client = make_client(token_endpoint_auth_method=method)
    auth = start(live, client)
    code = query(drive(live, browser, auth.url).location)["code"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": auth.verifier,
    }
    credentials = (client.client.client_id, client.client_secret)
    if auth_kind == "wrong-secret":
        response = requests.post(f"{live.base}/oauth/token", data=data, auth=(credentials[0], "nope"), timeout=10)
    elif auth_kind == "post":
        data |= {"client_id": credentials[0], "client_secret": credentials[1]}
        response = requests.post(f"{live.base}/oauth/token", data=data, timeout=10)
    else:
        response = requests.post(f"{live.base}/oauth/token", data=data, auth=credentials, timeout=10)
    assert response.status_code == status and response.json()["error"] == error
    assert response.headers["Cache-Control"] == "no-store"


def test_password_and_implicit_grants_do_not_exist(live, oidc_client):
    response = requests.post(
        f"{live.base}/oauth/token",
        data={"grant_type": "password", "username": "ann@example.com", "password": "x"},
        auth=(oidc_client.client.client_id, oidc_client.client_secret),
        timeout=10,
    )
    assert response.status_code == 400 and response.json()["error"] == "unsupported_grant_type"
