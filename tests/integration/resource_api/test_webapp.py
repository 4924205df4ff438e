"""The apps' own pages: a user signs in to Time Attendance through the real auth server (live on a free port,
its catalogue apps provisioned as clients), sees only their subscription and bridge's punches, is told why when
refused, and signs out here and at the auth server. The user's browser is played by `requests` on the auth
server and by Flask's test client on the resource API (whose address is https://apps.example.test)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask

from authserver.extensions import db
from authserver.store.catalogue.app_clients import ensure_app_clients
from authserver.store.catalogue.seed import seed_catalogue
from resource_api import create_app
from resource_api.attendance.service import ingest_punches
from resource_api.webapp.service import PUNCHES_PER_PAGE
from shared.db import upgrade_db
from tests.integration.authserver.oidc import conftest as oidc
from tests.integration.authserver.oidc.conftest import csrf_token, drive, query
from tests.integration.authserver.oidc.directory import NO_SEAT
from tests.integration.resource_api.tokens import TokenMint

# The auth server's fixtures: a live server at its issuer address with the in-memory ERP directory.
_server, app, directory, live, overrides = oidc._server, oidc.app, oidc.directory, oidc.live, oidc.overrides

PAGES = "https://apps.example.test"
HOME = f"{PAGES}/apps/time-attendance/"


@pytest.fixture
def pages(live, directory, database_url) -> Flask:
    """The resource API with the apps' clients the auth server provisioned, and punches of two tenants; the
    directory's user holds a seat of each app."""
    directory.users[0].apps = {"time-attendance", "app-insights", "surveys"}
    seed_catalogue(session=db.session)
    clients = ensure_app_clients(session=db.session, resource_api_url=PAGES)
    pages = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,  # the services' tables have distinct names, as in CI
            "AUTH_SERVER_URL": live.base,
            "RESOURCE_API_URL": PAGES,
            "APP_CLIENTS": {
                c.code: {"client_id": c.client_id, "client_secret": c.client_secret} for c in clients.values()
            },
        }
    )
    with pages.app_context():
        upgrade_db()
        start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
        for tenant, employee, count in (("roservices", "1001", PUNCHES_PER_PAGE + 2), ("othersub", "6666", 1)):
            ingest_punches(
                session=pages.extensions["sqlalchemy"].session,
                subscription_id=tenant,
                bridge_id="Demo_002",
                device_serial="SN1",
                device_code="EL-1",
                punches=[
                    {"employeeCode": employee, "timestamp": start + timedelta(minutes=n), "direction": "in"}
                    for n in range(count)
                ],
            )
    yield pages
    with pages.app_context():
        pages.extensions["sqlalchemy"].engine.dispose()


def _sign_in(live, pages, browser, code="time-attendance", **drive_kwargs):
    """Press Sign in on the app's page and follow the auth server's pages; return the callback's answer."""
    home = f"{PAGES}/apps/{code}/"
    rp = pages.test_client()
    start = rp.get(f"/apps/{code}/signin", base_url=PAGES)
    assert start.status_code == 302 and start.headers["Location"].startswith(f"{live.base}/oauth/authorize?")
    sent = query(start.headers["Location"])
    assert sent["code_challenge_method"] == "S256" and sent["nonce"] and sent["redirect_uri"] == home + "callback"
    outcome = drive(live, browser, start.headers["Location"], **drive_kwargs)
    assert outcome.location and outcome.location.startswith(home + "callback?")
    return rp, rp.get(outcome.location.removeprefix(PAGES), base_url=PAGES)


def test_sign_in_shows_the_tenants_punches_and_sign_out_ends_both_sessions(live, pages):
    with requests.Session() as browser:
        rp, back = _sign_in(live, pages, browser)
        assert back.status_code == 303 and back.headers["Location"] == HOME
        cookie = back.headers["Set-Cookie"]
        assert cookie.startswith("cloudstore_apps=") and "Path=/apps/" in cookie
        assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
        page = rp.get("/apps/time-attendance/", base_url=PAGES)
        text = page.get_data(as_text=True)
        assert page.status_code == 200 and "Ann Example" in text and "roservices / Demo_002" in text
        assert text.count('data-testid="punch"') == PUNCHES_PER_PAGE
        assert "1001" in text and "6666" not in text  # only the ID token's tenant
        assert "Page 1 of 2 (52 punches)" in text and "Waiting for delivery" in text
        assert (
            page.headers["Cache-Control"] == "no-store"
            and "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
        )
        second = rp.get("/apps/time-attendance/?page=2", base_url=PAGES).get_data(as_text=True)
        assert second.count('data-testid="punch"') == 2 and "Page 2 of 2" in second
        assert rp.get("/apps/time-attendance/?page=abc", base_url=PAGES).status_code == 200

        assert rp.post("/apps/time-attendance/signout", base_url=PAGES).status_code == 400  # no CSRF token
        signout = rp.post("/apps/time-attendance/signout", data={"csrf_token": csrf_token(text)}, base_url=PAGES)
        assert signout.status_code == 302
        end_session = signout.headers["Location"]
        assert end_session.startswith(f"{live.base}/oauth/end-session?")
        assert query(end_session)["post_logout_redirect_uri"] == HOME and query(end_session)["id_token_hint"]
        assert "Sign in</a>" in rp.get("/apps/time-attendance/", base_url=PAGES).get_data(as_text=True)

        back_home = browser.get(end_session, allow_redirects=False, timeout=10)
        assert back_home.status_code in (302, 303) and back_home.headers["Location"].startswith(HOME + "?")
        landing = rp.get(back_home.headers["Location"].removeprefix(PAGES), base_url=PAGES).get_data(as_text=True)
        assert "You have signed out." in landing and "Sign in</a>" in landing
        # The auth server's session ended too: signing in again asks for the ERP credentials.
        again = rp.get("/apps/time-attendance/signin", base_url=PAGES)
        outcome = drive(live, browser, again.headers["Location"], sign_in=False)
        assert outcome.location is None and urlsplit(outcome.page.url).path == "/signin/erp"


def test_a_user_without_a_seat_sees_why_on_the_app_page(live, pages, directory):
    directory.users[0].apps = {"surveys", "app-insights"}
    with requests.Session() as browser:
        rp, back = _sign_in(live, pages, browser)
    text = back.get_data(as_text=True)
    assert back.status_code == 403 and NO_SEAT.replace("'", "&#39;") in text
    assert "Sign in</a>" in text and 'data-testid="punch"' not in text
    assert "Sign in</a>" in rp.get("/apps/time-attendance/", base_url=PAGES).get_data(as_text=True)


def test_deny_on_the_consent_page_is_shown(live, pages):
    with requests.Session() as browser:
        _, back = _sign_in(live, pages, browser, decision="deny")
    assert back.status_code == 403 and 'role="alert"' in back.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/apps/time-attendance/callback",
        "/apps/time-attendance/callback?code=forged&state=forged",
        "/apps/time-attendance/callback?error=server_error&state=x",
    ],
)
def test_a_callback_that_was_not_asked_for_is_refused_with_a_page(pages, path):
    answer = pages.test_client().get(path, base_url=PAGES)
    assert answer.status_code == 400 and 'role="alert"' in answer.get_data(as_text=True)
    assert answer.mimetype == "text/html"


def test_unknown_apps_and_apps_without_a_client_get_pages(live, pages, tmp_path):
    assert pages.test_client().get("/apps/nothing-here/", base_url=PAGES).status_code == 404
    bare = create_app(
        {"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'bare.db'}", "AUTH_SERVER_URL": live.base}
    )
    answer = bare.test_client().get("/apps/surveys/signin")
    assert answer.status_code == 503 and "not set up" in answer.get_data(as_text=True)


def test_the_pages_stay_out_of_the_openapi_document(pages):
    paths = pages.test_client().get("/openapi.json").get_json()["paths"]
    assert paths and not [path for path in paths if path.startswith("/apps")]


def _feed(pages, tenant: str, description: str) -> None:
    """A campaign with one answered question and two application events, sent through the API with a key."""
    mint = TokenMint()
    mint.install(pages)
    headers = mint.headers(scope="surveys:write insights:write", subscription_id=tenant, bridge_id="Demo_002")
    api = pages.test_client()
    gid = str(uuid.uuid5(uuid.NAMESPACE_URL, tenant))
    line = {"seqNum": 10, "code": "HAPPY", "description": "Happy with us?", "pType": 4, "mandatory": True}
    line["choices"] = [{"code": "yes", "description": "Yes"}, {"code": "no", "description": "No"}]
    campaign = {"description": description, "propertySet": {"code": "CSAT", "description": "CSAT", "lines": [line]}}
    assert api.put(f"/v1/surveys/campaigns/{gid}", json=campaign, headers=headers).status_code == 201
    answer = {"respondent": "cust-1", "answers": {"HAPPY": "yes"}}
    assert api.post(f"/v1/surveys/campaigns/{gid}/responses", json=answer, headers=headers).status_code == 201
    now = datetime.now(UTC).isoformat()
    events = [
        {"eventType": kind, "applicationServer": "EAS-01", "message": "m", "triggeredOn": now}
        for kind in ("Usage", "RestartAppServer")
    ]
    assert api.post("/v1/insights/events", json={"events": events}, headers=headers).status_code in (200, 202)


def test_surveys_and_insights_pages_show_the_tenants_data(live, pages):
    _feed(pages, "roservices", "Ours: satisfaction Q2")
    _feed(pages, "othersub", "Theirs: secret campaign")
    with requests.Session() as browser:
        rp, back = _sign_in(live, pages, browser, code="surveys")
        assert back.status_code == 303
        text = rp.get("/apps/surveys/", base_url=PAGES).get_data(as_text=True)
        assert "Ours: satisfaction Q2" in text and "Theirs" not in text
        assert "Happy with us?" in text and '<strong data-testid="responses">1</strong>' in text
        stale = rp.get("/apps/surveys/?campaign=not-a-campaign", base_url=PAGES)
        assert stale.status_code == 200 and "Ours: satisfaction Q2" in stale.get_data(as_text=True)

        rp, back = _sign_in(live, pages, browser, code="app-insights")
        assert back.status_code == 303
        page = rp.get("/apps/app-insights/", base_url=PAGES)
        text = page.get_data(as_text=True)
        assert '<strong data-testid="insights-total">2</strong>' in text and "<svg" in text
        assert "RestartAppServer" in text and "Usage" in text
        # Signed in to Insights only in this browser: Time Attendance still asks to sign in.
        assert "Sign in</a>" in rp.get("/apps/time-attendance/", base_url=PAGES).get_data(as_text=True)
