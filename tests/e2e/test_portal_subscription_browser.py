"""A person in headless Chromium walks the guide: register, confirm from the e-mail, sign in, Create New
Subscription with the demo values, VERIFY CONNECTION (the code written into the simulator's CSWebAssets folder),
ADD USER, and the user accepts the invitation from the e-mail: status VERIFIED.

Everything runs in this process on free 127.0.0.1 ports: an aiosmtpd server, the EBS simulator, the bridge
gateway and the auth server (not in TESTING mode: CSRF and rate limits are on).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest

from authserver import create_app
from tests.e2e.browser import BROWSER_MARKS, launch, screenshot
from tests.stack import LateApp, bootstrap_auth_server, dispose, running_simulator, served, served_gateway, smtp_inbox

PASSWORD = "Str0ng!pass"

pytestmark = BROWSER_MARKS


class _Mailbox:
    """An SMTP sink that wakes up whoever waits for a message to an address."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook
        with self.arrived:
            self.messages.append(BytesParser(policy=policy.default).parsebytes(envelope.content))  # type: ignore[arg-type]
            self.arrived.notify_all()
        return "250 Message accepted"

    def link_to(self, address: str, kind: str, timeout: float = 15.0) -> str:
        """The first `kind` link (confirm, invitations) of the newest message to `address`."""

        def found() -> list[EmailMessage]:
            return [m for m in self.messages if m["To"].lower() == address.lower()]

        with self.arrived:
            assert self.arrived.wait_for(lambda: found(), timeout), f"no e-mail to {address}"
            text = found()[-1].get_body(("plain",)).get_content()  # type: ignore[union-attr]
        match = re.search(rf"http://\S+/{kind}/\S+", text)
        assert match, text
        return match.group(0)


@dataclass
class Stack:
    portal_url: str
    mailbox: _Mailbox
    sim_dir: Path
    sim_port: int


@pytest.fixture
def stack(database_url: str, tmp_path: Path) -> Iterator[Stack]:
    mailbox, late = _Mailbox(), LateApp()
    with ExitStack() as parts:
        smtp_url = parts.enter_context(smtp_inbox(mailbox))
        sim_dir = tmp_path / "sim"
        simulator = parts.enter_context(running_simulator(sim_dir, control=False))
        portal_url = parts.enter_context(served(late))
        settings = {"DATABASE_URL": database_url, "ISSUER": portal_url}
        [client] = bootstrap_auth_server(
            settings, ("authserver (internal)", "gateway:bridges gateway:relay", "bridge_gateway")
        )
        gateway_db = database_url if database_url.startswith("postgresql") else f"sqlite:///{tmp_path / 'gw.db'}"
        gateway_settings = {
            "DATABASE_URL": gateway_db,
            "AUTH_SERVER_URL": portal_url,
            "ALLOWED_NETWORKS": ["127.0.0.1/32"],
        }
        _, gateway_url = parts.enter_context(served_gateway(gateway_settings))
        app = create_app(
            {
                **settings,
                "SMTP_URL": smtp_url,
                "GATEWAY_URL": gateway_url,
                "CLIENT_ID": client.client.client_id,
            }
        )
        late.app = app
        parts.callback(dispose, app)
        yield Stack(portal_url, mailbox, sim_dir, simulator.port)


def _shot(page: Any, name: str) -> None:
    screenshot(page, f"subscription-{name}")


def test_register_create_verify_and_invite_in_a_browser(stack):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 800})
            page.goto(stack.portal_url + "/register")
            page.get_by_label("Email").fill("admin@roservices.example")
            page.get_by_label("Password", exact=True).fill(PASSWORD)
            page.get_by_label("Confirm Password").fill(PASSWORD)
            page.get_by_role("button", name="Register").click()
            expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
            page.goto(stack.mailbox.link_to("admin@roservices.example", "confirm"))
            expect(page.get_by_text("Your e-mail address is confirmed. You can sign in now.")).to_be_visible()
            page.get_by_label("Email").fill("admin@roservices.example")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()

            page.get_by_role("navigation", name="Main").get_by_role("link", name="My subscription").click()
            expect(page.get_by_role("heading", name="My subscription")).to_be_visible()
            _shot(page, "01-my-subscription-empty")
            page.get_by_role("link", name="Create New Subscription").click()
            expect(page.get_by_role("heading", name="Create New Subscription")).to_be_visible()
            page.get_by_label("Company Name").fill("Demo S.A.")
            page.get_by_label("Subscription ID").fill("demo")
            page.get_by_label("Customer serial number").fill("ES-100200")
            page.get_by_label("Customer VAT number").fill("EL123456789")
            page.get_by_label("Password", exact=True).fill("DemoSub#2024")
            page.get_by_label("Confirm Password").fill("DemoSub#2024")
            page.get_by_label("Database ID").fill("DEMO")
            page.get_by_label("Company ID").fill("002")
            page.get_by_label("Application server").fill("127.0.0.1")
            page.get_by_label("Port", exact=True).fill(str(stack.sim_port))
            page.get_by_label("Protocol").select_option("http")
            page.get_by_label("Bridge ID").fill("Demo_002")
            _shot(page, "02-create-new-subscription")
            page.get_by_role("button", name="Create subscription").click()
            expect(page.get_by_text("Subscription demo created.")).to_be_visible()
            expect(page.locator("#subscription-gid")).to_have_text(re.compile(r"^[0-9a-f-]{36}$"))
            _shot(page, "03-subscription-details")

            page.get_by_role("link", name="VERIFY CONNECTION").click()
            expect(page.get_by_label("Subscription ID")).to_have_value("demo")
            expect(page.get_by_label("Bridge ID")).to_have_value("Demo_002")
            page.get_by_label("Subscription Password").fill("DemoSub#2024")
            page.get_by_label("Backoffice User").fill("esmaster")
            page.get_by_label("Password", exact=True).fill("Esmaster#2024")
            page.get_by_label("Branch ID").fill("001")
            _shot(page, "04-verify-connection-form")
            page.get_by_role("button", name="VERIFY CONNECTION").click()
            expect(page.locator("#challenge-file")).to_have_text("CSWebAssets/demo-Demo_002.txt")
            code = page.locator("#challenge-code").inner_text().strip()
            assert re.fullmatch(r"\d{7}", code)
            _shot(page, "05-verify-connection-code")

            assets = stack.sim_dir / "CSWebAssets"
            assets.mkdir(parents=True, exist_ok=True)
            (assets / "demo-Demo_002.txt").write_text(code)
            page.get_by_role("button", name="VERIFY CONNECTION").click()
            expect(page.get_by_text("Connection verified", exact=False).first).to_be_visible()
            expect(page.locator(".verified")).to_contain_text(re.compile(r"Connection verified on \d{4}-\d\d-\d\d"))
            _shot(page, "06-connection-verified")

            page.get_by_role("link", name="Back to the subscription").click()
            page.get_by_role("navigation", name="Subscription").get_by_role("link", name="Users").click()
            page.get_by_role("link", name="ADD USER").click()
            page.get_by_label("User ID").fill("payroll")
            page.get_by_label("Email").fill("payroll@demo.example")
            page.get_by_role("button", name="ADD USER").click()
            expect(page.get_by_text("We sent the invitation to payroll@demo.example.")).to_be_visible()
            expect(page.get_by_text("INVITED")).to_be_visible()
            expect(page.get_by_text("The user has not confirmed the invitation yet.")).to_be_visible()
            _shot(page, "07-users-invited")

            invitee = browser.new_page(viewport={"width": 390, "height": 800})
            invitee.goto(stack.mailbox.link_to("payroll@demo.example", "invitations"))
            expect(invitee.get_by_role("heading", name="Confirm account")).to_be_visible()
            _shot(invitee, "08-invitation-phone")
            invitee.get_by_role("button", name="Confirm account").click()
            expect(invitee.get_by_role("heading", name="Account confirmed")).to_be_visible()
            _shot(invitee, "09-invitation-confirmed-phone")

            page.reload()
            expect(page.locator("#user-payroll")).to_contain_text("VERIFIED")
            _shot(page, "10-users-verified")
            page.set_viewport_size({"width": 390, "height": 800})
            page.get_by_role("link", name="Details").click()
            _shot(page, "11-subscription-details-phone")
        finally:
            browser.close()
