"""The store in headless Chromium, as seed 000 walks it: All Apps → VIEW DETAILS → ADD TO CART → months → CHOOSE →
total → terms → Next → billing details → Bank deposit → Next → Order Code; an operator enables it; then the card path
with the decline card and the success card; My Apps and the app's Users tab."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from authserver import create_app
from authserver.extensions import db
from authserver.store.catalogue.seed import seed_catalogue
from shared.db import upgrade_db
from tests.e2e.browser import BROWSER_MARKS, launch, screenshot
from tests.e2e.conftest import Mailbox
from tests.integration.authserver.store.conftest import STRONG, make_account, make_subscription, make_user

pytestmark = BROWSER_MARKS


@pytest.fixture
def store_url(database_url: str, mailbox: tuple[Mailbox, int]) -> Iterator[str]:
    """The auth server in a thread on a free port, with the seeded catalogue, an admin with a verified subscription
    and two users, and an operator."""
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "ISSUER": "http://127.0.0.1",
            "SMTP_URL": f"smtp://127.0.0.1:{mailbox[1]}",
            "STORE_BANK_IBAN": "GR16 0110 1250 0000 0001 2300 695",
            "STORE_BANK_NAME": "Example Bank",
            "RESOURCE_API_URL": "http://127.0.0.1:8100",
        }
    )
    with app.app_context():
        upgrade_db()
        seed_catalogue(session=db.session)
        admin = make_account("ann@example.com")
        subscription = make_subscription(admin, "roservices")
        make_user(subscription, "esmaster")
        make_user(subscription, "nikos", status="INVITED")
        make_account("ops@cloudstore.example", role="operator")
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["ISSUER"] = base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


def _shot(page: Any, name: str) -> None:
    screenshot(page, f"store-{name}")


def _sign_in(page: Any, base: str, email: str) -> None:
    page.goto(base + "/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(STRONG)
    page.get_by_role("button", name="Sign in").click()


def _sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()


def _buy(page: Any, expect: Any, app_name: str, version: str, months: str) -> None:
    """All Apps → VIEW DETAILS → ADD TO CART → months → CHOOSE."""
    page.get_by_role("navigation").get_by_role("link", name="All Apps").click()
    expect(page.get_by_role("heading", name="All Apps")).to_be_visible()
    page.get_by_role("link", name=f"View details of {app_name}").click()
    expect(page.get_by_role("heading", name=app_name)).to_be_visible()
    _shot(page, f"view-details-{version.lower()}")
    page.get_by_role("link", name=f"Add {version} to cart").click()
    expect(page.get_by_role("heading", name="For how many months?")).to_be_visible()
    page.get_by_label("Months").select_option(months)
    _shot(page, f"months-{version.lower()}")
    page.get_by_role("button", name="CHOOSE").click()
    expect(page.get_by_role("heading", name="Cart")).to_be_visible()


def _checkout(page: Any, expect: Any, method: str) -> None:
    """Terms → Next → billing details → payment method → Next."""
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("Accept the terms and conditions to continue.")).to_be_visible()
    page.get_by_label("I accept the terms and conditions").check()
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="Billing details")).to_be_visible()
    expect(page.get_by_label("Company Name")).to_have_value("roservices S.A.")
    page.get_by_label("Billing address").fill("1 Kifisias Ave, 15123 Athens, Greece")
    page.get_by_label(method).check()


def test_bank_deposit_and_card_payments_in_a_browser(store_url, mailbox):
    from playwright.sync_api import expect, sync_playwright

    box, _ = mailbox
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 800})
            _sign_in(page, store_url, "ann@example.com")

            # Bank deposit: Time Attendance, Business, 12 months.
            page.get_by_role("navigation").get_by_role("link", name="All Apps").click()
            expect(page.get_by_role("heading", name="Entersoft Time Attendance")).to_be_visible()
            expect(page.get_by_role("img", name="Punches of the day, as the clocks sent them")).to_be_visible()
            _shot(page, "01-all-apps")
            _buy(page, expect, "Entersoft Time Attendance", "Business", "12")
            expect(page.get_by_test_id("net")).to_have_text("540.00 EUR")
            expect(page.get_by_test_id("vat")).to_have_text("129.60 EUR")
            expect(page.get_by_test_id("gross")).to_have_text("669.60 EUR")
            _shot(page, "02-cart-total")
            _checkout(page, expect, "Bank deposit")
            _shot(page, "03-billing-bank-deposit")
            page.get_by_role("button", name="Next").click()
            code = page.get_by_test_id("order-code").inner_text()
            assert re.fullmatch(r"ORD-\d{8}-\d{4}", code), code
            expect(page.get_by_test_id("order-status")).to_have_text("Waiting for payment")
            expect(page.get_by_text("GR16 0110 1250 0000 0001 2300 695")).to_be_visible()
            _shot(page, "04-order-code")
            _sign_out(page)

            # The operator enables it.
            _sign_in(page, store_url, "ops@cloudstore.example")
            page.goto(store_url + "/store/operator/orders")
            expect(page.get_by_role("cell", name=code, exact=True)).to_be_visible()
            _shot(page, "05-operator-pending")
            page.get_by_role("button", name=f"Enable {code}").click()
            expect(
                page.get_by_text(re.compile(rf"Order {code} is enabled; invoice INV-\d{{4}}-000001 is issued."))
            ).to_be_visible()
            _shot(page, "06-operator-enabled")
            _sign_out(page)
            mail = box.wait_for(1)
            assert mail["To"] == "ann@example.com" and code in mail["Subject"]

            # The admin sees the app in My Apps, assigns a user in its Users tab.
            _sign_in(page, store_url, "ann@example.com")
            page.goto(store_url + "/subscriptions/roservices/apps")
            expect(page.get_by_role("cell", name="http://127.0.0.1:8100/apps/time-attendance/")).to_be_visible()
            expect(page.get_by_role("cell", name="0/20")).to_be_visible()
            _shot(page, "07-my-apps")
            page.get_by_role("link", name="Users", exact=True).click()
            page.get_by_role("button", name="Activate esmaster").click()
            expect(page.get_by_text("The user can use the app now.")).to_be_visible()
            expect(page.get_by_text("nikos has not confirmed the invitation yet")).to_be_visible()
            expect(page.get_by_test_id("seats")).to_contain_text("1 of 20 seats used")
            _shot(page, "08-app-users")

            # Card: Application Insights, Standard, 6 months; first the decline card, then the success card.
            _buy(page, expect, "Entersoft Business Suite Application Insights", "Standard", "6")
            expect(page.get_by_test_id("gross")).to_have_text("215.76 EUR")
            _checkout(page, expect, "Credit card")
            page.get_by_role("button", name="Next").click()
            expect(page.get_by_role("heading", name="Card payment")).to_be_visible()
            expect(page.get_by_test_id("amount")).to_have_text("215.76 EUR")
            page.get_by_label("Name on card").fill("Ann Example")
            page.get_by_label("Card number").fill("4242 4242 4242 4241")
            page.get_by_label("Expiry (MM/YY)").fill("12/39")
            page.get_by_label("CVC").fill("123")
            page.get_by_role("button", name="Pay 215.76 EUR").click()
            expect(page.get_by_text("Enter a valid card number.")).to_be_visible()
            expect(page.get_by_label("Name on card")).to_have_value("Ann Example")
            expect(page.get_by_label("Card number")).to_have_value("")
            _shot(page, "09-card-luhn")
            page.get_by_label("Card number").fill("4000 0000 0000 0002")
            page.get_by_label("CVC").fill("123")
            page.get_by_role("button", name="Pay 215.76 EUR").click()
            expect(
                page.get_by_text("The payment was declined: Your card was declined. Nothing was charged.")
            ).to_be_visible()
            expect(page.get_by_test_id("order-status")).to_have_text("Waiting for payment")
            _shot(page, "10-card-declined")
            page.get_by_role("button", name="Pay 215.76 EUR by card").click()
            page.get_by_label("Name on card").fill("Ann Example")
            page.get_by_label("Card number").fill("4242 4242 4242 4242")
            page.get_by_label("Expiry (MM/YY)").fill("12/39")
            page.get_by_label("CVC").fill("123")
            _shot(page, "11-card-form")
            page.get_by_role("button", name="Pay 215.76 EUR").click()
            expect(page.get_by_text("Payment received. Your apps are enabled.")).to_be_visible()
            expect(page.get_by_test_id("order-status")).to_have_text("Paid")
            _shot(page, "12-card-paid")
            box.wait_for(2)

            page.get_by_role("link", name="Invoices").click()
            expect(page.get_by_role("cell", name=re.compile(r"^INV-\d{4}-000002$"))).to_be_visible()
            with page.expect_download() as download:
                page.get_by_role("link", name=re.compile(r"Download INV-\d{4}-000001")).click()
            path = download.value.path()
            assert Path(path).read_bytes().startswith(b"%PDF")
            _shot(page, "13-invoices")
            page.goto(store_url + "/subscriptions/roservices/apps")
            expect(page.get_by_role("cell", name="0/10")).to_be_visible()
            _shot(page, "14-my-apps-two")
        finally:
            browser.close()
