"""Seed 000, "Create new account": Register, confirm from the e-mail, Sign in; and the store's operator."""

from __future__ import annotations

import os
import subprocess
import sys

from cloudstore.demo.browser import Browser, StepFailed, need_form
from cloudstore.demo.context import Demo
from cloudstore.demo.outbox import link_in_mail

__all__ = ["confirm_and_sign_in_admin", "make_operator", "register_admin", "register_and_confirm", "sign_in"]


def register(browser: Browser, portal: str, email: str, password: str) -> None:
    """Register with an e-mail and a password, as the Register page asks."""
    page = browser.open(f"{portal}/register")
    after = browser.submit(
        need_form(page, "Register"), email=email, password=password, confirm_password=password, button="Register"
    )
    if "Check your e-mail" not in after.headings:
        raise StepFailed(f"Register did not lead to 'Check your e-mail': {after.problem()}")


def confirm(browser: Browser, portal: str, email: str) -> None:
    """Follow the confirmation link of the e-mail in the outbox."""
    link = link_in_mail(browser, portal, email, "confirm")
    page = browser.open(link)
    if not any("confirmed" in notice for notice in page.notices):
        raise StepFailed(f"the confirmation link did not confirm {email}: {page.problem()}")


def sign_in(browser: Browser, portal: str, email: str, password: str) -> None:
    """Sign in to the portal with e-mail and password."""
    page = browser.open(f"{portal}/signin")
    after = browser.submit(need_form(page, "Sign in"), email=email, password=password, button="Sign in")
    if after.form_with_button("Sign out") is None:
        raise StepFailed(f"signing in as {email} failed: {after.problem()}")


def register_and_confirm(browser: Browser, portal: str, email: str, password: str) -> None:
    """Register, confirm from the outbox and sign in."""
    register(browser, portal, email, password)
    confirm(browser, portal, email)
    sign_in(browser, portal, email, password)


def register_admin(demo: Demo) -> str:
    """Register the subscription's administrator."""
    register(demo.browser("admin"), demo.portal, demo.admin_email, demo.admin_password)
    return f"{demo.admin_email}; confirmation e-mail sent"


def confirm_and_sign_in_admin(demo: Demo) -> str:
    """Open the confirmation link from the outbox, then Sign in."""
    browser = demo.browser("admin")
    confirm(browser, demo.portal, demo.admin_email)
    sign_in(browser, demo.portal, demo.admin_email, demo.admin_password)
    return f"confirmed from {demo.portal}/_dev/outbox and signed in"


def _set_role(demo: Demo, email: str) -> None:
    """`flask --app authserver accounts set-role EMAIL operator`, as docs/store.md says, on the stack's var dir."""
    env = {**os.environ, "CLOUDSTORE_VAR_DIR": str(demo.var_dir)}
    argv = [sys.executable, "-m", "flask", "--app", "authserver", "accounts", "set-role", email, "operator"]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
    if done.returncode != 0:
        output = (done.stderr or done.stdout).strip().splitlines()
        raise StepFailed(f"set-role failed: {output[-1] if output else f'exit status {done.returncode}'}")


def make_operator(demo: Demo) -> str:
    """The store's operator: an account of its own, given the operator role on the command line."""
    browser = demo.browser("operator")
    register(browser, demo.portal, demo.operator_email, demo.operator_password)
    confirm(browser, demo.portal, demo.operator_email)
    _set_role(demo, demo.operator_email)
    sign_in(browser, demo.portal, demo.operator_email, demo.operator_password)
    return f"{demo.operator_email} registered, confirmed, made operator (accounts set-role), signed in"
