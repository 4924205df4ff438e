"""ERP sign-in: throttle, ask the authenticator, count failures. Nothing here stores or logs the password."""

from __future__ import annotations

import logging
import math
from dataclasses import replace
from datetime import datetime

from authserver.signin.throttle import FailureTracker
from authserver.signin.users import EndUser, ErpAuthenticator, ErpUnavailable, SignInRefused

__all__ = ["SignInThrottled", "list_branches", "sign_in"]

log = logging.getLogger(__name__)


class SignInThrottled(SignInRefused):
    """Too many failed attempts for this login: the credentials were not even checked."""


def sign_in(
    *,
    authenticator: ErpAuthenticator,
    tracker: FailureTracker,
    login: str,
    password: str,
    company_id: str,
    branch_id: str,
    now: datetime,
) -> EndUser:
    """Check the ERP credentials through the authenticator and return the user, stamped with `auth_time`.

    Raises `SignInThrottled` while the login must wait, `ErpUnavailable` when the ERP cannot be asked (not
    counted as a failure), and the authenticator's `SignInRefused` otherwise (counted).
    """
    key = tracker.key(login=login, company_id=company_id)
    wait = tracker.wait(key, now=now)
    if wait > 0:
        raise SignInThrottled(
            f"Too many failed sign-ins for this User ID. Wait {math.ceil(wait)} seconds and try again."
        )
    try:
        user = authenticator.authenticate(login=login, password=password, company_id=company_id, branch_id=branch_id)
    except ErpUnavailable:
        raise
    except SignInRefused:
        tracker.failed(key, now=now)
        log.info("ERP sign-in refused (key %s)", key[-12:])
        raise
    tracker.succeeded(key)
    log.info("ERP sign-in of subscription user %s (subscription %s)", user.sub, user.subscription_id)
    return replace(user, auth_time=int(now.timestamp()))


def list_branches(*, authenticator: ErpAuthenticator, login: str, company_id: str) -> list[tuple[str, str]]:
    """The branches to offer for this login at this Company ID (the authenticator may refuse)."""
    return [
        (str(branch_id), str(name)) for branch_id, name in authenticator.branches(login=login, company_id=company_id)
    ]
