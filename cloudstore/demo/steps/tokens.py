"""Seeds 001 and 002, "Create an Integration Endpoint": the app's Integrations tab → Add Token (title, bridge,
type) → Next → the ERP sign-in (an ERP user assigned to the app) → Allow (or Deny) → back on the tab, where the
key is hidden until "click to show"."""

from __future__ import annotations

import re

from cloudstore.demo.browser import StepFailed, need_form
from cloudstore.demo.context import Demo, mask
from cloudstore.demo.html import Page
from cloudstore.demo.steps.oidc import erp_sign_in
from cloudstore.demo.steps.store import APP_INSIGHTS, TIME_ATTENDANCE

__all__ = ["create_insights_token", "create_time_attendance_token", "deny_creates_nothing"]

# Seed 002: the clock's token is allowed by the user licensed for Time Attendance who exists in Payroll;
# seed 001: the Application Insights token by an ERP Administrator assigned to the app.
ALLOWED_BY = {TIME_ATTENDANCE: "payroll", APP_INSIGHTS: "esmaster"}
_REVEAL = re.compile(r"/integrations/([^/]+)/reveal$")


def _tab(demo: Demo, code: str) -> str:
    return f"{demo.portal}/subscriptions/{demo.subscription_id}/apps/{code}/integrations"


def _consent_page(demo: Demo, code: str, title: str) -> Page:
    """Add Token → Next, then the ERP sign-in: answers the Allow / Deny page."""
    browser = demo.browser("admin")
    tab = browser.open(_tab(demo, code))
    add = tab.form_with_field("title")
    if add is None or add.button("Next") is None:
        raise StepFailed(f"no Add Token form on {tab.url}: {tab.problem()}")
    signin = browser.submit(add, button="Next", title=title, bridge_id=demo.bridge_id, endpoint_type=code)
    consent = erp_sign_in(demo, browser, signin, ALLOWED_BY[code])
    if consent.form_with_button("Allow") is None:
        raise StepFailed(f"expected the Allow / Deny page, got {consent.url}: {consent.problem()}")
    return consent


def _token_ids(page: Page) -> set[str]:
    return {match.group(1) for form in page.forms if (match := _REVEAL.search(form.action))}


def _create(demo: Demo, code: str) -> str:
    """Add Token, sign in, Allow; then click to show the new token's key and keep it for the later steps."""
    browser = demo.browser("admin")
    before = _token_ids(browser.open(_tab(demo, code)))
    title = f"{demo.subscription_id} {demo.bridge_id} {code} ({demo.run_id})"
    consent = _consent_page(demo, code, title)
    tab = browser.submit(need_form(consent, "Allow"), button="Allow")
    if not any("created" in notice for notice in tab.notices):
        raise StepFailed(f"no endpoint token was created: {tab.problem()}")
    new = _token_ids(tab) - before
    if len(new) != 1:
        raise StepFailed(f"expected one new token on the Integrations tab, found {len(new)}")
    token_id = new.pop()
    reveal = next(form for form in tab.forms if form.action.endswith(f"/{token_id}/reveal"))
    shown = browser.submit(reveal)
    key = _revealed_key(shown, token_id)
    demo.found[code] = key
    return f"“{title}” allowed by {ALLOWED_BY[code]}; click to show: {mask(key)}"


def _revealed_key(page: Page, token_id: str) -> str:
    """The key the tab shows after "click to show" (the only one shown: a key is never kept in the session)."""
    key = page.test_ids.get("key-value", "")
    if len(key) < 20 or any(form.action.endswith(f"/{token_id}/reveal") for form in page.forms):
        raise StepFailed(f"the key of token {token_id} was not shown after click to show: {page.problem()}")
    return key


def create_time_attendance_token(demo: Demo) -> str:
    """The Time Attendance token the clock agent will use (seed 002)."""
    return _create(demo, TIME_ATTENDANCE)


def create_insights_token(demo: Demo) -> str:
    """The Application Insights token an EBS product will use (seed 001)."""
    return _create(demo, APP_INSIGHTS)


def deny_creates_nothing(demo: Demo) -> str:
    """Add Token again, sign in, and press Deny: no token is created and nothing is written to EBS."""
    browser = demo.browser("admin")
    before = _token_ids(browser.open(_tab(demo, APP_INSIGHTS)))
    consent = _consent_page(demo, APP_INSIGHTS, f"denied ({demo.run_id})")
    tab = browser.submit(need_form(consent, "Deny"), button="Deny", expect=None)
    message = next((alert for alert in tab.alerts if "No endpoint token was created" in alert), None)
    if message is None:
        raise StepFailed(f"Deny did not say that no token was created ({tab.status}): {tab.problem()}")
    if _token_ids(browser.open(_tab(demo, APP_INSIGHTS))) != before:
        raise StepFailed("a token appeared on the Integrations tab after Deny")
    return message
