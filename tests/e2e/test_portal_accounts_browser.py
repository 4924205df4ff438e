"""A person in headless Chromium: register (a weak password first), confirm from the e-mail, sign in, sign out."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from authserver import create_app
from shared.db import upgrade_db
from tests.e2e.browser import BROWSER_MARKS, launch, screenshot
from tests.e2e.conftest import Mailbox

pytestmark = BROWSER_MARKS


@pytest.fixture
def portal_url(database_url: str, mailbox: tuple[Mailbox, int]) -> Iterator[str]:
    """The auth server in a thread of this process, on a free port, mailing through the SMTP sink."""
    app = create_app(
        {"DATABASE_URL": database_url, "ISSUER": "http://127.0.0.1", "SMTP_URL": f"smtp://127.0.0.1:{mailbox[1]}"}
    )
    with app.app_context():
        upgrade_db()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["ISSUER"] = base  # links in e-mails point at this server
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            app.extensions["sqlalchemy"].engine.dispose()


def _shot(page: Any, name: str) -> None:
    screenshot(page, f"portal-{name}")


def test_register_confirm_sign_in_and_out_in_a_browser(portal_url, mailbox):
    from playwright.sync_api import expect, sync_playwright

    box, _ = mailbox
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 800})
            page.goto(portal_url + "/")
            expect(page.get_by_role("heading", name="Cloud Store")).to_be_visible()
            _shot(page, "01-landing")

            page.get_by_role("link", name="Register").first.click()
            expect(page.get_by_role("heading", name="Register")).to_be_visible()
            page.get_by_label("Email").fill("Ann@Example.com")
            page.get_by_label("Password", exact=True).fill("weak")
            page.get_by_label("Confirm Password").fill("weak")
            page.get_by_role("button", name="Register").click()
            for message in (
                "Must be at least 8 characters long.",
                "Must contain an uppercase letter.",
                "Must contain a digit.",
                "Must contain one of the symbols ! @ # $ & *.",
            ):
                expect(page.get_by_text(message)).to_be_visible()
            expect(page.get_by_text("Must contain a lowercase letter.")).to_have_count(0)
            expect(page.get_by_label("Email")).to_have_value("Ann@Example.com")
            expect(page.get_by_label("Password", exact=True)).to_have_value("")
            _shot(page, "02-register-weak-password")

            page.get_by_label("Password", exact=True).fill("Str0ng!pass")
            page.get_by_label("Confirm Password").fill("Str0ng!pass")
            page.get_by_role("button", name="Register").click()
            expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
            _shot(page, "03-check-email")

            page.get_by_role("link", name="Sign in").first.click()
            page.get_by_label("Email").fill("ann@example.com")
            page.get_by_label("Password").fill("Str0ng!pass")
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_text("Your e-mail address is not confirmed yet.")).to_be_visible()
            expect(page.get_by_role("button", name="Resend confirmation e-mail")).to_be_visible()
            _shot(page, "04-signin-unconfirmed")

            mail = box.wait_for(1)
            assert mail["To"] == "Ann@Example.com"
            link = re.search(r"http://\S+/confirm/\S+", mail.get_body(("plain",)).get_content()).group(0)
            assert link.startswith(portal_url)
            page.goto(link)
            expect(page.get_by_text("Your e-mail address is confirmed. You can sign in now.")).to_be_visible()

            page.get_by_label("Email").fill("ann@example.com")
            page.get_by_label("Password").fill("Str0ng!pass")
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("heading", name="My subscription")).to_be_visible()
            expect(page.get_by_role("navigation").get_by_role("link", name="My subscription")).to_be_visible()
            _shot(page, "05-my-subscription")

            page.set_viewport_size({"width": 390, "height": 800})
            _shot(page, "06-my-subscription-phone")
            page.set_viewport_size({"width": 1100, "height": 800})

            page.get_by_role("button", name="Sign out").click()
            expect(page.get_by_text("You have signed out.")).to_be_visible()
            expect(page.get_by_role("link", name="Register").first).to_be_visible()
            _shot(page, "07-signed-out")
        finally:
            browser.close()
