"""Forgot password: the same answer for any address, a single-use expiring link, other sessions end."""

from __future__ import annotations

import time

from itsdangerous import TimestampSigner

from authserver.accounts.tokens import RESET, token_payload, token_serializer

from .conftest import (
    OTHER_STRONG,
    STRONG,
    account_row,
    audit_events,
    link_in,
    page_text,
    register,
    registered_and_confirmed,
    sign_in,
)


def _forgot(client, email):
    return client.post("/forgot-password", data={"email": email})


def _reset(client, link, password=OTHER_STRONG, confirm=None):
    return client.post(link, data={"password": password, "confirm_password": confirm or password})


def test_forgot_password_answers_alike_for_known_and_unknown_addresses(client, inbox, portal):
    registered_and_confirmed(client, inbox, "ann@example.com")
    visitor = portal.test_client()
    known = _forgot(visitor, "ann@example.com")
    known_page = page_text(visitor.get(known.location))
    unknown = _forgot(visitor, "nobody@example.com")
    unknown_page = page_text(visitor.get(unknown.location))
    assert known.status_code == unknown.status_code == 302 and known.location == unknown.location == "/signin"
    assert known_page.replace("ann@example.com", "X") == unknown_page.replace("nobody@example.com", "X")
    assert inbox.last_to("ann@example.com")["Subject"] == "Reset your Cloud Store password"
    notice = inbox.last_to("nobody@example.com")
    assert notice["Subject"] == "Cloud Store password reset request"
    assert "no Cloud Store account uses it" in notice.get_body(("plain",)).get_content()
    assert "/reset-password/" not in notice.get_body(("plain",)).get_content()


def test_reset_link_sets_a_new_password_once(client, inbox, portal):
    registered_and_confirmed(client, inbox, "ann@example.com")
    _forgot(client, "ann@example.com")
    message = inbox.last_to("ann@example.com")
    assert "expires in 1 hour" in message.get_body(("plain",)).get_content()
    link = link_in(message, "reset-password")
    form = client.get(link)
    assert form.status_code == 200 and "Choose a new password" in page_text(form)

    weak = _reset(client, link, "weakpass")
    assert weak.status_code == 200
    assert "Must contain an uppercase letter." in page_text(weak) and "weakpass" not in weak.get_data(as_text=True)
    mismatch = _reset(client, link, OTHER_STRONG, confirm=STRONG)
    assert "The passwords do not match." in page_text(mismatch)

    done = _reset(client, link)
    assert done.status_code == 302 and done.location == "/signin"
    assert "Your password has been changed." in page_text(client.get("/signin"))
    assert sign_in(client, "ann@example.com", STRONG).status_code == 200
    assert sign_in(client, "ann@example.com", OTHER_STRONG).status_code == 302

    assert client.get(link).status_code == 400
    assert _reset(client, link, "Th1rd!pass").status_code == 400
    assert sign_in(portal.test_client(), "ann@example.com", OTHER_STRONG).status_code == 302
    events = [e.event for e in audit_events(portal)]
    assert events.count("account.password_reset_requested") == 1 and events.count("account.password_reset") == 1


def test_a_newer_reset_makes_older_links_useless(client, inbox):
    registered_and_confirmed(client, inbox, "ann@example.com")
    _forgot(client, "ann@example.com")
    first = link_in(inbox.last_to("ann@example.com"), "reset-password")
    _forgot(client, "ann@example.com")
    second = link_in(inbox.last_to("ann@example.com"), "reset-password")
    assert _reset(client, second).status_code == 302
    assert client.get(first).status_code == 400


def test_reset_ends_every_other_session(client, inbox, portal):
    registered_and_confirmed(client, inbox, "ann@example.com")
    laptop, phone = portal.test_client(), portal.test_client()
    for device in (laptop, phone):
        assert sign_in(device, "ann@example.com").status_code == 302
        assert "My subscription" in page_text(device.get("/"))
    _forgot(client, "ann@example.com")
    _reset(client, link_in(inbox.last_to("ann@example.com"), "reset-password"))
    for device in (laptop, phone):
        page = page_text(device.get("/"))
        assert "My subscription" not in page and "Register" in page
        assert device.post("/signout").status_code == 302  # anonymous now: sent to sign in
    assert sign_in(laptop, "ann@example.com", OTHER_STRONG).status_code == 302


def test_expired_reset_link_is_refused(client, inbox, portal):
    registered_and_confirmed(client, inbox, "ann@example.com")

    class TwoHoursAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 7200

    account = account_row(portal, "ann@example.com")
    old = token_serializer(secret_key=portal.secret_key, purpose=RESET, signer=TwoHoursAgo).dumps(
        token_payload(account)
    )
    response = client.get(f"/reset-password/{old}")
    assert response.status_code == 400 and "expired or was already used" in page_text(response)
    assert _reset(client, f"/reset-password/{old}").status_code == 400


def test_a_confirmation_link_is_not_a_reset_link(client, inbox):
    register(client, "ann@example.com")
    token = link_in(inbox.last_to("ann@example.com"), "confirm").rsplit("/", 1)[1]
    assert client.get(f"/reset-password/{token}").status_code == 400


def test_reset_confirms_an_unconfirmed_account_and_clears_failures(client, inbox, portal):
    register(client, "ann@example.com")
    for _ in range(5):
        sign_in(client, "ann@example.com", "Wr0ng!pass")
    _forgot(client, "ann@example.com")
    _reset(client, link_in(inbox.last_to("ann@example.com"), "reset-password"))
    account = account_row(portal, "ann@example.com")
    assert account.confirmed_at is not None and account.failed_sign_ins == 0
    assert sign_in(client, "ann@example.com", OTHER_STRONG).status_code == 302
