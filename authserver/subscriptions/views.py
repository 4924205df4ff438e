"""My subscription: the list, Create New Subscription, details, connections (bridges) and the Audit log tab."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from authserver.accounts.access import admin_required
from authserver.accounts.passwords import POLICY
from authserver.extensions import db
from authserver.gateway_client import GatewayProblem, gateway_client
from authserver.subscriptions import bridges, service
from authserver.subscriptions.audit_log import subscription_events
from authserver.subscriptions.errors import FieldError
from authserver.subscriptions.forms import BridgeEditForm, BridgeForm, SubscriptionEditForm, SubscriptionForm
from authserver.subscriptions.pages import (
    account,
    client_ip,
    install_page_errors,
    owned,
    owned_bridge,
    settings,
    show_problem,
)
from shared.service import encryptor

bp = Blueprint("subscriptions", __name__, url_prefix="/subscriptions", template_folder="templates")
# The stylesheet lives outside /subscriptions/, so that no Subscription ID has to be reserved for it.
assets = Blueprint("subscriptions_assets", __name__, static_folder="static", static_url_path="/static/subscriptions")
install_page_errors(bp)


def _connection(form: Any) -> dict[str, Any]:
    return {
        "database_id": form.database_id.data,
        "company_id": form.company_id.data,
        "host": form.host.data,
        "port": int(form.port.data),
        "scheme": form.scheme.data,
    }


@bp.get("")
@admin_required
def index() -> Any:
    """The account's subscriptions, with Create New Subscription."""
    subscriptions = service.list_subscriptions(session=db.session, account=account())
    return render_template("subscriptions/index.html", subscriptions=subscriptions)


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def new() -> Any:
    """Create New Subscription: its details and the application server it connects to (its first bridge)."""
    form = SubscriptionForm()
    problem = None
    if form.validate_on_submit():
        try:
            subscription = service.create_subscription(
                session=db.session,
                gateway=gateway_client(),
                encryptor=encryptor(),
                account=account(),
                company_name=form.company_name.data,
                subscription_id=form.subscription_id.data,
                serial_number=form.serial_number.data,
                vat_number=form.vat_number.data,
                password=form.password.data,
                bridge_id=form.bridge_id.data or None,
                ip=client_ip(),
                **_connection(form),
            )
        except (FieldError, GatewayProblem) as exc:
            problem = show_problem(form, exc)
        else:
            flash(f"Subscription {subscription.subscription_id} created. Next: VERIFY CONNECTION.", "success")
            return redirect(url_for(".detail", subscription_id=subscription.subscription_id))
    return render_template("subscriptions/new.html", form=form, policy=POLICY, problem=problem, **settings())


@bp.get("/<subscription_id>")
@admin_required
def detail(subscription_id: str) -> Any:
    """The Details tab: the subscription, its SubscriptionGID and its connections."""
    return render_template(
        "subscriptions/detail.html", subscription=owned(subscription_id), tab="details", **settings()
    )


@bp.route("/<subscription_id>/edit", methods=["GET", "POST"])
@admin_required
def edit(subscription_id: str) -> Any:
    """Change Company Name, serial and VAT numbers, or the subscription password."""
    subscription = owned(subscription_id)
    form = SubscriptionEditForm(obj=subscription)
    problem = None
    if form.validate_on_submit():
        try:
            service.update_subscription(
                session=db.session,
                gateway=gateway_client(),
                encryptor=encryptor(),
                account=account(),
                subscription=subscription,
                company_name=form.company_name.data,
                serial_number=form.serial_number.data,
                vat_number=form.vat_number.data,
                password=form.password.data or None,
                ip=client_ip(),
            )
        except (FieldError, GatewayProblem) as exc:
            problem = show_problem(form, exc)
        else:
            flash("The subscription is saved.", "success")
            return redirect(url_for(".detail", subscription_id=subscription.subscription_id))
    return render_template(
        "subscriptions/edit.html", form=form, subscription=subscription, policy=POLICY, problem=problem
    )


@bp.route("/<subscription_id>/bridges/new", methods=["GET", "POST"])
@admin_required
def bridge_new(subscription_id: str) -> Any:
    """Add Connection: another application server (bridge) of the subscription."""
    subscription = owned(subscription_id)
    form = BridgeForm()
    problem = None
    if form.validate_on_submit():
        try:
            bridge = bridges.add_bridge(
                session=db.session,
                gateway=gateway_client(),
                encryptor=encryptor(),
                account=account(),
                subscription=subscription,
                bridge_id=form.bridge_id.data,
                ip=client_ip(),
                **_connection(form),
            )
        except (FieldError, GatewayProblem) as exc:
            problem = show_problem(form, exc)
        else:
            flash(f"Connection {bridge.bridge_id} added. Next: VERIFY CONNECTION.", "success")
            return redirect(url_for(".detail", subscription_id=subscription.subscription_id))
    return render_template(
        "subscriptions/bridge_form.html",
        form=form,
        subscription=subscription,
        bridge=None,
        problem=problem,
        **settings(),
    )


@bp.route("/<subscription_id>/bridges/<bridge_id>/edit", methods=["GET", "POST"])
@admin_required
def bridge_edit(subscription_id: str, bridge_id: str) -> Any:
    """Change a connection's server details; a new address or port makes it unverified again."""
    bridge = owned_bridge(subscription_id, bridge_id)
    form = BridgeEditForm(obj=bridge)
    problem = None
    if form.validate_on_submit():
        try:
            bridges.update_bridge(
                session=db.session,
                gateway=gateway_client(),
                encryptor=encryptor(),
                account=account(),
                bridge=bridge,
                ip=client_ip(),
                **_connection(form),
            )
        except (FieldError, GatewayProblem) as exc:
            problem = show_problem(form, exc)
        else:
            note = "" if bridge.is_verified else " It is not verified: use VERIFY CONNECTION."
            flash(f"Connection {bridge.bridge_id} saved.{note}", "success")
            return redirect(url_for(".detail", subscription_id=bridge.subscription.subscription_id))
    return render_template(
        "subscriptions/bridge_form.html",
        form=form,
        subscription=bridge.subscription,
        bridge=bridge,
        problem=problem,
        **settings(),
    )


@bp.post("/<subscription_id>/bridges/<bridge_id>/delete")
@admin_required
def bridge_delete(subscription_id: str, bridge_id: str) -> Any:
    """Remove a connection, here and at the gateway."""
    bridge = owned_bridge(subscription_id, bridge_id)
    subscription = bridge.subscription
    try:
        bridges.delete_bridge(
            session=db.session, gateway=gateway_client(), account=account(), bridge=bridge, ip=client_ip()
        )
    except GatewayProblem as problem:
        flash(problem.message, "error")
    else:
        flash(f"Connection {bridge_id} removed.", "success")
    return redirect(url_for(".detail", subscription_id=subscription.subscription_id))


@bp.get("/<subscription_id>/audit")
@admin_required
def audit_log(subscription_id: str) -> Any:
    """The Audit log tab: newest first, a page at a time."""
    subscription = owned(subscription_id)
    page = request.args.get("page", "1")
    events = subscription_events(
        session=db.session,
        subscription=subscription,
        page=int(page) if page.isdigit() and len(page) < 7 else 1,
        per_page=int(current_app.config["AUDIT_PAGE_SIZE"]),
    )
    return render_template(
        "subscriptions/audit.html", subscription=subscription, tab="audit", events=events, me=account()
    )
