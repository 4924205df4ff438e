"""What the store's pages share: the blueprint, the tenant lookup (404 for other tenants), config, errors."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, current_app, request
from flask_wtf import FlaskForm

from authserver.accounts.access import current_account
from authserver.accounts.models import AdminAccount
from authserver.extensions import db
from authserver.portal import render_message
from authserver.store.errors import StoreFieldError
from authserver.store.money import parse_rate
from authserver.store.payments.provider import PaymentProvider
from authserver.subscriptions.models import Subscription
from authserver.subscriptions.service import list_subscriptions, owned_subscription
from shared.errors import Problem

__all__ = [
    "account",
    "bp",
    "client_ip",
    "currency",
    "field_error",
    "my_subscriptions",
    "payment_provider",
    "resource_api_url",
    "tenant",
    "vat_rate",
]

bp = Blueprint("store", __name__, template_folder="templates")


@bp.errorhandler(Problem)
def _problem_page(problem: Problem) -> Response:
    """A readable page for a problem raised by a store page (an unknown app, another tenant's order: 404)."""
    return render_message(problem.title, problem.detail or problem.title, problem.status)


@bp.context_processor
def _store_context() -> dict[str, Any]:
    return {"vat_percent": f"{(vat_rate() * 100).normalize():f}", "currency": currency()}


def account() -> AdminAccount:
    """The signed-in account (the views are behind admin_required or operator_required)."""
    found = current_account()
    if found is None:
        raise RuntimeError("store pages are behind admin_required")
    return found


def tenant(sub_id: str) -> Subscription:
    """The signed-in account's subscription `sub_id`; NotFound (404) for anyone else's or an unknown one."""
    return owned_subscription(session=db.session, account=account(), subscription_id=sub_id)


def my_subscriptions() -> list[Subscription]:
    """The signed-in account's subscriptions."""
    return list_subscriptions(session=db.session, account=account())


def vat_rate() -> Decimal:
    return parse_rate(current_app.config["VAT_RATE"])


def currency() -> str:
    return str(current_app.config["CURRENCY"])


def resource_api_url() -> str:
    return str(current_app.config["RESOURCE_API_URL"])


def payment_provider() -> PaymentProvider:
    return current_app.extensions["payment_provider"]  # type: ignore[no-any-return]


def client_ip() -> str | None:
    return request.remote_addr


def field_error(form: FlaskForm, error: StoreFieldError, fields: dict[str, str] | None = None) -> None:
    """Put a service's field error next to the form field it names, or at the top of the form."""
    name = (fields or {}).get(error.field, error.field)
    field: Any = getattr(form, name, None)
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message] if isinstance(field.errors, list) else [error.message]
    else:
        form.form_errors.append(error.message)
