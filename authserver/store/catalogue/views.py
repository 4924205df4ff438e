"""All Apps → VIEW DETAILS → ADD TO CART (months, CHOOSE) or Get It; screenshots; the terms."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from wtforms.fields.choices import SelectChoice

from authserver import audit
from authserver.accounts.access import admin_required
from authserver.extensions import db
from authserver.store.cart.service import add_to_cart
from authserver.store.catalogue.service import app_by_code, list_apps, plan_of
from authserver.store.errors import StoreFieldError, StoreStateError
from authserver.store.forms import MonthsForm, SubscriptionForm
from authserver.store.licences.service import get_it
from authserver.store.models import NEW, App, Plan, Screenshot
from authserver.store.web import account, bp, field_error, my_subscriptions, tenant
from authserver.subscriptions.models import Subscription


def _subscription_choices(form: SubscriptionForm, subscriptions: list[Subscription]) -> None:
    form.subscription.choices = [
        SelectChoice(s.subscription_id, f"{s.subscription_id} ({s.company_name})") for s in subscriptions
    ]
    if request.method == "GET" and not form.subscription.data:
        wanted = request.args.get("subscription", "")
        ids = [s.subscription_id for s in subscriptions]
        form.subscription.data = wanted if wanted in ids else (ids[0] if ids else None)


@bp.get("/store/apps")
@admin_required
def catalogue() -> Any:
    """All Apps: each app with its brief description and screenshots."""
    return render_template(
        "store/catalogue.html", apps=list_apps(session=db.session), subscription=request.args.get("subscription")
    )


@bp.get("/store/apps/<code>")
@admin_required
def app_details(code: str) -> Any:
    """VIEW DETAILS: the price of each version and the number of users it supports."""
    app = app_by_code(session=db.session, code=code)
    return render_template("store/app.html", app=app, subscription=request.args.get("subscription"))


@bp.get("/store/screenshots/<int:shot_id>")
@admin_required
def screenshot(shot_id: int) -> Any:
    """A screenshot's image: a bundled file or an uploaded PNG/JPEG."""
    shot = db.session.get(Screenshot, shot_id)
    if shot is None:
        abort(404)
    if shot.bundled:
        return redirect(url_for("static", filename=f"store/{shot.bundled}"))
    response = Response(shot.content, mimetype=shot.content_type)
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.get("/store/terms")
def terms() -> Any:
    """The terms and conditions of the store."""
    return render_template("store/terms.html")


def _plan(code: str, plan_id: int) -> tuple[App, Plan]:
    app = app_by_code(session=db.session, code=code)
    return app, plan_of(app=app, plan_id=plan_id)


@bp.route("/store/apps/<code>/plans/<int:plan_id>/add", methods=["GET", "POST"])
@admin_required
def add_to_cart_page(code: str, plan_id: int) -> Any:
    """ADD TO CART: choose for how many months, then CHOOSE puts the app in the subscription's cart."""
    app, plan = _plan(code, plan_id)
    subscriptions = my_subscriptions()
    form = MonthsForm()
    _subscription_choices(form, subscriptions)
    status = 200
    if subscriptions and form.validate_on_submit():
        subscription = tenant(form.subscription.data or "")
        try:
            add_to_cart(
                session=db.session, subscription=subscription, kind=NEW, app=app, plan=plan, months=form.months.data
            )
        except StoreFieldError as exc:
            field_error(form, exc)
            status = 422
        except StoreStateError as exc:
            form.form_errors.append(exc.detail)
            status = 409
        else:
            flash(f"{app.name} ({plan.name}) is in the cart.", "success")
            return redirect(url_for("store.cart", sub_id=subscription.subscription_id))
    return render_template(
        "store/choose_months.html", app=app, plan=plan, form=form, subscriptions=subscriptions
    ), status


@bp.route("/store/apps/<code>/plans/<int:plan_id>/get", methods=["GET", "POST"])
@admin_required
def get_it_page(code: str, plan_id: int) -> Any:
    """Get It: add a Free app, or start the trial of a Trial app, in a subscription."""
    app, plan = _plan(code, plan_id)
    subscriptions = my_subscriptions()
    form = SubscriptionForm()
    _subscription_choices(form, subscriptions)
    status = 200
    if subscriptions and form.validate_on_submit():
        subscription = tenant(form.subscription.data or "")
        try:
            get_it(
                session=db.session,
                subscription=subscription,
                app=app,
                plan=plan,
                actor=audit.account_actor(account().id),
            )
        except StoreStateError as exc:
            form.form_errors.append(exc.detail)
            status = 409
        else:
            flash(f"{app.name} is in your apps.", "success")
            return redirect(url_for("store.owned_app", sub_id=subscription.subscription_id, code=app.code))
    return render_template("store/get_it.html", app=app, plan=plan, form=form, subscriptions=subscriptions), status
