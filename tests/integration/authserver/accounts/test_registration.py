"""Register → confirmation e-mail over real SMTP → confirm → sign in; the policy matrix; expired and used links."""

from __future__ import annotations

import re
import time

import pytest
from itsdangerous import TimestampSigner

from authserver.accounts.tokens import CONFIRM, token_payload, token_serializer

from .conftest import (
    STRONG,
    account_row,
    audit_events,
    link_in,
    page_text,
    register,
    registered_and_confirmed,
    sign_in,
)

POLICY_MESSAGES = {
    "length": "Must be at least 8 characters long.",
    "lower": "Must contain a lowercase letter.",
    "upper": "Must contain an uppercase letter.",
    "digit": "Must contain a digit.",
    "symbol": "Must contain one of the symbols ! @ # $ & *.",
}


@pytest.mark.parametrize(
    ("password", "broken"),
    [
        ("Sh0rt!", {"length"}),
        ("NOLOWER1!", {"lower"}),
        ("noupper1!", {"upper"}),
        ("NoDigits!", {"digit"}),
        ("NoSymbol12", {"symbol"}),
        ("Has%Other1", {"symbol"}),  # other symbols are allowed but do not count
        ("abc", {"length", "upper", "digit", "symbol"}),
        ("", set()),  # empty: only "Enter a password."
    ],
)
def test_password_policy_names_each_broken_rule(client, inbox, password, broken):
    response = register(client, "ann@example.com", password)
    assert response.status_code == 200
    text = page_text(response)
    for rule, message in POLICY_MESSAGES.items():
        assert (message in text) == (rule in broken), (rule, text)
    if not password:
        assert "Enter a password." in text
    assert 'value="ann@example.com"' in response.get_data(as_text=True)  # the typed e-mail stays
    assert not inbox.messages


@pytest.mark.parametrize("password", ["Str0ng!pass", "aB3$eeee", "Zz9*zzzz", "Ωmega#123"])
def test_passwords_that_meet_the_policy_are_accepted(client, inbox, password):
    assert register(client, "ann@example.com", password).status_code == 302
    assert inbox.last_to("ann@example.com")


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "Enter your e-mail address."),
        ("not-an-email", "Enter a valid e-mail address"),
        ("ann@localhost", "Enter a valid e-mail address"),
        ("ann@@example.com", "Enter a valid e-mail address"),
        ("ann,bob@example.com", "Enter a valid e-mail address"),
        ("ann @example.com", "Enter a valid e-mail address"),
        ("a" * 250 + "@example.com", "Enter a valid e-mail address"),
    ],
)
def test_email_format_is_checked(client, inbox, email, message):
    response = register(client, email)
    assert response.status_code == 200
    assert message in page_text(response)
    assert not inbox.messages


def test_confirm_mismatch_keeps_email_and_never_echoes_passwords(client):
    response = register(client, "Ann@Example.com", STRONG, confirm="Str0ng!pasS")
    html = response.get_data(as_text=True)
    assert "The passwords do not match." in page_text(response)
    assert 'value="Ann@Example.com"' in html
    assert STRONG not in html and "Str0ng!pasS" not in html


def test_register_confirm_and_sign_in_through_real_smtp(client, inbox, portal):
    response = register(client, "Ann@Example.com")
    assert response.status_code == 302 and response.location == "/register/check-email"
    assert "We sent an e-mail to Ann@Example.com" in page_text(client.get(response.location))
    message = inbox.last_to("Ann@Example.com")
    assert message["Subject"] == "Confirm your Cloud Store account"
    assert message["From"] == "Cloud Store <no-reply@localhost>"
    assert inbox.logins == ["mailer"]  # the credentials from SMTP_URL were used
    html = message.get_body(preferencelist=("html",)).get_content()
    link = link_in(message, "confirm")
    assert link in html and "https://auth.example.test" + link in message.get_body(("plain",)).get_content()
    assert "expires in 2 days" in message.get_body(("plain",)).get_content()

    before = sign_in(client, "ann@example.com")
    assert before.status_code == 200 and "not confirmed yet" in page_text(before)

    confirmed = client.get(link)
    assert confirmed.status_code == 302 and confirmed.location == "/signin"
    assert "Your e-mail address is confirmed" in page_text(client.get("/signin"))
    account = account_row(portal, "ann@example.com")
    assert account.confirmed_at is not None and account.email == "Ann@Example.com"
    assert account.password_hash.startswith("$argon2id$")

    signed_in = sign_in(client, "ANN@example.com")
    assert signed_in.status_code == 302 and signed_in.location == "/"
    assert "My subscription" in page_text(client.get("/"))
    events = [e.event for e in audit_events(portal)]
    assert events == ["account.registered", "account.signin_failed", "account.confirmed", "account.signin"]


def test_confirmation_link_works_once(client, inbox):
    register(client, "ann@example.com")
    link = link_in(inbox.last_to("ann@example.com"), "confirm")
    assert client.get(link).status_code == 302
    again = client.get(link)
    assert again.status_code == 400
    assert "expired or was already used" in page_text(again)


def test_expired_confirmation_link_is_refused(client, inbox, portal):
    register(client, "ann@example.com")
    account = account_row(portal, "ann@example.com")

    class ThreeDaysAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 3 * 86400

    old = token_serializer(secret_key=portal.secret_key, purpose=CONFIRM, signer=ThreeDaysAgo).dumps(
        token_payload(account)
    )
    response = client.get(f"/confirm/{old}")
    assert response.status_code == 400 and "expired or was already used" in page_text(response)
    assert account_row(portal, "ann@example.com").confirmed_at is None
    # the fresh link from the e-mail still works
    assert client.get(link_in(inbox.last_to("ann@example.com"), "confirm")).status_code == 302


def _signed_seconds_ago(app, account, seconds):
    class Past(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - seconds

    return token_serializer(secret_key=app.secret_key, purpose=CONFIRM, signer=Past).dumps(token_payload(account))


def test_confirm_link_lifetime_comes_from_config(make_app, inbox):
    app = make_app(CONFIRM_LINK_MAX_AGE=60)
    client = app.test_client()
    register(client, "ann@example.com")
    assert "expires in 1 minute" in inbox.last_to("ann@example.com").get_body(("plain",)).get_content()
    account = account_row(app, "ann@example.com")
    assert client.get(f"/confirm/{_signed_seconds_ago(app, account, 120)}").status_code == 400
    assert client.get(f"/confirm/{_signed_seconds_ago(app, account, 30)}").status_code == 302


@pytest.mark.parametrize("token", ["garbage", "eyJhIjoxfQ.AAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAA"])
def test_forged_confirmation_links_are_refused(client, token):
    assert client.get(f"/confirm/{token}").status_code == 400


def test_a_reset_link_does_not_confirm_through_the_confirm_page(client, inbox):
    register(client, "ann@example.com")
    client.post("/forgot-password", data={"email": "ann@example.com"})
    reset_token = link_in(inbox.last_to("ann@example.com"), "reset-password").rsplit("/", 1)[1]
    assert client.get(f"/confirm/{reset_token}").status_code == 400


def test_registering_a_known_address_reveals_nothing_and_warns_its_owner(client, inbox, portal):
    registered_and_confirmed(client, inbox, "ann@example.com")
    visitor = portal.test_client()
    first = page_text(visitor.get(register(visitor, "bob@example.com").location))
    second_response = register(visitor, "ANN@example.com", "Diff3rent!pw")
    assert second_response.status_code == 302 and second_response.location == "/register/check-email"
    second = page_text(visitor.get(second_response.location))
    assert first.replace("bob@example.com", "X") == second.replace("ANN@example.com", "X")
    notice = inbox.last_to("ann@example.com")
    assert notice["Subject"] == "Someone tried to register with your e-mail address"
    assert "/forgot-password" in notice.get_body(("plain",)).get_content()
    # the existing account is untouched: the old password still signs in, the new one does not
    assert sign_in(client, "ann@example.com", "Diff3rent!pw").status_code == 200
    assert sign_in(client, "ann@example.com").status_code == 302


def test_registering_again_before_confirming_sends_a_new_link(client, inbox):
    register(client, "ann@example.com")
    register(client, "ann@example.com")
    messages = inbox.to("ann@example.com")
    assert [m["Subject"] for m in messages] == ["Confirm your Cloud Store account"] * 2
    assert client.get(link_in(messages[-1], "confirm")).status_code == 302


def test_unconfirmed_sign_in_offers_a_resend_that_mails_a_new_link(client, inbox):
    register(client, "ann@example.com")
    response = sign_in(client, "ann@example.com")
    text = page_text(response)
    assert "Your e-mail address is not confirmed yet." in text
    assert "Resend confirmation e-mail" in text
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', response.get_data(as_text=True)).group(1)
    resent = client.post("/confirm/resend", data={"token": token, "email": "ann@example.com"})
    assert resent.status_code == 302 and resent.location == "/signin"
    assert "We sent a new confirmation link to ann@example.com." in page_text(client.get("/signin"))
    assert len(inbox.to("ann@example.com")) == 2
    assert client.get(link_in(inbox.last_to("ann@example.com"), "confirm")).status_code == 302
    # once confirmed, the resend button's token is spent
    client.post("/confirm/resend", data={"token": token, "email": "ann@example.com"})
    assert "Sign in again to send a new confirmation link." in page_text(client.get("/signin"))
    assert len(inbox.to("ann@example.com")) == 2


def test_wrong_password_on_unconfirmed_account_does_not_mention_confirmation(client):
    register(client, "ann@example.com")
    text = page_text(sign_in(client, "ann@example.com", "Wr0ng!pass"))
    assert "not confirmed" not in text and "Incorrect e-mail or password." in text
