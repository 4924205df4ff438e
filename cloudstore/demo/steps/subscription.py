"""Seed 000, "Create cloud subscription" and "Verify Connection", with the file written into CSWebAssets."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from cloudstore.demo.browser import StepFailed, need_form
from cloudstore.demo.context import BRANCH_ID, Demo
from cloudstore.demo.html import Page

__all__ = ["create_subscription", "verify_file", "verify_login", "write_code"]

_TAKEN = re.compile(r"already|taken|in use", re.IGNORECASE)


def _create(demo: Demo) -> Page:
    browser = demo.browser("admin")
    page = browser.open(f"{demo.portal}/subscriptions/new")
    return browser.submit(
        need_form(page, "Create subscription"),
        button="Create subscription",
        expect=None,
        company_name="Demo S.A.",
        subscription_id=demo.subscription_id,
        serial_number=f"ES-{demo.run_id}",
        vat_number="EL123456789",
        password=demo.subscription_password,
        confirm_password=demo.subscription_password,
        database_id=demo.database_id,
        company_id=demo.company_id,
        host=demo.simulator_host,
        port=str(demo.simulator_port),
        scheme="http",
        bridge_id=demo.bridge_id,
    )


def create_subscription(demo: Demo) -> str:
    """My subscription → Create New Subscription with the demo company's values and its first bridge."""
    created = f"Subscription {demo.subscription_id} created."
    after = _create(demo)
    if not any(created in notice for notice in after.notices):
        reason = after.problem()
        if _TAKEN.search(reason):
            reason += (
                f" — the simulator serves only the subscription {demo.subscription_id!r} of"
                f" {demo.simulator_config}, and an earlier run against this stack created it already:"
                " run the demo against a fresh `cloudstore up` (a new CLOUDSTORE_VAR_DIR)"
            )
        raise StepFailed(f"Create New Subscription failed: {reason}")
    return (
        f"{demo.subscription_id}, bridge {demo.bridge_id} → http://{demo.simulator_host}:{demo.simulator_port}"
        f" (database {demo.database_id}, company {demo.company_id})"
    )


def _log_in(demo: Demo) -> Page:
    browser = demo.browser("admin")
    esmaster = demo.account("esmaster")
    page = browser.open(f"{demo.portal}/subscriptions/{demo.subscription_id}/verify?bridge={demo.bridge_id}")
    return browser.submit(
        need_form(page, "VERIFY CONNECTION"),
        button="VERIFY CONNECTION",
        subscription_id=demo.subscription_id,
        subscription_password=demo.subscription_password,
        user_id=esmaster.user_id,
        password=esmaster.password,
        bridge_id=demo.bridge_id,
        branch_id=BRANCH_ID,
    )


def verify_login(demo: Demo) -> str:
    """VERIFY CONNECTION, stage 1: the back-office user logs in to the ERP through the gateway; a code is issued."""
    after = _log_in(demo)
    code, path = after.ids.get("challenge-code", ""), after.ids.get("challenge-file", "")
    if not re.fullmatch(r"\d{7}", code) or not path:
        raise StepFailed(f"no verification code was shown: {after.problem()}")
    demo.found["challenge"] = (path, code)
    return f"back-office user esmaster logged in; write {code} into {path}"


def write_code(demo: Demo) -> str:
    """Put the code into the file the portal named, in the simulator's real CSWebAssets folder."""
    path, code = demo.found["challenge"]
    relative = PurePosixPath(path)
    if relative.parts[0] != "CSWebAssets" or ".." in relative.parts:
        raise StepFailed(f"unexpected file name {path!r}")
    if not demo.assets_dir.is_dir():
        raise StepFailed(f"no CSWebAssets folder at {demo.assets_dir}: is --var-dir the stack's var dir?")
    target = demo.assets_dir.joinpath(*relative.parts[1:])
    target.write_text(code, encoding="utf-8")
    return f"wrote {target}"


def verify_file(demo: Demo) -> str:
    """VERIFY CONNECTION, stage 2: the gateway reads the file back from the ERP and compares the code."""
    browser = demo.browser("admin")
    page = browser.open(f"{demo.portal}/subscriptions/{demo.subscription_id}/verify?bridge={demo.bridge_id}")
    form = next((f for f in page.forms if "/bridges/" in f.action and f.button("VERIFY CONNECTION")), None)
    if form is None:
        raise StepFailed(f"no pending verification code on {page.url}: {page.problem()}")
    after = browser.submit(form, button="VERIFY CONNECTION")
    if not any("Connection verified" in notice for notice in after.notices):
        raise StepFailed(f"the connection was not verified: {after.problem()}")
    return "Connection verified"
