"""Seed 000, "Add applications": All Apps → VIEW DETAILS → ADD TO CART → months → CHOOSE → terms → billing →
Credit card (the test processor) or Bank deposit (an Order Code the operator enables); then the app's Users tab."""

from __future__ import annotations

from cloudstore.demo.browser import Browser, StepFailed, need_form, need_link
from cloudstore.demo.context import Demo
from cloudstore.demo.html import Page

__all__ = ["assign_users", "buy_insights_by_bank_deposit", "buy_time_attendance_by_card", "enable_order"]

TIME_ATTENDANCE, APP_INSIGHTS = "time-attendance", "app-insights"
SUCCESS_CARD = "4242 4242 4242 4242"  # the built-in test processor's card that is paid
ASSIGNED = {TIME_ATTENDANCE: ("payroll", "esmaster"), APP_INSIGHTS: ("esmaster",)}


def _to_billing(demo: Demo, browser: Browser, code: str, version: str, months: str) -> Page:
    """VIEW DETAILS → ADD TO CART → months → CHOOSE → accept the terms → Next: the billing details page."""
    details = browser.open(f"{demo.portal}/store/apps/{code}?subscription={demo.subscription_id}")
    choose = browser.open(need_link(details, f"Add {version} to cart"))
    cart = browser.submit(
        need_form(choose, "CHOOSE"), button="CHOOSE", subscription=demo.subscription_id, months=months
    )
    if "Cart" not in cart.headings:
        raise StepFailed(f"ADD TO CART did not lead to the cart: {cart.problem()}")
    billing = browser.submit(need_form(cart, "Next"), button="Next", terms="y")
    if "Billing details" not in billing.headings:
        raise StepFailed(f"accepting the terms did not lead to the billing details: {billing.problem()}")
    return billing


def _place(browser: Browser, billing: Page, method: str) -> Page:
    return browser.submit(
        need_form(billing, "Next"),
        button="Next",
        payment_method=method,
        billing_address="1 Kifisias Ave, 15123 Athens, Greece",
    )


def buy_time_attendance_by_card(demo: Demo) -> str:
    """Time Attendance, Basic, 12 months, paid by card on the test processor's page."""
    browser = demo.browser("admin")
    billing = _to_billing(demo, browser, TIME_ATTENDANCE, "Basic", "12")
    gross = billing.test_ids.get("gross", "?")
    card = _place(browser, billing, "CARD")
    form = card.form_with_field("number")
    if form is None:
        raise StepFailed(f"the card payment page did not open: {card.problem()}")
    paid = browser.submit(form, holder="Demo Admin", number=SUCCESS_CARD, expiry="12/39", cvc="123")
    status, code = paid.test_ids.get("order-status", ""), paid.test_ids.get("order-code", "")
    if status != "Paid":
        raise StepFailed(f"the card payment did not go through (status {status!r}): {paid.problem()}")
    return f"order {code}, {gross}, card {SUCCESS_CARD[:4]} …{SUCCESS_CARD[-4:]}: Paid"


def buy_insights_by_bank_deposit(demo: Demo) -> str:
    """Application Insights, Standard, 6 months, by Bank deposit: keep the Order Code."""
    browser = demo.browser("admin")
    billing = _to_billing(demo, browser, APP_INSIGHTS, "Standard", "6")
    order = _place(browser, billing, "BANK_DEPOSIT")
    code, status = order.test_ids.get("order-code", ""), order.test_ids.get("order-status", "")
    if not code:
        raise StepFailed(f"no Order Code was shown: {order.problem()}")
    demo.found["bank_order"] = code
    return f"Order Code {code}, {order.test_ids.get('gross', billing.test_ids.get('gross', '?'))}: {status}"


def enable_order(demo: Demo) -> str:
    """The operator finds the Order Code among the pending bank deposits and presses Enable."""
    code = demo.found["bank_order"]
    browser = demo.browser("operator")
    pending = browser.open(f"{demo.portal}/store/operator/orders")
    after = browser.submit(need_form(pending, f"Enable {code}"))
    message = next((notice for notice in after.notices if f"Order {code} is enabled" in notice), None)
    if message is None:
        raise StepFailed(f"enabling {code} failed: {after.problem()}")
    return message


def assign_users(demo: Demo) -> str:
    """Each app's Users tab: Activate the users who may use it (a seat each)."""
    browser = demo.browser("admin")
    done = []
    for code, users in ASSIGNED.items():
        url = f"{demo.portal}/subscriptions/{demo.subscription_id}/apps/{code}/users"
        for user_id in users:
            after = browser.submit(need_form(browser.open(url), f"Activate {user_id}"))
            if not any("can use the app now" in notice for notice in after.notices):
                raise StepFailed(f"assigning {user_id} to {code} failed: {after.problem()}")
        done.append(f"{code}: {', '.join(users)} ({after.test_ids.get('seats', '').split('.')[0]})")
    return "; ".join(done)
