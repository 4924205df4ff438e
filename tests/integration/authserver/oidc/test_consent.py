"""The consent page: Deny, Allow, remembered decisions and their revocation, app access, provider details."""

from __future__ import annotations

import re

import pytest
import requests

from .conftest import OIDC_SCOPE, csrf_token, drive, exchange, start
from .directory import NO_SEAT


def test_consent_page_says_who_asks_for_what_for_which_subscription(live, browser, oidc_client):
    outcome = drive(live, browser, start(live, oidc_client).url, decision=None)
    page = outcome.page
    assert page.status_code == 200 and outcome.location is None
    text = page.text
    assert "Allow Time Attendance?" in text
    for words in (
        "Sign the user in (OpenID Connect).",
        "The user&#39;s name and user id.",
        "The user&#39;s e-mail address.",
        "Stay signed in with a refresh token.",
        "roservices",
        "Demo_002",
        "Ann Example",
        "app.example.test",
        'value="allow"',
        'value="deny"',
        "Remember this decision",
    ):
        assert words in text, words
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Cache-Control"] == "no-store"


def test_deny_redirects_with_access_denied_state_and_iss(live, browser, oidc_client):
    auth = start(live, oidc_client)
    outcome = drive(live, browser, auth.url, decision="deny")
    assert outcome.params == {
        "error": "access_denied",
        "error_description": "The resource owner or authorization server denied the request",
        "state": auth.state,
        "iss": live.base,
    }


def test_consent_post_needs_the_csrf_token(live, browser, oidc_client):
    auth = start(live, oidc_client)
    page = drive(live, browser, auth.url, decision=None).page
    forged = browser.post(page.url, data={"decision": "allow"}, allow_redirects=False, timeout=10)
    assert forged.status_code == 400 and "Location" not in forged.headers


def test_remembered_consent_skips_the_page_until_revoked(live, browser, oidc_client):
    first = drive(live, browser, start(live, oidc_client).url, remember=True)
    assert first.params["code"]

    again = drive(live, browser, start(live, oidc_client).url, decision=None)
    assert again.seen == [] and again.params["code"]  # straight back to the client
    narrower = drive(live, browser, start(live, oidc_client, scope="openid").url, decision=None)
    assert narrower.params["code"]
    wider = drive(live, browser, start(live, oidc_client, scope=OIDC_SCOPE + " attendance:write").url, decision=None)
    assert wider.location is None and "Allow Time Attendance?" in wider.page.text
    forced = drive(live, browser, start(live, oidc_client, prompt="consent").url, decision=None)
    assert forced.location is None

    auth = start(live, oidc_client)
    token = exchange(live, auth, drive(live, browser, auth.url).location)

    listing = browser.get(f"{live.base}/consent", timeout=10)
    assert listing.status_code == 200 and "Time Attendance" in listing.text
    action = re.search(r'action="(/consent/[^"]+/revoke)"', listing.text).group(1)
    revoked = browser.post(f"{live.base}{action}", data={"csrf_token": csrf_token(listing.text)}, timeout=10)
    assert "Revoked. The app will ask for your permission again." in revoked.text
    assert "You have not asked any app to remember" in revoked.text

    shown = drive(live, browser, start(live, oidc_client).url, decision=None)
    assert shown.location is None and "Allow Time Attendance?" in shown.page.text
    refreshed = requests.post(
        f"{live.base}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=(oidc_client.client.client_id, oidc_client.client_secret),
        timeout=10,
    )
    assert refreshed.json()["error"] == "invalid_grant"


def test_remembered_consents_belong_to_their_user(live, browser, oidc_client, directory):
    directory.add(
        sub="su-2",
        subscription_id="roservices",
        user_id="bob",
        email="bob@example.com",
        name="Bob",
        password="Bob-pass-1",
    )
    drive(live, browser, start(live, oidc_client).url, remember=True)
    listing = browser.get(f"{live.base}/consent", timeout=10)
    action = re.search(r'action="(/consent/[^"]+/revoke)"', listing.text).group(1)

    with requests.Session() as bob:
        bob_credentials = {
            "login": "roservices/bob",
            "password": "Bob-pass-1",
            "company_id": "Demo_002",
            "branch_id": "002",
        }
        outcome = drive(live, bob, start(live, oidc_client).url, decision=None, credentials=bob_credentials)
        assert outcome.location is None and "Allow Time Attendance?" in outcome.page.text  # Ann's decision is hers
        bob_list = bob.get(f"{live.base}/consent", timeout=10)
        assert "Time Attendance" not in bob_list.text
        attempt = bob.post(f"{live.base}{action}", data={"csrf_token": csrf_token(outcome.page.text)}, timeout=10)
        assert "That permission was already revoked." in attempt.text
    assert "Time Attendance" in browser.get(f"{live.base}/consent", timeout=10).text


def test_consent_list_needs_a_signed_in_end_user(live, browser):
    response = browser.get(f"{live.base}/consent", allow_redirects=False, timeout=10)
    assert response.status_code == 302 and response.headers["Location"] == "/signin/erp?next=/consent"


def test_app_access_refusal_is_access_denied_with_the_reason(live, browser, make_client):
    client = make_client(name="Surveys", app="surveys")
    auth = start(live, client)
    outcome = drive(live, browser, auth.url)
    assert outcome.params == {
        "error": "access_denied",
        "error_description": NO_SEAT,
        "state": auth.state,
        "iss": live.base,
    }
    assert "app_access" in live.directory.calls


def test_a_client_of_another_subscription_is_refused(live, browser, make_client):
    client = make_client(name="Their app", subscription_id="othersub", subscription_gid="GID-O", bridge_id="X")
    outcome = drive(live, browser, start(live, client).url)
    assert outcome.params["error"] == "access_denied"
    assert outcome.params["error_description"] == "Their app belongs to another subscription."


@pytest.fixture
def endpoint_token_details(app):
    """A provider like the endpoint-token feature's: it speaks for requests that carry `token_type`."""
    seen = []

    def provider(client, params, user):
        seen.append((client.client_id, dict(params), user.sub))
        if "token_type" not in params:
            return None
        if params["token_type"] == "forbidden":
            from authserver.signin import SignInRefused

            raise SignInRefused("Only EBS administrators may create this endpoint token.")
        return [("Endpoint token", "Time Attendance clock (Demo_002)"), ("Registered in", "Company parameters")]

    app.extensions["consent_details"].append(provider)
    return seen


def test_provider_details_are_shown_and_never_remembered(live, browser, oidc_client, endpoint_token_details):
    drive(live, browser, start(live, oidc_client).url, remember=True)  # an ordinary remembered sign-in

    auth = start(live, oidc_client, token_type="clock")
    page = drive(live, browser, auth.url, decision=None).page
    assert "What will be created" in page.text and "Time Attendance clock (Demo_002)" in page.text
    assert "Remember this decision" not in page.text
    assert endpoint_token_details[-1][1]["token_type"] == "clock"

    outcome = drive(live, browser, auth.url, remember=True)
    assert outcome.params["code"]
    again = drive(live, browser, start(live, oidc_client, token_type="clock").url, decision=None)
    assert again.location is None and "What will be created" in again.page.text

    refused = drive(live, browser, start(live, oidc_client, token_type="forbidden").url)
    assert refused.params["error"] == "access_denied"
    assert refused.params["error_description"] == "Only EBS administrators may create this endpoint token."


def test_a_decision_counts_only_for_the_user_who_was_asked(live, browser, oidc_client, directory):
    directory.add(
        sub="su-2",
        subscription_id="roservices",
        user_id="bob",
        email="bob@example.com",
        name="Bob",
        password="Bob-pass-1",
    )
    asked = drive(live, browser, start(live, oidc_client).url, decision=None).page  # Ann is asked
    signin = browser.get(f"{live.base}/signin/erp", timeout=10)
    bob = {"login": "bob@example.com", "password": "Bob-pass-1", "company_id": "Demo_002", "branch_id": "001"}
    browser.post(signin.url, data={"csrf_token": csrf_token(signin.text), **bob}, timeout=10)  # Bob, same browser
    fresh_token = csrf_token(browser.get(f"{live.base}/signin/erp", timeout=10).text)

    stale = browser.post(
        asked.url,
        data={"csrf_token": csrf_token(asked.text), "decision": "allow", "sub": "su-1"},
        allow_redirects=False,
        timeout=10,
    )
    assert stale.status_code == 400  # the CSRF secret changed with the sign-in
    answer = browser.post(
        asked.url,
        data={"csrf_token": fresh_token, "decision": "allow", "sub": "su-1"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 200 and "Location" not in answer.headers  # asked again, as Bob
    assert 'name="sub" value="su-2"' in answer.text and ">Bob<" in answer.text
