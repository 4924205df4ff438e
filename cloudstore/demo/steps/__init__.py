"""The walkthrough, in the order a newcomer follows the guides."""

from __future__ import annotations

from cloudstore.demo.runner import Step
from cloudstore.demo.steps import accounts, clock, insights, oidc, store, subscription, tokens, users

__all__ = ["STEPS"]

STEPS = (
    Step("register the admin", accounts.register_admin),
    Step("confirm the admin from the outbox and sign in", accounts.confirm_and_sign_in_admin),
    Step("create the subscription and bridge", subscription.create_subscription, again=True),
    Step("VERIFY CONNECTION: the back-office user logs in", subscription.verify_login, again=True),
    Step("write the code into the simulator's CSWebAssets folder", subscription.write_code),
    Step("VERIFY CONNECTION: the file is read back", subscription.verify_file, again=True),
    Step("invite users", users.invite_users),
    Step("users confirm their invitations", users.confirm_invitations),
    Step("buy Time Attendance by card", store.buy_time_attendance_by_card),
    Step("buy Application Insights by bank deposit", store.buy_insights_by_bank_deposit),
    Step("make a store operator", accounts.make_operator),
    Step("enable the bank-deposit order as the operator", store.enable_order),
    Step("assign users to the apps", store.assign_users),
    Step(
        "create a Time Attendance endpoint token (ERP sign-in, Allow)", tokens.create_time_attendance_token, again=True
    ),
    Step(
        "an Application Insights endpoint token: ERP sign-in, Deny creates none",
        tokens.deny_creates_nothing,
        again=True,
    ),
    Step(
        "create an Application Insights endpoint token (ERP sign-in, Allow)", tokens.create_insights_token, again=True
    ),
    Step("start the clock agent with the API key", clock.start_agent),
    Step("push punches to the agent as a ZKTeco clock", clock.push_punches),
    Step("punches arrive in the simulator's payroll", clock.punches_arrive, again=True),
    Step("send application insights with the other token", insights.send_insights, again=True),
    Step("sign a user in to the Time Attendance app (OIDC)", oidc.sign_in_to_time_attendance, again=True),
)
