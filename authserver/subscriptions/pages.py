"""What the portal's subscription pages share: the signed-in account, tenant lookups, errors shown on forms."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, request, url_for
from flask_wtf import FlaskForm

from authserver.accounts.access import current_account
from authserver.accounts.models import AdminAccount
from authserver.extensions import db
from authserver.gateway_client import GatewayProblem
from authserver.portal import render_message
from authserver.subscriptions import service
from authserver.subscriptions.errors import FieldError
from authserver.subscriptions.models import Bridge, Subscription, as_utc
from shared.errors import NotFound

__all__ = [
    "TABS",
    "account",
    "client_ip",
    "install_page_errors",
    "owned",
    "owned_bridge",
    "portal_time",
    "settings",
    "show_problem",
    "subscription_tabs",
]


def account() -> AdminAccount:
    """The signed-in account (views are behind `admin_required`)."""
    found = current_account()
    if found is None:  # pragma: no cover - admin_required ran first
        raise NotFound()
    return found


def client_ip() -> str | None:
    """The client's address, for the audit log."""
    return request.remote_addr


def owned(subscription_id: str) -> Subscription:
    """The signed-in account's subscription; 404 for anyone else's."""
    return service.owned_subscription(session=db.session, account=account(), subscription_id=subscription_id)


def owned_bridge(subscription_id: str, bridge_id: str) -> Bridge:
    """A bridge of the signed-in account's subscription; 404 otherwise."""
    return service.owned_bridge(session=db.session, subscription=owned(subscription_id), bridge_id=bridge_id)


def show_problem(form: FlaskForm, problem: Exception) -> GatewayProblem | None:
    """Put a service's refusal next to the field it names; a gateway problem is returned to show in full."""
    field = getattr(problem, "field", None)
    target = getattr(form, field, None) if field else None
    if isinstance(problem, FieldError) and target is not None:
        target.errors = [*target.errors, problem.message]
        return None
    if isinstance(problem, GatewayProblem):
        if target is not None:
            target.errors = [*target.errors, problem.detail or problem.title]
        return problem
    form.form_errors.append(str(problem))
    return None


def _not_found(exc: Exception) -> Response:
    return render_message("Not found", "There is no such page, or it belongs to another account.", 404)


def _time(moment: datetime | None) -> str:
    moment = as_utc(moment)
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def install_page_errors(bp: Blueprint) -> None:
    """Pages answer an unknown or foreign id with the portal's 404 page (the API answers a problem)."""
    bp.register_error_handler(NotFound, _not_found)


def settings() -> dict[str, Any]:
    """The portal settings pages show: egress addresses and lifetimes."""
    addresses = current_app.config.get("EGRESS_ADDRESSES") or []
    if isinstance(addresses, str):  # AUTHSERVER_EGRESS_ADDRESSES=198.51.100.7,203.0.113.9
        addresses = [part.strip() for part in addresses.split(",") if part.strip()]
    return {"egress_addresses": [str(address) for address in addresses]}


def portal_time(moment: datetime | None) -> str:
    """A stored instant as pages show it."""
    return _time(moment)


# A subscription's tabs, in order. A tab shows once its page exists; its one path argument gets the Subscription ID
# whatever the feature named it (the store's My Apps, the Integrations tab, …).
TABS = (
    ("details", "Details", "subscriptions.detail"),
    ("users", "Users", "users.index"),
    ("apps", "My Apps", "store.my_apps"),
    ("integrations", "Integrations", "tokens.integrations"),
    ("audit", "Audit log", "subscriptions.audit_log"),
)


def subscription_tabs(subscription: Subscription) -> list[tuple[str, str, str]]:
    """(key, label, URL) of each tab that exists for this subscription."""
    tabs = []
    for key, label, endpoint in TABS:
        if endpoint not in current_app.view_functions:
            continue
        arguments = {name for rule in current_app.url_map.iter_rules(endpoint) for name in rule.arguments}
        if len(arguments) == 1:
            tabs.append((key, label, url_for(endpoint, **{arguments.pop(): subscription.subscription_id})))
    return tabs
