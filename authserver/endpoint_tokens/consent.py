"""The consent page's rows for an endpoint token, and who may allow one (seeds 001 and 002).

A user assigned to the app (holding a seat of its active licence) may allow; for the types an app marks as
admin-only (`app-insights`, `surveys`) only an ERP Administrator; for `time-attendance` only a user who exists
in Payroll. The ERP user must have signed in to the very subscription and bridge the token is for.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from authserver.clients.service import RegisteredClient
from authserver.endpoint_tokens.flow import PORTAL_CLIENT_ID, find_request
from authserver.extensions import db
from authserver.signin.users import EndUser, SignInRefused
from authserver.store.errors import LicenceProblem
from authserver.store.licences.service import check_app_access
from authserver.store.models import App

__all__ = ["endpoint_token_details"]

EXPIRED = "This request to create an endpoint token is unknown or has expired. Start again with Add Token."


def endpoint_token_details(client: RegisteredClient, params: Mapping[str, str], user: EndUser) -> list | None:
    """What Allow will create, or `SignInRefused` saying why this user may not allow it."""
    if client.client_id != PORTAL_CLIENT_ID:
        return None
    pending = find_request(session=db.session, state=params.get("state", ""))
    if pending is None:
        raise SignInRefused(EXPIRED)
    subscription_id = pending.subscription.subscription_id
    if user.subscription_id.lower() != subscription_id.lower():
        raise SignInRefused(
            f"This endpoint token is for subscription {subscription_id}: sign in with one of its users."
        )
    if user.bridge_id.lower() != pending.bridge_id.lower():
        raise SignInRefused(f"This endpoint token is for Company ID {pending.bridge_id}: sign in with that Company ID.")
    app = db.session.execute(select(App).where(App.code == pending.app_code)).scalar_one()
    try:
        check_app_access(session=db.session, subscription_user_id=user.sub, app_code=pending.app_code)
    except LicenceProblem as problem:
        raise SignInRefused(
            f"{user.user_id} may not authorize an endpoint token of {app.name}: {problem.reason}"
        ) from None
    if app.endpoint_needs_admin and not user.administrator:
        raise SignInRefused(
            f"Only an ERP Administrator may authorize an endpoint token of type {pending.endpoint_type}; "
            f"{user.user_id} is not an Administrator in the ERP."
        )
    if pending.endpoint_type == "time-attendance" and not user.payroll:
        raise SignInRefused(
            f"{user.user_id} does not exist in Payroll: a time-attendance endpoint token must be authorized by a "
            "user who exists in Payroll and is assigned to the app."
        )
    return [
        ("Endpoint token", pending.title),
        ("Type", pending.endpoint_type),
        ("Subscription", subscription_id),
        ("Bridge (Company ID)", pending.bridge_id),
        ("Registered in", "the ERP's company parameters (Entersoft Cloud Store), with SubscriptionID and GID"),
    ]
