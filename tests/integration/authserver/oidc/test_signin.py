"""The ERP sign-in page: refusals in the directory's words, what was typed kept, CSRF, rate limits, slow-down,
no open redirect, and a clear 503 when no ERP authenticator is configured."""

from __future__ import annotations

import pytest
import requests

from . import directory as d
from .conftest import ANN, csrf_token, drive, start


def _sign_in_page(live, browser, next_path=None):
    params = {"next": next_path} if next_path else {}
    page = browser.get(f"{live.base}/signin/erp", params=params, timeout=10)
    assert page.status_code == 200
    return page


def _post(live, browser, page, **fields):
    data = {**ANN, **fields}
    return browser.post(page.url, data={"csrf_token": csrf_token(page.text), **data}, allow_redirects=False, timeout=10)


def test_page_has_the_four_fields_and_a_branch_lookup(live, browser):
    page = _sign_in_page(live, browser)
    for label in (">User ID<", ">Password<", ">Company ID<", ">Branch ID<"):
        assert label in page.text
    assert 'data-branches-url="/signin/branches"' in page.text and "/signin/static/branches.js" in page.text
    assert 'type="text"' in page.text and 'id="branch_id"' in page.text  # works without JavaScript
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert browser.get(f"{live.base}/signin/static/branches.js", timeout=10).status_code == 200


@pytest.mark.parametrize(
    ("prepare", "fields", "message"),
    [
        (None, {"login": "nobody@example.com"}, d.UNKNOWN),
        (lambda directory: setattr(directory.users[0], "active", False), {}, d.INACTIVE),
        (lambda directory: setattr(directory.users[0], "status", "INVITED"), {}, d.NOT_VERIFIED),
        (None, {"company_id": "Demo_003"}, d.BRIDGE_UNVERIFIED),
        (None, {"company_id": "Nope"}, d.UNKNOWN_BRIDGE),
        (None, {"password": "wrong"}, d.WRONG_PASSWORD),
        (None, {"branch_id": "999"}, d.NO_BRANCH),
    ],
)
def test_refusals_show_the_authenticators_message_and_keep_what_was_typed(live, browser, prepare, fields, message):
    if prepare:
        prepare(live.directory)
    page = _sign_in_page(live, browser)
    response = _post(live, browser, page, **fields)
    assert response.status_code == 200 and message.replace("'", "&#39;") in response.text
    typed = {**ANN, **fields}
    for name in ("login", "company_id", "branch_id"):
        assert f'value="{typed[name]}"' in response.text
    assert typed["password"] not in response.text
    assert browser.get(f"{live.base}/consent", allow_redirects=False, timeout=10).status_code == 302  # not signed in


def test_erp_down_is_a_503_with_the_reason(live, browser):
    live.directory.down = True
    response = _post(live, browser, _sign_in_page(live, browser))
    assert response.status_code == 503 and "does not answer" in response.text


def test_sign_in_with_subscription_and_user_id(live, browser, oidc_client):
    credentials = {**ANN, "login": "roservices/esmaster", "branch_id": "002"}
    outcome = drive(live, browser, start(live, oidc_client).url, credentials=credentials)
    assert outcome.params["code"]


def test_form_needs_its_csrf_token_and_every_field(live, browser):
    page = _sign_in_page(live, browser)
    forged = browser.post(page.url, data=ANN, allow_redirects=False, timeout=10)
    assert forged.status_code == 400 and "The form has expired" in forged.text
    empty = _post(live, browser, page, login="", company_id="", branch_id="", password="")
    assert empty.status_code == 200
    for message in ("Enter your User ID", "Enter your ERP password.", "Enter the Company ID", "Enter the Branch ID."):
        assert message in empty.text
    assert "authenticate" not in live.directory.calls


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example.test/",
        "//evil.example.test/oauth/authorize",
        "/\\evil.example.test",
        "/register",
        "/oauth/token",
    ],
)
def test_next_only_returns_to_the_authorize_endpoint(live, browser, target):
    response = _post(live, browser, _sign_in_page(live, browser, target))
    assert response.status_code == 302 and response.headers["Location"] == "/consent"


def test_next_returns_to_the_authorization_request(live, browser):
    target = "/oauth/authorize?client_id=x&response_type=code"
    response = _post(live, browser, _sign_in_page(live, browser, target))
    assert response.headers["Location"] == target


def test_end_user_session_is_separate_and_rotated(live, browser):
    page = _sign_in_page(live, browser)
    old_token = csrf_token(page.text)
    _post(live, browser, page)
    listing = browser.get(f"{live.base}/consent", timeout=10)
    assert listing.status_code == 200 and "Ann Example" in listing.text
    stale = browser.post(
        f"{live.base}/signin/erp", data={"csrf_token": old_token, **ANN}, allow_redirects=False, timeout=10
    )
    assert stale.status_code == 400  # the CSRF secret changed with the sign-in
    assert browser.get(f"{live.base}/", timeout=10).text.count("Sign in") >= 1  # the portal sees no admin


@pytest.mark.parametrize("overrides", [{"END_USER_SESSION_MAX_AGE": 3}])
def test_end_user_session_has_a_maximum_age(live, browser, overrides):
    import time

    # Sign-in times are whole seconds, so the age may read up to a second high: keep well clear of the limit.
    _post(live, browser, _sign_in_page(live, browser))
    assert browser.get(f"{live.base}/consent", allow_redirects=False, timeout=10).status_code == 200
    time.sleep(4.1)
    assert browser.get(f"{live.base}/consent", allow_redirects=False, timeout=10).status_code == 302


def test_branch_lookup_offers_the_users_branches(live, browser):
    page = _sign_in_page(live, browser)
    headers = {"X-CSRFToken": csrf_token(page.text)}
    found = browser.post(
        f"{live.base}/signin/branches",
        json={"login": "ann@example.com", "company_id": "Demo_002"},
        headers=headers,
        timeout=10,
    )
    assert found.status_code == 200
    assert found.json() == {"branches": [{"id": "001", "name": "Head office"}, {"id": "002", "name": "Thessaloniki"}]}

    refused = browser.post(
        f"{live.base}/signin/branches",
        json={"login": "x@example.com", "company_id": "Demo_002"},
        headers=headers,
        timeout=10,
    )
    assert refused.status_code == 422 and refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json()["detail"] == d.UNKNOWN

    missing = browser.post(
        f"{live.base}/signin/branches", json={"login": "ann@example.com"}, headers=headers, timeout=10
    )
    assert missing.status_code == 422 and "company_id" in missing.json()["errors"]

    no_csrf = browser.post(
        f"{live.base}/signin/branches", json={"login": "ann@example.com", "company_id": "Demo_002"}, timeout=10
    )
    assert no_csrf.status_code == 400


@pytest.mark.parametrize("overrides", [{"PORTAL_RATE_LIMITS": True, "ERP_SIGNIN_LIMIT_PER_LOGIN": "3 per minute"}])
def test_sign_in_is_rate_limited_per_login(live, overrides):
    with requests.Session() as browser:
        page = _sign_in_page(live, browser)
        statuses = [_post(live, browser, page, password="wrong").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        other = _post(live, browser, page, login="someone@example.com")
        assert other.status_code == 200  # another User ID is not limited by Ann's attempts


@pytest.mark.parametrize("overrides", [{"PORTAL_RATE_LIMITS": True, "ERP_SIGNIN_LIMIT_PER_ADDRESS": "2 per minute"}])
def test_sign_in_is_rate_limited_per_address(live, overrides):
    with requests.Session() as browser:
        page = _sign_in_page(live, browser)
        statuses = [_post(live, browser, page, login=f"u{i}@example.com").status_code for i in range(3)]
        assert statuses == [200, 200, 429]
        limited = _post(live, browser, page, login="u9@example.com")
        assert limited.status_code == 429 and "Too many requests" in limited.text and limited.headers["Retry-After"]


@pytest.mark.parametrize("overrides", [{"SIGNIN_THROTTLE_FAILURES": 3, "SIGNIN_THROTTLE_DELAY": 60}])
def test_failures_slow_the_login_down_without_asking_the_erp(live, browser, overrides):
    page = _sign_in_page(live, browser)
    for _ in range(3):
        assert d.WRONG_PASSWORD in _post(live, browser, page, password="wrong").text
    calls = live.directory.calls.count("authenticate")
    throttled = _post(live, browser, page)  # even the right password waits
    assert throttled.status_code == 429 and "Too many failed sign-ins for this User ID." in throttled.text
    assert live.directory.calls.count("authenticate") == calls
    other_bridge = _post(live, browser, page, company_id="Demo_003")
    assert d.BRIDGE_UNVERIFIED in other_bridge.text  # counted per User ID and Company ID


@pytest.fixture
def no_authenticator(app):
    app.extensions.pop("erp_authenticator")


def test_without_an_authenticator_the_page_says_sign_in_is_not_configured(live, browser, oidc_client, no_authenticator):
    page = browser.get(f"{live.base}/signin/erp", timeout=10)
    assert page.status_code == 503 and "ERP sign-in is not configured on this server" in page.text
    outcome = drive(live, browser, start(live, oidc_client).url)
    assert outcome.location is None and outcome.page.status_code == 503
    lookup = browser.post(f"{live.base}/signin/branches", json={}, timeout=10)
    assert lookup.status_code in (400, 503)
