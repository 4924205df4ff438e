"""Sign-in: no enumeration, slow-down after failures, rate limits, sign-out, access decorators."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from authserver.accounts.access import admin_required, operator_required
from authserver.accounts.models import AdminAccount
from authserver.extensions import db

from .conftest import account_row, audit_events, page_text, register, registered_and_confirmed, sign_in

GENERIC = "Incorrect e-mail or password."
WRONG = "Wr0ng!pass"


def _rewind_failures(app, email: str, seconds: int) -> None:
    """Pretend the last failed sign-in happened `seconds` earlier than recorded."""
    last = account_row(app, email).last_failed_at
    with app.app_context():
        db.session.execute(
            update(AdminAccount)
            .where(AdminAccount.email_normalized == email)
            .values(last_failed_at=last - timedelta(seconds=seconds))
        )
        db.session.commit()


def test_unknown_email_and_wrong_password_get_the_same_answer(client, inbox, portal):
    registered_and_confirmed(client, inbox, "ann@example.com")
    visitor = portal.test_client()
    known = sign_in(visitor, "ann@example.com", WRONG)
    unknown = sign_in(visitor, "nobody@example.com", WRONG)
    assert known.status_code == unknown.status_code == 200
    assert GENERIC in page_text(known)
    assert page_text(known).replace("ann@example.com", "X") == page_text(unknown).replace("nobody@example.com", "X")
    assert WRONG not in known.get_data(as_text=True)


def test_signin_keeps_the_typed_email_and_requires_both_fields(client):
    response = client.post("/signin", data={"email": "Ann@Example.com", "password": ""})
    assert 'value="Ann@Example.com"' in response.get_data(as_text=True)
    assert "Enter your password." in page_text(response)


def test_slow_down_after_five_failures_then_growing_wait(client, inbox, portal):
    registered_and_confirmed(client, inbox, "ann@example.com")
    for _ in range(5):
        assert GENERIC in page_text(sign_in(client, "ann@example.com", WRONG))
    assert account_row(portal, "ann@example.com").failed_sign_ins == 5

    # even the right password is refused now, with the same generic message
    refused = sign_in(client, "ann@example.com")
    assert refused.status_code == 200 and GENERIC in page_text(refused)
    assert account_row(portal, "ann@example.com").failed_sign_ins == 5  # refused attempts are not counted

    _rewind_failures(portal, "ann@example.com", 31)  # the first wait is 30 s
    assert GENERIC in page_text(sign_in(client, "ann@example.com", WRONG))  # sixth failure: the wait doubles
    _rewind_failures(portal, "ann@example.com", 31)
    assert GENERIC in page_text(sign_in(client, "ann@example.com"))
    _rewind_failures(portal, "ann@example.com", 30)
    assert sign_in(client, "ann@example.com").status_code == 302
    account = account_row(portal, "ann@example.com")
    assert account.failed_sign_ins == 0 and account.last_failed_at is None
    reasons = [e.details.get("reason") for e in audit_events(portal) if e.event == "account.signin_failed"]
    assert reasons == ["password"] * 5 + ["throttled", "password", "throttled"]


def test_failures_older_than_the_window_are_forgotten(client, inbox, portal):
    registered_and_confirmed(client, inbox, "ann@example.com")
    for _ in range(5):
        sign_in(client, "ann@example.com", WRONG)
    _rewind_failures(portal, "ann@example.com", 901)
    sign_in(client, "ann@example.com", WRONG)
    assert account_row(portal, "ann@example.com").failed_sign_ins == 1
    assert sign_in(client, "ann@example.com").status_code == 302


def test_throttle_settings_come_from_config(make_app, inbox):
    app = make_app(SIGNIN_THROTTLE_FAILURES=2, SIGNIN_THROTTLE_DELAY=600)
    client = app.test_client()
    registered_and_confirmed(client, inbox, "ann@example.com")
    sign_in(client, "ann@example.com", WRONG)
    sign_in(client, "ann@example.com", WRONG)
    _rewind_failures(app, "ann@example.com", 300)
    assert sign_in(client, "ann@example.com").status_code == 200
    _rewind_failures(app, "ann@example.com", 301)
    assert sign_in(client, "ann@example.com").status_code == 302


def test_rate_limits_are_off_in_tests_unless_turned_on(make_app):
    client = make_app(SIGNIN_LIMIT_PER_ADDRESS="2 per minute").test_client()
    assert all(sign_in(client, "nobody@example.com", WRONG).status_code == 200 for _ in range(4))


def test_signin_is_rate_limited_per_address(make_app):
    app = make_app(PORTAL_RATE_LIMITS=True, SIGNIN_LIMIT_PER_ADDRESS="3 per minute")
    client = app.test_client()
    statuses = [sign_in(client, f"user{i}@example.com", WRONG).status_code for i in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = sign_in(client, "other@example.com", WRONG)
    assert "Too many requests. Wait a little and try again." in page_text(limited)
    assert int(limited.headers["Retry-After"]) > 0
    assert client.get("/signin").status_code == 200  # showing the form is not limited
    other_address = sign_in(client, "user0@example.com", WRONG, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other_address.status_code == 200


def test_signin_is_rate_limited_per_email(make_app):
    app = make_app(PORTAL_RATE_LIMITS=True, SIGNIN_LIMIT_PER_EMAIL="2 per minute")
    client = app.test_client()
    statuses = [
        sign_in(client, "Ann@Example.com ", WRONG, environ_base={"REMOTE_ADDR": f"10.0.0.{i}"}).status_code
        for i in range(3)
    ]
    assert statuses == [200, 200, 429]  # the address is the same however it is typed, from any client
    assert sign_in(client, "bob@example.com", WRONG).status_code == 200


def test_mail_sending_forms_share_a_limit_per_email(make_app, inbox):
    app = make_app(PORTAL_RATE_LIMITS=True, MAIL_LIMIT_PER_EMAIL="2 per hour")
    client = app.test_client()
    assert register(client, "ann@example.com").status_code == 302
    assert client.post("/forgot-password", data={"email": "ann@example.com"}).status_code == 302
    assert client.post("/forgot-password", data={"email": "ann@example.com"}).status_code == 429
    assert len(inbox.to("ann@example.com")) == 2
    assert client.post("/forgot-password", data={"email": "bob@example.com"}).status_code == 302


def test_resend_shares_the_mail_limit_per_address(make_app, inbox):
    client = make_app(PORTAL_RATE_LIMITS=True, MAIL_LIMIT_PER_ADDRESS="2 per hour").test_client()
    register(client, "ann@example.com")
    page = sign_in(client, "ann@example.com").get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page)[1]
    data = {"token": token, "email": "ann@example.com"}
    assert client.post("/confirm/resend", data=data).status_code == 302
    assert client.post("/confirm/resend", data=data).status_code == 429
    assert len(inbox.to("ann@example.com")) == 2


def test_signed_in_admins_skip_the_sign_in_and_register_pages(client, inbox):
    registered_and_confirmed(client, inbox, "ann@example.com")
    sign_in(client, "ann@example.com")
    assert client.get("/signin").location == "/"
    assert client.get("/register").location == "/"


def test_sign_out_is_a_post_that_ends_the_session(client, inbox, portal):
    registered_and_confirmed(client, inbox, "ann@example.com")
    sign_in(client, "ann@example.com")
    assert client.get("/signout").status_code == 405
    assert "My subscription" in page_text(client.get("/"))
    response = client.post("/signout")
    assert response.status_code == 302 and response.location == "/"
    home = page_text(client.get("/"))
    assert "You have signed out." in home and "Register" in home and "My subscription" not in home
    assert audit_events(portal)[-1].event == "account.signout"


@pytest.fixture
def guarded(make_app):
    """An app with two extra pages behind the access decorators."""
    app = make_app()
    app.add_url_rule("/_t/admin", "t_admin", admin_required(lambda: "admin page"))
    app.add_url_rule("/_t/operator", "t_operator", operator_required(lambda: "operator page"))
    return app


def test_admin_required_sends_visitors_to_sign_in_and_back(guarded, inbox):
    client = guarded.test_client()
    response = client.get("/_t/admin")
    assert response.status_code == 302 and response.location.startswith("/signin?next=")
    assert "Sign in to see that page." in page_text(client.get(response.location))
    registered_and_confirmed(client, inbox, "ann@example.com")
    back = sign_in(client, "ann@example.com", query_string={"next": "/_t/admin"})
    assert back.location == "/_t/admin"
    assert client.get("/_t/admin").get_data(as_text=True) == "admin page"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"])
def test_next_never_leaves_the_site(client, inbox, target):
    registered_and_confirmed(client, inbox, "ann@example.com")
    assert sign_in(client, "ann@example.com", query_string={"next": target}).location == "/"


def test_operator_required_refuses_admins_until_promoted(guarded, inbox):
    client = guarded.test_client()
    registered_and_confirmed(client, inbox, "ann@example.com")
    sign_in(client, "ann@example.com")
    refused = client.get("/_t/operator")
    assert refused.status_code == 403 and "Your account may not open this page." in page_text(refused)
    result = guarded.test_cli_runner().invoke(args=["accounts", "set-role", "ANN@example.com", "operator"])
    assert result.exit_code == 0 and "is now operator" in result.output
    assert client.get("/_t/operator").get_data(as_text=True) == "operator page"
    assert client.get("/_t/admin").status_code == 200  # operators use the portal too
    unknown = guarded.test_cli_runner().invoke(args=["accounts", "set-role", "nobody@example.com", "operator"])
    assert unknown.exit_code != 0


def test_time_helpers_treat_stored_times_as_utc(portal, client, inbox):
    registered_and_confirmed(client, inbox, "ann@example.com")
    sign_in(client, "ann@example.com")
    last = account_row(portal, "ann@example.com").last_signin_at
    moment = last if last.tzinfo else last.replace(tzinfo=UTC)
    assert datetime.now(UTC) - moment < timedelta(minutes=1)
