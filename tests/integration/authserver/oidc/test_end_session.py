"""RP-initiated logout: back to a registered post-logout URI with `state` only when an ID token vouches for
the request; otherwise the user confirms and stays with us. The end-user session ends either way."""

from __future__ import annotations

import re

import jwt
import pytest

from .conftest import LOGOUT_URI, csrf_token, drive, query, sign_in_and_get_tokens, start


def _signed_in(live, browser) -> bool:
    return browser.get(f"{live.base}/consent", allow_redirects=False, timeout=10).status_code == 200


def test_registered_uri_with_id_token_hint_redirects_with_state(live, browser, oidc_client):
    _, token = sign_in_and_get_tokens(live, browser, oidc_client)
    assert _signed_in(live, browser)
    response = browser.get(
        f"{live.base}/oauth/end-session",
        params={"id_token_hint": token["id_token"], "post_logout_redirect_uri": LOGOUT_URI, "state": "bye-1"},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302 and response.headers["Location"] == f"{LOGOUT_URI}?state=bye-1"
    assert not _signed_in(live, browser)
    assert drive(live, browser, start(live, oidc_client).url, sign_in=False).seen == ["/signin/erp"]


def test_unregistered_uri_is_never_redirected_to(live, browser, oidc_client):
    _, token = sign_in_and_get_tokens(live, browser, oidc_client)
    response = browser.post(
        f"{live.base}/oauth/end-session",
        data={
            "id_token_hint": token["id_token"],
            "post_logout_redirect_uri": "https://evil.example.test/",
            "state": "s",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 200 and "Location" not in response.headers
    assert "You have signed out." in response.text
    assert not _signed_in(live, browser)


def test_another_clients_uri_is_not_redirected_to(live, browser, oidc_client, make_client):
    other = make_client(name="Other", post_logout_redirect_uris=("https://other.example.test/bye",))
    _, token = sign_in_and_get_tokens(live, browser, oidc_client)
    response = browser.get(
        f"{live.base}/oauth/end-session",
        params={"id_token_hint": token["id_token"], "post_logout_redirect_uri": "https://other.example.test/bye"},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 200 and "Location" not in response.headers
    mismatch = browser.get(
        f"{live.base}/oauth/end-session",
        params={"id_token_hint": token["id_token"], "client_id": other.client.client_id},
        allow_redirects=False,
        timeout=10,
    )
    assert mismatch.status_code == 400 and "Location" not in mismatch.headers


def test_without_id_token_hint_the_user_confirms(live, browser, oidc_client):
    sign_in_and_get_tokens(live, browser, oidc_client)
    params = {"client_id": oidc_client.client.client_id, "post_logout_redirect_uri": LOGOUT_URI, "state": "s"}
    page = browser.get(f"{live.base}/oauth/end-session", params=params, allow_redirects=False, timeout=10)
    assert page.status_code == 200 and "Sign out?" in page.text and "Time Attendance asked" in page.text
    assert _signed_in(live, browser)

    forged = browser.post(
        f"{live.base}/oauth/end-session", data={**params, "confirm": "yes"}, allow_redirects=False, timeout=10
    )
    assert "Sign out?" in forged.text and _signed_in(live, browser)  # no CSRF token: only asked again

    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    confirmed = browser.post(
        f"{live.base}/oauth/end-session",
        data={**hidden, "csrf_token": csrf_token(page.text)},
        allow_redirects=False,
        timeout=10,
    )
    assert confirmed.status_code == 200 and "You have signed out." in confirmed.text
    assert "Location" not in confirmed.headers  # no ID token vouched for the redirect
    assert not _signed_in(live, browser)


@pytest.mark.parametrize("hint", ["eyJhbGciOiJub25lIn0.e30.", "garbage", "a.b.c", "eyJhbGciOiJFUzI1NiJ9.e30.AAAA"])
def test_a_forged_id_token_hint_is_an_error_page(live, browser, oidc_client, hint):
    response = browser.get(
        f"{live.base}/oauth/end-session",
        params={"id_token_hint": hint, "post_logout_redirect_uri": LOGOUT_URI},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 400 and "Location" not in response.headers
    assert "Sign-out request not valid" in response.text
    assert query(response.url)["post_logout_redirect_uri"] == LOGOUT_URI


def test_an_id_token_signed_with_a_foreign_key_is_refused(live, browser, oidc_client):
    from shared.keys import generate_private_key, sign_jwt

    _, token = sign_in_and_get_tokens(live, browser, oidc_client)
    claims = jwt.decode(token["id_token"], options={"verify_signature": False})
    header = jwt.get_unverified_header(token["id_token"])
    forged = sign_jwt(claims, private_pem=generate_private_key("ES256"), kid=header["kid"], alg="ES256", typ="JWT")
    response = browser.get(
        f"{live.base}/oauth/end-session",
        params={"id_token_hint": forged, "post_logout_redirect_uri": LOGOUT_URI},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 400 and "Location" not in response.headers
    assert _signed_in(live, browser)
