"""A person in headless Chromium signs in to an app with ERP credentials (the Branch ID offered as a list),
sees the consent page, presses Allow and lands on the app with a code; then asks again and presses Deny."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from flask import Flask, request
from markupsafe import escape
from werkzeug.serving import make_server

from authserver import create_app
from authserver.clients import service as clients
from authserver.extensions import db
from shared.db import upgrade_db
from tests.e2e.browser import BROWSER_MARKS, launch, screenshot
from tests.integration.authserver.oidc.directory import WRONG_PASSWORD, Directory

pytestmark = BROWSER_MARKS


class _Served:
    """A WSGI app in a thread on a free loopback port; the app can be set after the port is known."""

    def __init__(self) -> None:
        self.app: Any = None
        self.server = make_server("127.0.0.1", 0, lambda environ, start: self.app(environ, start), threaded=True)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self, app: Any) -> None:
        self.app = app
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()


def _client_app() -> Flask:
    """The app the user signs in to: its callback page shows what came back."""
    app = Flask("client_app")

    @app.get("/callback")
    def callback() -> str:
        rows = "".join(
            f"<li><b>{escape(key)}</b>: <span id='{escape(key)}'>{escape(value)}</span></li>"
            for key, value in request.args.items()
        )
        return f"<!doctype html><title>Time Attendance</title><h1>Back in Time Attendance</h1><ul>{rows}</ul>"

    return app


@dataclass
class Stack:
    auth: str
    client_base: str
    client: clients.NewClient


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    auth_server, client_server = _Served(), _Served()
    app = create_app({"DATABASE_URL": database_url, "ISSUER": auth_server.base})
    directory = Directory()
    directory.add(
        sub="su-1",
        subscription_id="roservices",
        user_id="esmaster",
        email="ann@example.com",
        name="Ann Example",
        password="Erp-pass-1",
    )
    app.extensions["erp_authenticator"] = directory
    with app.app_context():
        upgrade_db()
        client = clients.create_client(
            session=db.session,
            name="Time Attendance",
            grant_types=("authorization_code", "refresh_token"),
            scope="openid profile email offline_access",
            redirect_uris=(f"{client_server.base}/callback",),
            app="timeattendance",
        )
    auth_server.start(app)
    client_server.start(_client_app())
    try:
        yield Stack(auth=auth_server.base, client_base=client_server.base, client=client)
    finally:
        auth_server.stop()
        client_server.stop()
        with app.app_context():
            app.extensions["sqlalchemy"].engine.dispose()


def _rp(stack: Stack) -> OAuth2Session:
    return OAuth2Session(
        stack.client.client.client_id,
        stack.client.client_secret,
        scope="openid profile email offline_access",
        redirect_uri=f"{stack.client_base}/callback",
        code_challenge_method="S256",
    )


def _shot(page: Any, name: str) -> None:
    screenshot(page, f"oidc-{name}")


def test_sign_in_consent_allow_and_deny_in_a_browser(stack):
    from playwright.sync_api import expect, sync_playwright

    rp, verifier = _rp(stack), generate_token(48)
    url, state = rp.create_authorization_url(
        f"{stack.auth}/oauth/authorize", code_verifier=verifier, nonce=generate_token(16)
    )
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(url)
            expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
            expect(page.get_by_text("continue to Time Attendance")).to_be_visible()
            _shot(page, "01-signin")

            page.get_by_label("User ID").fill("ann@example.com")
            page.get_by_label("Password").fill("wrong password")
            page.get_by_label("Company ID").fill("Demo_002")
            page.get_by_label("Company ID").press("Tab")  # the change event asks for the user's branches
            branch = page.locator("select#branch_id")
            expect(branch).to_be_visible()
            expect(branch.locator("option")).to_have_count(2)
            branch.select_option("002")
            _shot(page, "02-signin-branch-list")
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_text(WRONG_PASSWORD)).to_be_visible()
            expect(page.get_by_label("User ID")).to_have_value("ann@example.com")
            expect(page.get_by_label("Password")).to_have_value("")
            _shot(page, "03-signin-refused")

            page.get_by_label("Password").fill("Erp-pass-1")
            expect(page.locator("select#branch_id")).to_have_value("002")
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("heading", name="Allow Time Attendance?")).to_be_visible()
            for words in ("Sign the user in (OpenID Connect).", "The user's e-mail address.", "roservices", "Demo_002"):
                expect(page.get_by_text(words).first).to_be_visible()
            _shot(page, "04-consent")

            page.get_by_role("button", name="Allow").click()
            expect(page.get_by_role("heading", name="Back in Time Attendance")).to_be_visible()
            back = parse_qs(urlsplit(page.url).query)
            assert page.url.startswith(f"{stack.client_base}/callback?")
            assert back["state"] == [state] and back["iss"] == [stack.auth] and back["code"]
            _shot(page, "05-back-with-code")
            token = rp.fetch_token(
                f"{stack.auth}/oauth/token", authorization_response=page.url, state=state, code_verifier=verifier
            )
            assert token["id_token"] and token["refresh_token"]

            url, state = rp.create_authorization_url(
                f"{stack.auth}/oauth/authorize", code_verifier=verifier, nonce=generate_token(16)
            )
            page.goto(url)  # still signed in: straight to the consent page
            expect(page.get_by_role("heading", name="Allow Time Attendance?")).to_be_visible()
            page.get_by_role("button", name="Deny").click()
            expect(page.get_by_role("heading", name="Back in Time Attendance")).to_be_visible()
            back = parse_qs(urlsplit(page.url).query)
            assert back["error"] == ["access_denied"] and back["state"] == [state] and back["iss"] == [stack.auth]
            assert "code" not in back
            _shot(page, "06-back-denied")

            page.set_viewport_size({"width": 390, "height": 800})
            page.goto(f"{stack.auth}/consent")
            expect(page.get_by_role("heading", name="Allowed apps")).to_be_visible()
            _shot(page, "07-allowed-apps-phone")
        finally:
            browser.close()
