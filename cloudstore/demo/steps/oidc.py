"""Seed 000, "Login end user in the application": an assigned user opens the app's web address and signs in
through the auth server (OpenID Connect, code + PKCE) with SubscriptionID/UserID, password, Company ID (the
BridgeID) and Branch ID, allows the app, and is back in the app, signed in."""

from __future__ import annotations

from cloudstore.demo.browser import Browser, StepFailed, need_form
from cloudstore.demo.context import BRANCH_ID, Demo
from cloudstore.demo.html import Page

__all__ = ["erp_sign_in", "sign_in_to_time_attendance"]

APP_USER = "payroll"


def erp_sign_in(demo: Demo, browser: Browser, page: Page, user_id: str) -> Page:
    """Fill the auth server's ERP sign-in page (User ID as SubscriptionID/UserID) and submit it."""
    if page.form_with_field("company_id") is None:
        raise StepFailed(f"expected the ERP sign-in page, got {page.url}: {page.problem()}")
    account = demo.account(user_id)
    after = browser.submit(
        need_form(page, "Sign in"),
        button="Sign in",
        login=f"{demo.subscription_id}/{account.user_id}",
        password=account.password,
        company_id=demo.bridge_id,
        branch_id=BRANCH_ID,
    )
    if after.form_with_field("company_id") is not None:
        raise StepFailed(f"the ERP sign-in of {user_id} was refused: {after.problem()}")
    return after


def sign_in_to_time_attendance(demo: Demo) -> str:
    """Open the app's web address, Sign in, Allow, and land on the app's page as the user."""
    browser = demo.browser(f"{APP_USER} (app)")
    home = f"{demo.resource_api}/apps/time-attendance/"
    landing = browser.open(home)
    signin = browser.open(f"{home}signin")
    consent = erp_sign_in(demo, browser, signin, APP_USER)
    allow = consent.form_with_button("Allow")
    if allow is None:
        raise StepFailed(f"expected the consent page (Allow / Deny), got {consent.url}: {consent.problem()}")
    app = browser.submit(allow, button="Allow")
    who = app.test_ids.get("signed-in-as", "")
    if not app.url.startswith(home) or f"{demo.subscription_id} / {demo.bridge_id}" not in who:
        raise StepFailed(f"not back in the app, signed in: {app.url}: {app.problem()}")
    serial = demo.found.get("clock", ("", 0))[0]
    punches = [row for row in app.rows if serial and any(serial in cell for cell in row)]
    shown = f"; the app lists the clock's {len(punches)} punches" if punches else ""
    return f"{demo.subscription_id}/{APP_USER} signed in ({landing.title or 'Sign in'} → Allow), as {who}{shown}"
