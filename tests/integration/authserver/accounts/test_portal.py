"""The portal frame: landing and dashboard, security headers, cookies, CSRF, audit log, no passwords in logs."""

from __future__ import annotations

import logging
import re

import pytest

from authserver import audit
from authserver.extensions import db

from .conftest import STRONG, page_text, register, registered_and_confirmed, sign_in


def test_landing_page_offers_register_and_sign_in(client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'href="/register"' in html and 'href="/signin"' in html and "Cloud Store" in html
    assert "My subscription" not in html and "Sign out" not in html


def test_dashboard_leads_to_subscriptions_and_the_store(client, inbox):
    registered_and_confirmed(client, inbox, "ann@example.com")
    sign_in(client, "ann@example.com")
    html = client.get("/").get_data(as_text=True)
    assert "My subscription" in html
    assert 'href="/subscriptions/new"' in html and "Create New Subscription" in html
    nav = html.split('<nav class="site-nav"', 1)[1].split("</nav>", 1)[0]
    assert "My subscription" in nav and "Sign out" in nav and "ann@example.com" in nav
    assert "All Apps" in nav


@pytest.mark.parametrize("path", ["/", "/register", "/signin", "/forgot-password", "/register/check-email"])
def test_pages_carry_security_headers(client, path):
    response = client.get(path)
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
    assert "http" not in csp  # no external sources
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_pages_load_nothing_from_elsewhere(client):
    for path in ("/", "/register", "/signin"):
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r'(src|href)="(https?:)?//', html), path
        assert "<script" not in html and "style=" not in html  # the CSP forbids inline code and styles
    with client.get("/static/app.css") as css:
        assert css.status_code == 200 and css.mimetype == "text/css"


def test_json_endpoints_get_nosniff_but_keep_their_caching(client):
    response = client.get("/.well-known/jwks.json")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert "Content-Security-Policy" not in response.headers


def test_session_cookie_is_secure_httponly_lax_for_https_issuer(client, inbox):
    registered_and_confirmed(client, inbox, "ann@example.com")
    cookie = sign_in(client, "ann@example.com").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_session_cookie_is_not_secure_for_http_issuer(make_app, inbox):
    client = make_app(ISSUER="http://127.0.0.1:8000").test_client()
    registered_and_confirmed(client, inbox, "ann@example.com")
    cookie = sign_in(client, "ann@example.com").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def _csrf_token(client, path):
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get(path).get_data(as_text=True))[1]


@pytest.fixture
def csrf_client(make_app):
    return make_app(WTF_CSRF_ENABLED=True).test_client()


@pytest.mark.parametrize("path", ["/register", "/signin", "/forgot-password", "/confirm/resend"])
def test_posts_without_csrf_token_are_refused(csrf_client, inbox, path):
    response = csrf_client.post(path, data={"email": "ann@example.com", "password": STRONG, "confirm_password": STRONG})
    assert response.status_code == 400
    assert "The form has expired" in page_text(response)
    assert not inbox.messages


def test_posts_with_csrf_token_are_accepted(csrf_client, inbox):
    token = _csrf_token(csrf_client, "/register")
    data = {"email": "ann@example.com", "password": STRONG, "confirm_password": STRONG, "csrf_token": token}
    assert csrf_client.post("/register", data=data).status_code == 302
    assert csrf_client.post("/register", data={**data, "csrf_token": "forged"}).status_code == 400


def test_sign_out_needs_the_csrf_token(csrf_client, inbox):
    token = _csrf_token(csrf_client, "/register")
    csrf_client.post(
        "/register",
        data={"email": "ann@example.com", "password": STRONG, "confirm_password": STRONG, "csrf_token": token},
    )
    body = inbox.last_to("ann@example.com").get_body(("plain",)).get_content()
    csrf_client.get(re.search(r"https://auth\.example\.test(/confirm/\S+)", body)[1])
    token = _csrf_token(csrf_client, "/signin")
    signed_in = csrf_client.post("/signin", data={"email": "ann@example.com", "password": STRONG, "csrf_token": token})
    assert signed_in.status_code == 302
    assert csrf_client.post("/signout").status_code == 400
    assert "My subscription" in page_text(csrf_client.get("/"))
    nav_token = re.search(r'name="csrf_token" value="([^"]+)"', csrf_client.get("/").get_data(as_text=True))[1]
    assert csrf_client.post("/signout", data={"csrf_token": nav_token}).status_code == 302
    assert "My subscription" not in page_text(csrf_client.get("/"))


def test_client_authenticated_endpoints_are_not_csrf_checked(csrf_client):
    response = csrf_client.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert "The form has expired" not in response.get_data(as_text=True)
    assert response.status_code != 400 or response.is_json


def test_passwords_never_reach_the_logs(client, inbox, caplog):
    caplog.set_level(logging.DEBUG)
    registered_and_confirmed(client, inbox, "ann@example.com")
    sign_in(client, "ann@example.com", "Wr0ng!pass")
    sign_in(client, "ann@example.com")
    client.post("/forgot-password", data={"email": "ann@example.com"})
    # everything the product logged (mail.log is the test's SMTP server, which sees the message by design)
    logged = "\n".join(record.getMessage() for record in caplog.records if record.name != "mail.log")
    assert STRONG not in logged and "Wr0ng!pass" not in logged
    assert "/confirm/" not in logged and "/reset-password/" not in logged


def test_audit_record_and_list(portal):
    with portal.app_context():
        for number, sub in enumerate([1, 2, 1, None]):
            audit.record(
                session=db.session, event=f"test.{number}", actor=audit.account_actor(7), subscription_id=sub, ip="::1"
            )
        audit.record(session=db.session, event="test.system", actor=audit.SYSTEM, subscription_id=2, bridge="Demo_002")
        db.session.commit()
        events = audit.list_events(session=db.session, subscription_ids=[1, 2])
        assert [e.event for e in events] == ["test.system", "test.2", "test.1", "test.0"]
        assert events[0].details == {"bridge": "Demo_002"} and events[0].actor == "system"
        assert [e.event for e in audit.list_events(session=db.session, subscription_ids=[1], limit=1)] == ["test.2"]
        assert len(audit.list_events(session=db.session, actor="account:7")) == 4
        assert [e.event for e in audit.list_events(session=db.session, events=["test.3"])] == ["test.3"]
        assert events[-1].ip == "::1" and events[-1].occurred_at is not None


@pytest.mark.parametrize("name", ["password", "new_password", "client_secret", "token", "code", "api_key"])
def test_audit_refuses_secret_details(portal, name):
    with portal.app_context(), pytest.raises(ValueError):
        audit.record(session=db.session, event="test", actor=audit.SYSTEM, **{name: "x"})


def test_typed_email_survives_a_failed_registration(client):
    response = register(client, "Zoë.Smith+cloud@Example.com", "short")
    assert 'value="Zoë.Smith+cloud@Example.com"' in response.get_data(as_text=True)
