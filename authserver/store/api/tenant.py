"""`/api/v1/subscriptions/<id>/…`: a subscription's cart, orders, invoices, apps (My Apps, Get It) and seats.

The same services as the pages; a personal access token or the portal session (see `authserver.api.auth`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Response, current_app, request, url_for

from authserver import audit
from authserver.api.auth import api_account, api_owned, protect
from authserver.extensions import db
from authserver.store.api import schemas as s
from authserver.store.api.catalogue import order_view
from authserver.store.cart.service import add_to_cart, priced_cart, remove_line
from authserver.store.catalogue import service as catalogue
from authserver.store.errors import StoreFieldError
from authserver.store.invoices.pdf import Seller, invoice_pdf
from authserver.store.invoices.service import list_invoices, owned_invoice
from authserver.store.licences.seats import assign_seat, list_user_seats, unassign_seat
from authserver.store.licences.service import get_it, licence_for, list_owned_apps
from authserver.store.models import CARD, NEW, Invoice
from authserver.store.orders.service import Billing, cancel_order, list_orders, owned_order, place_order
from authserver.store.web import currency, payment_provider, resource_api_url, vat_rate
from authserver.subscriptions.models import Subscription
from shared.api import Blueprint
from shared.errors import NotFound

__all__ = ["bp"]

bp = protect(
    Blueprint(
        "api_store_subscription",
        __name__,
        url_prefix="/api/v1/subscriptions/<subscription_id>",
        description="A subscription's cart, orders, invoices, apps and seats",
    )
)


def _actor() -> str:
    return audit.account_actor(api_account().id)


def _cart(subscription: Subscription) -> Any:
    return priced_cart(session=db.session, subscription=subscription, vat_rate=vat_rate(), currency=currency())


@bp.get("/cart")
@bp.response(200, s.CartSchema)
def get_cart(subscription_id: str) -> Any:
    """The cart with net, VAT and gross."""
    return _cart(api_owned(subscription_id))


@bp.post("/cart/lines")
@bp.arguments(s.CartLineCreateSchema)
@bp.response(201, s.CartSchema)
def add_cart_line(data: dict[str, Any], subscription_id: str) -> Any:
    """ADD TO CART (kind NEW with planId and months), Renew (RENEWAL, months) or Get More Users (MORE_USERS, users)."""
    subscription = api_owned(subscription_id)
    app = catalogue.app_by_code(session=db.session, code=data["app"])
    plan = None
    if data["kind"] == NEW:
        if "plan_id" not in data:
            raise StoreFieldError("plan_id", "Choose a version of the app (planId).")
        plan = catalogue.plan_of(app=app, plan_id=data["plan_id"])
    add_to_cart(
        session=db.session,
        subscription=subscription,
        kind=data["kind"],
        app=app,
        plan=plan,
        months=data.get("months"),
        users=data.get("users"),
    )
    return _cart(subscription)


@bp.delete("/cart/lines/<int:line_id>")
@bp.response(204)
def delete_cart_line(subscription_id: str, line_id: int) -> Any:
    """Take a line out of the cart."""
    remove_line(session=db.session, subscription=api_owned(subscription_id), line_id=line_id)
    return ""


@bp.get("/orders")
@bp.response(200, s.OrderSchema(many=True))
def get_orders(subscription_id: str) -> Any:
    """The subscription's orders, newest first."""
    subscription = api_owned(subscription_id)
    return [
        order_view(o, subscription.subscription_id) for o in list_orders(session=db.session, subscription=subscription)
    ]


@bp.post("/orders")
@bp.arguments(s.OrderCreateSchema)
@bp.response(201, s.OrderSchema)
def create_order(data: dict[str, Any], subscription_id: str) -> Any:
    """Checkout: the cart becomes an order with its Order Code. A card order answers the `paymentUrl` to open."""
    subscription = api_owned(subscription_id)
    billing = data["billing"]
    order = place_order(
        session=db.session,
        subscription=subscription,
        account=api_account(),
        payment_method=data["payment_method"],
        billing=Billing(billing["name"], billing["vat_number"], billing["address"], billing["email"]),
        terms_accepted=data["terms_accepted"],
        vat_rate=vat_rate(),
        currency=currency(),
        ip=request.remote_addr,
    )
    payment_url = None
    if order.payment_method == CARD:
        return_url = url_for("store.payment_return", sub_id=subscription.subscription_id, code=order.code)
        payment_url = payment_provider().start(order=order, return_url=return_url).redirect_url
    return order_view(order, subscription.subscription_id, payment_url)


@bp.get("/orders/<code>")
@bp.response(200, s.OrderSchema)
def get_order(subscription_id: str, code: str) -> Any:
    """An order by its Order Code."""
    subscription = api_owned(subscription_id)
    return order_view(
        owned_order(session=db.session, subscription=subscription, code=code), subscription.subscription_id
    )


@bp.post("/orders/<code>/cancel")
@bp.response(200, s.OrderSchema)
def cancel(subscription_id: str, code: str) -> Any:
    """Withdraw an order that still waits for payment."""
    subscription = api_owned(subscription_id)
    order = owned_order(session=db.session, subscription=subscription, code=code)
    cancel_order(
        session=db.session, subscription=subscription, order=order, account=api_account(), ip=request.remote_addr
    )
    return order_view(order, subscription.subscription_id)


def _invoice_view(invoice: Invoice, subscription: Subscription) -> Any:
    invoice.pdf_url = url_for(  # type: ignore[attr-defined]
        "api_store_subscription.get_invoice_pdf", subscription_id=subscription.subscription_id, number=invoice.number
    )
    return invoice


@bp.get("/invoices")
@bp.response(200, s.InvoiceSchema(many=True))
def get_invoices(subscription_id: str) -> Any:
    """The subscription's invoices, newest first."""
    subscription = api_owned(subscription_id)
    return [_invoice_view(i, subscription) for i in list_invoices(session=db.session, subscription=subscription)]


@bp.get("/invoices/<number>")
@bp.response(200, s.InvoiceSchema)
def get_invoice(subscription_id: str, number: str) -> Any:
    """An invoice by its number."""
    subscription = api_owned(subscription_id)
    return _invoice_view(owned_invoice(session=db.session, subscription=subscription, number=number), subscription)


@bp.get("/invoices/<number>/pdf")
@bp.response(200, description="The invoice as application/pdf")
def get_invoice_pdf(subscription_id: str, number: str) -> Any:
    """An invoice as a PDF document."""
    subscription = api_owned(subscription_id)
    invoice = owned_invoice(session=db.session, subscription=subscription, number=number)
    body = invoice_pdf(
        invoice,
        seller=Seller.from_config(current_app.config),
        subscription_id=subscription.subscription_id,
        font=current_app.config.get("INVOICE_FONT") or None,
    )
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
    return response


@bp.get("/apps")
@bp.response(200, s.OwnedAppSchema(many=True))
def get_owned_apps(subscription_id: str) -> Any:
    """My Apps: web address, plan, seats used/total, valid until."""
    base = resource_api_url()
    owned = list_owned_apps(session=db.session, subscription=api_owned(subscription_id))
    return [replace_address(item, item.app.address(base)) for item in owned]


@dataclass(frozen=True)
class _Owned:
    app: Any
    licence: Any
    plan: Any
    seats_used: int
    active: bool
    valid_until: Any
    web_address: str


def replace_address(item: Any, address: str) -> _Owned:
    return _Owned(item.app, item.licence, item.plan, item.seats_used, item.active, item.valid_until, address)


@bp.post("/apps/<code>/get-it")
@bp.arguments(s.GetItSchema)
@bp.response(201, s.OwnedAppSchema)
def get_it_api(data: dict[str, Any], subscription_id: str, code: str) -> Any:
    """Get It: add a Free app or start the one trial of a Trial app (planId: default the first version)."""
    subscription = api_owned(subscription_id)
    app = catalogue.app_by_code(session=db.session, code=code)
    plans = app.active_plans
    if not plans:
        raise NotFound("No version of this app is available.")
    plan = catalogue.plan_of(app=app, plan_id=data["plan_id"]) if "plan_id" in data else plans[0]
    get_it(session=db.session, subscription=subscription, app=app, plan=plan, actor=_actor())
    owned = [o for o in list_owned_apps(session=db.session, subscription=subscription) if o.app.code == app.code]
    return replace_address(owned[0], app.address(resource_api_url()))


def _licence(subscription: Subscription, code: str) -> Any:
    app = catalogue.app_by_code(session=db.session, code=code, include_hidden=True)
    licence = licence_for(session=db.session, subscription_id=subscription.id, app_code=app.code)
    if licence is None:
        raise NotFound("This app is not in the subscription's apps.")
    return licence


@bp.get("/apps/<code>/users")
@bp.response(200, s.UserSeatSchema(many=True))
def get_app_users(subscription_id: str, code: str) -> Any:
    """The app's Users tab: every subscription user, whether they hold a seat, whether they could."""
    subscription = api_owned(subscription_id)
    return list_user_seats(session=db.session, subscription=subscription, licence=_licence(subscription, code))


@bp.put("/apps/<code>/users/<user_id>")
@bp.response(204)
def put_app_user(subscription_id: str, code: str, user_id: str) -> Any:
    """Give the user a seat (409 when every seat is taken)."""
    subscription = api_owned(subscription_id)
    licence = _licence(subscription, code)
    assign_seat(
        session=db.session,
        subscription=subscription,
        licence=licence,
        user_id=user_id,
        actor=_actor(),
        ip=request.remote_addr,
    )
    return ""


@bp.delete("/apps/<code>/users/<user_id>")
@bp.response(204)
def delete_app_user(subscription_id: str, code: str, user_id: str) -> Any:
    """Take the user's seat away."""
    subscription = api_owned(subscription_id)
    licence = _licence(subscription, code)
    if not unassign_seat(
        session=db.session,
        subscription=subscription,
        licence=licence,
        user_id=user_id,
        actor=_actor(),
        ip=request.remote_addr,
    ):
        raise NotFound("The user has no seat in this app.")
    return ""
