"""Seed 000, "Add/Activate users": ADD USER with the ERP User ID and an e-mail; the invitee confirms the account."""

from __future__ import annotations

from cloudstore.demo.browser import StepFailed, need_form
from cloudstore.demo.context import Demo
from cloudstore.demo.outbox import link_in_mail

__all__ = ["DEMO_USERS", "confirm_invitations", "invite_users"]

# esmaster: the ERP administrator who allows the Application Insights endpoint (seed 001);
# payroll: the user licensed for Time Attendance and present in Payroll, whose token the clock agent uses (seed 002).
DEMO_USERS = ("esmaster", "payroll")


def invite_users(demo: Demo) -> str:
    """Users → ADD USER, once per ERP user; each gets an invitation e-mail."""
    browser = demo.browser("admin")
    for user_id in DEMO_USERS:
        demo.account(user_id)
        page = browser.open(f"{demo.portal}/subscriptions/{demo.subscription_id}/users/new")
        after = browser.submit(
            need_form(page, "ADD USER"), button="ADD USER", erp_user_id=user_id, email=demo.user_email(user_id)
        )
        if not any(f"User {user_id} added." in notice for notice in after.notices):
            raise StepFailed(f"ADD USER {user_id} failed: {after.problem()}")
    return ", ".join(f"{u} <{demo.user_email(u)}>" for u in DEMO_USERS) + " invited"


def confirm_invitations(demo: Demo) -> str:
    """Each invitee opens "Confirm account" from the e-mail; the Users tab then shows them VERIFIED."""
    for user_id in DEMO_USERS:
        browser = demo.browser(user_id)
        link = link_in_mail(browser, demo.portal, demo.user_email(user_id), "invitations")
        page = browser.open(link)
        after = browser.submit(need_form(page, "Confirm account"), button="Confirm account")
        if "Account confirmed" not in after.headings:
            raise StepFailed(f"{user_id} could not confirm the invitation: {after.problem()}")
    users = demo.browser("admin").open(f"{demo.portal}/subscriptions/{demo.subscription_id}/users")
    states = {user_id: users.ids.get(f"user-{user_id}", "") for user_id in DEMO_USERS}
    pending = [user_id for user_id, row in states.items() if "VERIFIED" not in row or "Active" not in row]
    if pending:
        raise StepFailed(f"not VERIFIED and Active on the Users tab: {', '.join(pending)}")
    return ", ".join(DEMO_USERS) + " VERIFIED and Active"
