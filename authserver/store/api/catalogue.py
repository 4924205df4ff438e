"""`/api/v1/store`: the catalogue for everyone, catalogue editing and bank deposits to enable for operators.

The same services as the pages; a personal access token or the portal session (see `authserver.api.auth`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import url_for

from authserver import audit
from authserver.accounts.models import AdminAccount
from authserver.api.auth import api_account, protect
from authserver.extensions import db
from authserver.store.api import schemas as s
from authserver.store.catalogue import service as catalogue
from authserver.store.emails import send_order_completed
from authserver.store.models import App, Order
from authserver.store.orders.paying import enable_order
from authserver.store.orders.service import pending_bank_orders
from authserver.subscriptions.models import Subscription
from shared.api import Blueprint
from shared.errors import Forbidden, NotFound

__all__ = ["bp", "order_view"]

bp = protect(
    Blueprint("api_store", __name__, url_prefix="/api/v1/store", description="The catalogue; operators' orders")
)


def _operator() -> AdminAccount:
    account = api_account()
    if not account.is_operator:
        raise Forbidden("Only the store's operators may do this.")
    return account


def _actor() -> str:
    return audit.account_actor(api_account().id)


@dataclass(frozen=True)
class _Shot:
    id: int
    caption: str
    url: str


@dataclass(frozen=True)
class _AppView:
    code: str
    name: str
    summary: str
    description: str
    pricing: str
    trial_days: int
    endpoint_type: str | None
    endpoint_needs_admin: bool
    published: bool
    plans: list[Any]
    screenshots: list[_Shot]


def _app_view(app: App, *, all_plans: bool = False) -> _AppView:
    shots = [_Shot(x.id, x.caption, url_for("store.screenshot", shot_id=x.id)) for x in app.screenshots]
    return _AppView(
        app.code,
        app.name,
        app.summary,
        app.description,
        app.pricing,
        app.trial_days,
        app.endpoint_type,
        app.endpoint_needs_admin,
        app.published,
        list(app.plans if all_plans else app.active_plans),
        shots,
    )


@bp.get("/apps")
@bp.response(200, s.AppSchema(many=True))
def list_apps() -> Any:
    """All Apps (operators also see hidden apps and versions off sale)."""
    operator = api_account().is_operator
    return [_app_view(a, all_plans=operator) for a in catalogue.list_apps(session=db.session, include_hidden=operator)]


@bp.get("/apps/<code>")
@bp.response(200, s.AppSchema)
def get_app(code: str) -> Any:
    """VIEW DETAILS: an app's versions with users and monthly prices."""
    operator = api_account().is_operator
    return _app_view(catalogue.app_by_code(session=db.session, code=code, include_hidden=operator), all_plans=operator)


@bp.post("/apps")
@bp.arguments(s.AppCreateSchema)
@bp.response(201, s.AppSchema)
def create_app(data: dict[str, Any]) -> Any:
    """Operators: add an app to the catalogue."""
    _operator()
    app = catalogue.create_app(session=db.session, actor=_actor(), **data)
    return _app_view(app, all_plans=True)


@bp.patch("/apps/<code>")
@bp.arguments(s.AppUpdateSchema)
@bp.response(200, s.AppSchema)
def update_app(data: dict[str, Any], code: str) -> Any:
    """Operators: change an app (its code stays)."""
    _operator()
    data.pop("code", None)
    app = catalogue.app_by_code(session=db.session, code=code, include_hidden=True)
    return _app_view(catalogue.update_app(session=db.session, actor=_actor(), app=app, **data), all_plans=True)


@bp.post("/apps/<code>/plans")
@bp.arguments(s.PlanCreateSchema)
@bp.response(201, s.PlanSchema)
def add_plan(data: dict[str, Any], code: str) -> Any:
    """Operators: add a version to an app."""
    _operator()
    app = catalogue.app_by_code(session=db.session, code=code, include_hidden=True)
    return catalogue.add_plan(session=db.session, actor=_actor(), app=app, **data)


@bp.patch("/apps/<code>/plans/<int:plan_id>")
@bp.arguments(s.PlanUpdateSchema)
@bp.response(200, s.PlanSchema)
def update_plan(data: dict[str, Any], code: str, plan_id: int) -> Any:
    """Operators: change a version's users or prices, or take it off sale."""
    _operator()
    app = catalogue.app_by_code(session=db.session, code=code, include_hidden=True)
    plan = catalogue.plan_of(app=app, plan_id=plan_id, active_only=False)
    return catalogue.update_plan(session=db.session, actor=_actor(), plan=plan, **data)


def order_view(order: Order, subscription_id: str, payment_url: str | None = None) -> Any:
    order.payment_url = payment_url  # type: ignore[attr-defined]
    order.subscription_id = subscription_id  # type: ignore[attr-defined]
    return order


@bp.get("/orders")
@bp.response(200, s.OrderSchema(many=True))
def operator_pending_orders() -> Any:
    """Operators: bank-deposit orders waiting to be enabled."""
    _operator()
    orders = pending_bank_orders(session=db.session)
    return [order_view(o, db.session.get(Subscription, o.subscription_pk).subscription_id) for o in orders]  # type: ignore[union-attr]


@bp.post("/orders/<code>/enable")
@bp.response(200, s.OrderSchema)
def operator_enable(code: str) -> Any:
    """Operators: the bank deposit arrived; enable the order (idempotent)."""
    paid = enable_order(session=db.session, code=code, operator=_operator())
    subscription = db.session.get(Subscription, paid.order.subscription_pk)
    if subscription is None:
        raise NotFound("There is no such order.")
    if paid.changed:
        owner = db.session.get(AdminAccount, subscription.owner_id)
        if owner is not None:
            send_order_completed(to=owner.email, subscription=subscription, order=paid.order, invoice=paid.invoice)
    return order_view(paid.order, subscription.subscription_id)
