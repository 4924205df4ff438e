"""Seed 000's end-user login, in headless Chromium: from the web address of Time Attendance (the app's own page,
served by the resource API), a user holding a seat signs in with ERP credentials checked live in the EBS
simulator, allows the app, and sees the subscription's punches; signing out ends the session (the next visit
asks to sign in again); a user without a seat is sent back to the app, which says why.

One set of real parts serves the module: the EBS simulator, an SMTP server, the bridge gateway and the auth
server (from the portal tests' stack), plus the resource API with the apps' pages, each on a free port.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete

from authserver.extensions import db
from authserver.store.catalogue.app_clients import ensure_app_clients
from authserver.store.catalogue.seed import seed_catalogue
from authserver.store.licences.seats import assign_seat
from authserver.store.models import Licence, SeatAssignment
from authserver.subscriptions.models import Subscription
from authserver.users.models import SubscriptionUser
from resource_api import create_app as create_resource_api
from resource_api.attendance.service import ingest_punches
from shared.db import upgrade_db
from tests.e2e.browser import BROWSER_MARKS, launch, screenshot
from tests.integration.authserver.portal import conftest as portal_stack
from tests.integration.authserver.portal.conftest import invitation_path, verified_subscription
from tests.integration.authserver.store.conftest import make_licence
from tests.stack import LateApp, dispose, served

pytestmark = BROWSER_MARKS

# The portal tests' module-scoped stack: simulator, SMTP, gateway and auth server (CSRF off, TESTING).
stack, portal = portal_stack.stack, portal_stack.portal
password_hash, make_admin, admin = portal_stack.password_hash, portal_stack.make_admin, portal_stack.admin


def _invite_and_confirm(portal: Any, admin: Any, user_id: str) -> None:
    email = f"{user_id}@demo.example"
    data = {"erp_user_id": user_id, "email": email, "active": "y"}
    assert admin.client.post("/subscriptions/demo/users/new", data=data).status_code == 302
    assert portal.app.test_client().post(invitation_path(portal.inbox.wait_to(email))).status_code == 200


@pytest.fixture
def pages(portal: Any, admin: Any, tmp_path: Any) -> Iterator[str]:
    """The demo subscription verified, esmaster and payroll confirmed, a Time Attendance licence whose one seat
    esmaster holds, the apps' clients provisioned, and the resource API serving the apps' pages with punches."""
    late = LateApp()
    with ExitStack() as parts:
        base = parts.enter_context(served(late))  # bound first: the apps' clients need its address
        verified_subscription(portal, admin)
        for user_id in ("esmaster", "payroll"):
            _invite_and_confirm(portal, admin, user_id)
        with portal.app.app_context():
            seed_catalogue(session=db.session)
            subscription = db.session.query(Subscription).one()
            licence = make_licence(
                subscription, "time-attendance", "Basic", ends_at=datetime.now(UTC) + timedelta(days=30)
            )
            esmaster = db.session.query(SubscriptionUser).filter_by(erp_user_id="esmaster").one()
            assign_seat(
                session=db.session, subscription=subscription, licence=licence, user_id=esmaster.id, actor="e2e"
            )
            clients = ensure_app_clients(session=db.session, resource_api_url=base)
            db.session.remove()
        auth_database = str(portal.app.config["DATABASE_URL"])
        database_url = auth_database if auth_database.startswith("postgresql") else f"sqlite:///{tmp_path / 'pages.db'}"
        parts.callback(_forget_licences, portal)
        late.app = create_resource_api(
            {
                "DATABASE_URL": database_url,
                "AUTH_SERVER_URL": portal.auth_url,
                "RESOURCE_API_URL": base,
                "APP_CLIENTS": {
                    c.code: {"client_id": c.client_id, "client_secret": c.client_secret} for c in clients.values()
                },
            }
        )
        parts.callback(dispose, late.app)
        with late.app.app_context():
            upgrade_db()
            start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
            for tenant, employee in (("demo", "1001"), ("someone-else", "6666")):
                ingest_punches(
                    session=late.app.extensions["sqlalchemy"].session,
                    subscription_id=tenant,
                    bridge_id="Demo_002",
                    device_serial="SN1",
                    device_code="EL-1",
                    punches=[
                        {"employeeCode": employee, "timestamp": start + timedelta(minutes=n), "direction": d}
                        for n, d in enumerate(("in", "out", "in"))
                    ],
                )
        yield base


def _forget_licences(portal: Any) -> None:
    """What the portal's clean-up does not know about."""
    with portal.app.app_context():
        db.session.execute(delete(SeatAssignment))
        db.session.execute(delete(Licence))
        db.session.commit()
        db.session.remove()


def _shot(page: Any, name: str) -> None:
    screenshot(page, f"app-signin-{name}")


def _erp_sign_in(page: Any, expect: Any, login: str, password: str) -> None:
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("User ID").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Company ID").fill("Demo_002")
    page.get_by_label("Branch ID").fill("001")  # a text field: the portal stack runs without CSRF tokens, which
    # the branch list's lookup sends (tests/e2e/test_signin_consent_browser.py drives that list)
    page.get_by_role("button", name="Sign in").click()


def test_seat_holder_signs_in_sees_punches_signs_out_and_a_user_without_a_seat_is_told_why(pages):
    from playwright.sync_api import expect, sync_playwright

    home = f"{pages}/apps/time-attendance/"
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 800})
            page.goto(home)
            expect(page.get_by_role("heading", name="Entersoft Time Attendance")).to_be_visible()
            _shot(page, "01-app-signed-out")
            page.get_by_role("link", name="Sign in").click()
            expect(page.get_by_text("continue to Entersoft Time Attendance")).to_be_visible()
            _erp_sign_in(page, expect, "demo/esmaster", "Esmaster#2024")
            _shot(page, "02-consent")
            expect(page.get_by_role("heading", name="Allow Entersoft Time Attendance?")).to_be_visible()
            page.get_by_role("button", name="Allow").click()

            expect(page.get_by_role("heading", name="Punches")).to_be_visible()
            assert page.url == home
            expect(page.get_by_test_id("signed-in-as")).to_contain_text("demo / Demo_002")
            expect(page.get_by_test_id("punch")).to_have_count(3)
            expect(page.get_by_test_id("count-pending")).to_have_text("3")
            expect(page.get_by_role("cell", name="1001").first).to_be_visible()
            expect(page.get_by_role("cell", name="6666")).to_have_count(0)  # another tenant's punches
            _shot(page, "03-punches")

            page.get_by_role("button", name="Sign out").click()
            expect(page.get_by_text("You have signed out.")).to_be_visible()
            assert page.url.startswith(home)
            page.goto(home)
            expect(page.get_by_role("link", name="Sign in")).to_be_visible()
            expect(page.get_by_test_id("punch")).to_have_count(0)
            _shot(page, "04-signed-out")
            page.get_by_role("link", name="Sign in").click()  # the auth server's session ended too
            _erp_sign_in(page, expect, "demo/payroll", "Payroll#2024")

            expect(page.get_by_test_id("message")).to_contain_text("You have no seat in Entersoft Time Attendance")
            assert page.url.startswith(home + "callback?")
            expect(page.get_by_role("link", name="Sign in")).to_be_visible()
            expect(page.get_by_test_id("punch")).to_have_count(0)
            _shot(page, "05-no-seat")
        finally:
            browser.close()
