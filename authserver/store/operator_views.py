"""Operator pages: bank-deposit orders waiting for "Enable", and catalogue editing (apps, plans, screenshots)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from authserver import audit
from authserver.accounts.access import operator_required
from authserver.accounts.models import AdminAccount
from authserver.extensions import db
from authserver.store.catalogue import service as catalogue
from authserver.store.emails import send_order_completed
from authserver.store.errors import StoreFieldError, StoreStateError
from authserver.store.forms import AppForm, PlanForm, ScreenshotForm
from authserver.store.models import App
from authserver.store.orders.paying import enable_order
from authserver.store.orders.service import pending_bank_orders
from authserver.store.web import account, bp, field_error
from authserver.subscriptions.models import Subscription


@bp.get("/store/operator/orders")
@operator_required
def operator_orders() -> Any:
    """Bank-deposit orders waiting for their payment to be confirmed."""
    orders = pending_bank_orders(session=db.session)
    subscriptions = {o.subscription_pk: db.session.get(Subscription, o.subscription_pk) for o in orders}
    return render_template("store/operator/orders.html", orders=orders, subscriptions=subscriptions)


@bp.post("/store/operator/orders/<code>/enable")
@operator_required
def enable(code: str) -> Any:
    """Enable: the deposit arrived; the licence starts, the admin is told, the invoice is issued (once)."""
    try:
        paid = enable_order(session=db.session, code=code, operator=account())
    except StoreStateError as exc:
        flash(exc.detail or "", "error")
        return redirect(url_for("store.operator_orders"))
    if not paid.changed:
        flash(f"Order {paid.order.code} was already enabled.", "info")
        return redirect(url_for("store.operator_orders"))
    subscription = db.session.get(Subscription, paid.order.subscription_pk)
    owner = db.session.get(AdminAccount, subscription.owner_id) if subscription else None
    if subscription is not None and owner is not None:
        sent = send_order_completed(to=owner.email, subscription=subscription, order=paid.order, invoice=paid.invoice)
        if not sent:
            flash("The admin could not be e-mailed; the order is enabled all the same.", "error")
    invoice = paid.invoice.number if paid.invoice else "—"
    flash(f"Order {paid.order.code} is enabled; invoice {invoice} is issued.", "success")
    return redirect(url_for("store.operator_orders"))


@bp.get("/store/operator/apps")
@operator_required
def operator_apps() -> Any:
    """The catalogue, hidden apps included."""
    return render_template(
        "store/operator/apps.html", apps=catalogue.list_apps(session=db.session, include_hidden=True)
    )


def _app_values(form: AppForm) -> dict[str, Any]:
    def number(field: Any, name: str, message: str) -> int:
        text = (field.data or "").strip()
        if not text.isdigit():
            raise StoreFieldError(name, message)
        return int(text)

    return {
        "name": form.name.data,
        "summary": form.summary.data,
        "description": form.description.data,
        "pricing": form.pricing.data,
        "trial_days": number(form.trial_days, "trial_days", "Enter a trial length from 1 to 365 days."),
        "endpoint_type": form.endpoint_type.data,
        "endpoint_needs_admin": form.endpoint_needs_admin.data,
        "web_address": form.web_address.data,
        "published": form.published.data,
        "position": number(form.position, "position", "Enter a whole number."),
    }


@bp.route("/store/operator/apps/new", methods=["GET", "POST"])
@operator_required
def operator_new_app() -> Any:
    """Add an app to the catalogue."""
    form = AppForm()
    status = 200
    if form.validate_on_submit():
        try:
            app = catalogue.create_app(
                session=db.session, actor=audit.account_actor(account().id), code=form.code.data, **_app_values(form)
            )
        except StoreFieldError as exc:
            field_error(form, exc)
            status = 422
        else:
            flash(f"{app.name} is in the catalogue. Add its versions and screenshots.", "success")
            return redirect(url_for("store.operator_app", code=app.code))
    return render_template("store/operator/app_new.html", form=form), status


def _edit_page(app: App, form: AppForm, status: int = 200, **forms: Any) -> Any:
    return render_template(
        "store/operator/app_edit.html",
        app=app,
        form=form,
        plan_form=forms.get("plan_form") or PlanForm(formdata=None, extra_user_price=""),
        shot_form=forms.get("shot_form") or ScreenshotForm(formdata=None),
    ), status


@bp.route("/store/operator/apps/<code>", methods=["GET", "POST"])
@operator_required
def operator_app(code: str) -> Any:
    """Edit an app: its texts, pricing, endpoint, web address and visibility."""
    app = catalogue.app_by_code(session=db.session, code=code, include_hidden=True)
    form = AppForm(obj=app) if request.method == "GET" else AppForm()
    if request.method == "GET":
        form.trial_days.data, form.position.data = str(app.trial_days), str(app.position)
        form.endpoint_type.data = app.endpoint_type or ""
        form.web_address.data = app.web_address or ""
    if form.validate_on_submit():
        try:
            catalogue.update_app(
                session=db.session, actor=audit.account_actor(account().id), app=app, **_app_values(form)
            )
        except StoreFieldError as exc:
            field_error(form, exc)
            return _edit_page(app, form, 422)
        flash(f"{app.name} is saved.", "success")
        return redirect(url_for("store.operator_app", code=app.code))
    return _edit_page(app, form)


def _plan_values(form: PlanForm) -> dict[str, Any]:
    users = (form.users.data or "").strip()
    if not users.isdigit():
        raise StoreFieldError("users", "Enter a number of users from 1 to 10000.")
    values: dict[str, Any] = {
        "name": form.name.data,
        "users": int(users),
        "monthly_price": form.monthly_price.data or "",
        "active": form.active.data,
    }
    if (form.extra_user_price.data or "").strip():
        values["extra_user_price"] = form.extra_user_price.data
    return values


@bp.post("/store/operator/apps/<code>/plans")
@operator_required
def operator_add_plan(code: str) -> Any:
    """Add a version (users, monthly price, extra-user price) to an app."""
    app = catalogue.app_by_code(session=db.session, code=code, include_hidden=True)
    form = PlanForm()
    if not form.validate_on_submit():
        return _edit_page(app, AppForm(obj=app), 422, plan_form=form)
    try:
        catalogue.add_plan(session=db.session, actor=audit.account_actor(account().id), app=app, **_plan_values(form))
    except StoreFieldError as exc:
        field_error(form, exc)
        return _edit_page(app, AppForm(obj=app), 422, plan_form=form)
    flash("The version is added.", "success")
    return redirect(url_for("store.operator_app", code=app.code))


@bp.post("/store/operator/apps/<code>/plans/<int:plan_id>")
@operator_required
def operator_update_plan(code: str, plan_id: int) -> Any:
    """Change a version's prices, users, or take it off sale."""
    app = catalogue.app_by_code(session=db.session, code=code, include_hidden=True)
    plan = catalogue.plan_of(app=app, plan_id=plan_id, active_only=False)
    form = PlanForm()
    if form.validate_on_submit():
        try:
            catalogue.update_plan(
                session=db.session, actor=audit.account_actor(account().id), plan=plan, **_plan_values(form)
            )
        except StoreFieldError as exc:
            flash(f"{plan.name}: {exc.message}", "error")
        else:
            flash(f"{plan.name} is saved.", "success")
    return redirect(url_for("store.operator_app", code=app.code))


@bp.post("/store/operator/apps/<code>/screenshots")
@operator_required
def operator_add_screenshot(code: str) -> Any:
    """Upload a screenshot or pick a bundled one."""
    app = catalogue.app_by_code(session=db.session, code=code, include_hidden=True)
    form = ScreenshotForm()
    if not form.validate_on_submit():
        return _edit_page(app, AppForm(obj=app), 422, shot_form=form)
    upload = form.upload.data
    content = upload.read(catalogue.MAX_UPLOAD_BYTES + 1) if upload and upload.filename else None
    try:
        catalogue.add_screenshot(
            session=db.session,
            actor=audit.account_actor(account().id),
            app=app,
            caption=form.caption.data or "",
            bundled=form.bundled.data or None if content is None else None,
            content=content,
        )
    except StoreFieldError as exc:
        field_error(form, exc)
        return _edit_page(app, AppForm(obj=app), 422, shot_form=form)
    flash("The screenshot is added.", "success")
    return redirect(url_for("store.operator_app", code=app.code))


@bp.post("/store/operator/apps/<code>/screenshots/<int:shot_id>/remove")
@operator_required
def operator_remove_screenshot(code: str, shot_id: int) -> Any:
    """Remove a screenshot."""
    app = catalogue.app_by_code(session=db.session, code=code, include_hidden=True)
    catalogue.remove_screenshot(
        session=db.session, actor=audit.account_actor(account().id), app=app, screenshot_id=shot_id
    )
    flash("The screenshot is removed.", "success")
    return redirect(url_for("store.operator_app", code=app.code))
