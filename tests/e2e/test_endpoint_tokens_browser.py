"""Seeds 001 and 002 in headless Chromium: an admin opens an owned app's Integrations tab, presses Add Token,
signs in to the ERP (User ID, Password, Company ID, Branch ID), sees what will be created, and presses Allow
or Deny; the token's value is hidden until clicked, Copy puts it on the clipboard, Revoke removes it.

One stack (EBS simulator, bridge gateway, auth server, resource API) serves the whole module.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.browser import BROWSER_MARKS, launch, screenshot
from tests.integration.authserver.endpoint_tokens import conftest as stack
from tests.integration.authserver.endpoint_tokens.conftest import ESMASTER, PAYROLL, STRONG, World, api_call, tokens

pytestmark = BROWSER_MARKS
# The integration tests' module-wide stack (simulator, gateway, auth server, resource API) and its clean-up.
world, ebs = stack.world, stack.ebs


@pytest.fixture(scope="module")
def page(world: World) -> Iterator[Any]:
    """One signed-in admin's browser tab for the module, with the clipboard allowed; CSRF on, as in production."""
    from playwright.sync_api import sync_playwright

    world.app.config["WTF_CSRF_ENABLED"] = True
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            context = browser.new_context(
                viewport={"width": 1200, "height": 900}, permissions=["clipboard-read", "clipboard-write"]
            )
            tab = context.new_page()
            tab.goto(world.auth_url + "/signin")
            tab.get_by_label("Email").fill(world.admin.email)
            tab.get_by_label("Password").fill(STRONG)
            tab.get_by_role("button", name="Sign in").click()
            tab.wait_for_url(lambda url: "/signin" not in url)
            yield tab
        finally:
            browser.close()
            world.app.config["WTF_CSRF_ENABLED"] = False


def _add_token(page: Any, world: World, code: str, title: str, credentials: dict[str, str], shot: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{world.auth_url}/subscriptions/demo/apps/{code}")
    page.get_by_role("link", name="Integrations").click()
    expect(page.get_by_role("heading", name="Add Token")).to_be_visible()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Bridge").select_option("Demo_002")
    page.get_by_label("Type").select_option(code)
    screenshot(page, f"endpoint-tokens-{shot}-1-add-token")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_label("User ID")).to_be_visible()
    page.get_by_label("User ID").fill(credentials["login"])
    page.get_by_label("Password").fill(credentials["password"])
    page.get_by_label("Company ID").fill(credentials["company_id"])
    page.get_by_label("Company ID").press("Tab")  # the Branch ID list is asked for
    expect(page.locator("select#branch_id")).to_be_visible()
    page.locator("select#branch_id").select_option(credentials["branch_id"])
    screenshot(page, f"endpoint-tokens-{shot}-2-erp-signin")
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize(
    ("code", "credentials", "prefix"),
    [("time-attendance", PAYROLL, "cs_ta_"), ("app-insights", ESMASTER, "cs_ai_"), ("surveys", ESMASTER, "cs_sv_")],
)
def test_allow_reveal_copy_and_revoke(page, ebs, code, credentials, prefix):
    from playwright.sync_api import expect

    title = f"demo Demo_002 {code}"
    _add_token(page, ebs, code, title, credentials, code)
    expect(page.get_by_role("heading", name="What will be created")).to_be_visible()
    for words in (title, "Demo_002", "demo"):
        expect(page.get_by_text(words, exact=True).first).to_be_visible()
    screenshot(page, f"endpoint-tokens-{code}-3-consent")
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_text("created and registered in EBS")).to_be_visible()
    row = page.locator("tr", has_text=title)
    expect(row).to_contain_text(code)
    expect(row).to_contain_text(credentials["login"].split("/")[1])
    expect(row.get_by_role("button", name="Value is hidden, click to show")).to_be_visible()
    screenshot(page, f"endpoint-tokens-{code}-4-hidden")
    row.get_by_role("button", name="Value is hidden, click to show").click()
    key = page.get_by_test_id("key-value").inner_text()
    assert key.startswith(prefix) and len(key) == 55
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == key
    screenshot(page, f"endpoint-tokens-{code}-5-shown")
    [token] = tokens(ebs)
    assert ebs.ebs_params()["endpoints"][code]["registered"] is True
    page.locator("tr", has_text=title).get_by_role("button", name=f"Revoke {title}").click()
    expect(page.get_by_text("is revoked and removed from EBS")).to_be_visible()
    expect(page.get_by_text("No endpoint tokens yet.")).to_be_visible()
    assert code not in ebs.ebs_params()["endpoints"]
    assert api_call(ebs, key, "GET", "/v1/surveys/campaigns").status_code == 401
    assert token.id not in page.content()


def test_deny_and_a_refused_non_admin(page, ebs):
    from playwright.sync_api import expect

    _add_token(page, ebs, "app-insights", "EBS insights", ESMASTER, "deny")
    expect(page.get_by_role("button", name="Deny")).to_be_visible()
    page.get_by_role("button", name="Deny").click()
    expect(page.get_by_text("No endpoint token was created and nothing was written to EBS")).to_be_visible()
    expect(page.get_by_text("No endpoint tokens yet.")).to_be_visible()
    screenshot(page, "endpoint-tokens-deny")

    _add_token(page, ebs, "app-insights", "EBS insights", PAYROLL, "non-admin")
    expect(page.get_by_text("Only an ERP Administrator may authorize")).to_be_visible()
    assert "/integrations" in page.url
    screenshot(page, "endpoint-tokens-non-admin-refused")
    assert tokens(ebs) == [] and "app-insights" not in ebs.ebs_params()["endpoints"]
