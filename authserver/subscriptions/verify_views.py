"""VERIFY CONNECTION pages: stage 1 (the guide's six-field form), then stage 2 (the CSWebAssets file)."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for

from authserver.accounts.access import admin_required
from authserver.extensions import db
from authserver.gateway_client import GatewayProblem, gateway_client
from authserver.subscriptions import service, verify
from authserver.subscriptions.errors import FieldError, StateError
from authserver.subscriptions.forms import VerifyForm
from authserver.subscriptions.models import Bridge, Subscription
from authserver.subscriptions.pages import account, client_ip, owned, owned_bridge, settings, show_problem
from authserver.subscriptions.views import bp
from shared.service import encryptor


def _page(
    subscription: Subscription, form: VerifyForm, bridge: Bridge | None, problem: GatewayProblem | None = None
) -> Any:
    challenge = verify.pending_challenge(bridge=bridge, encryptor=encryptor()) if bridge is not None else None
    return render_template(
        "subscriptions/verify.html",
        subscription=subscription,
        form=form,
        bridge=bridge,
        challenge=challenge,
        problem=problem,
        **settings(),
    )


def _selected(subscription: Subscription, bridge_id: str | None) -> Bridge | None:
    if bridge_id:
        return service.owned_bridge(session=db.session, subscription=subscription, bridge_id=bridge_id)
    return subscription.bridges[0] if len(subscription.bridges) == 1 else None


@bp.get("/<subscription_id>/verify")
@admin_required
def verify_connection(subscription_id: str) -> Any:
    """The VERIFY CONNECTION page of a bridge: its state, a pending code, and the stage-1 form."""
    subscription = owned(subscription_id)
    bridge = _selected(subscription, request.args.get("bridge"))
    form = VerifyForm(
        formdata=None,
        subscription_id=subscription.subscription_id,
        bridge_id=bridge.bridge_id if bridge is not None else "",
    )
    return _page(subscription, form, bridge)


@bp.post("/<subscription_id>/verify")
@admin_required
def verify_login(subscription_id: str) -> Any:
    """Stage 1: the back-office user logs in through the gateway; success issues the code for the file."""
    subscription = owned(subscription_id)
    form = VerifyForm()
    bridge = None
    if form.bridge_id.data:
        bridge = service.subscription_bridge(
            session=db.session, subscription=subscription, bridge_id=form.bridge_id.data
        )
    problem = None
    if form.validate_on_submit():
        try:
            verify.verify_login(
                session=db.session,
                gateway=gateway_client(),
                encryptor=encryptor(),
                account=account(),
                subscription=subscription,
                subscription_id=form.subscription_id.data,
                subscription_password=form.subscription_password.data,
                user_id=form.user_id.data,
                password=form.password.data,
                bridge_id=form.bridge_id.data,
                branch_id=form.branch_id.data or None,
                lifetime=int(current_app.config["CHALLENGE_LIFETIME"]),
                ip=client_ip(),
            )
        except (FieldError, GatewayProblem) as exc:
            problem = show_problem(form, exc)
        else:
            flash("The login succeeded. Now create the file below on the application server.", "success")
            return redirect(
                url_for(".verify_connection", subscription_id=subscription.subscription_id, bridge=form.bridge_id.data)
            )
    return _page(subscription, form, bridge, problem)


@bp.post("/<subscription_id>/bridges/<bridge_id>/verify")
@admin_required
def verify_challenge(subscription_id: str, bridge_id: str) -> Any:
    """Stage 2: the gateway reads CSWebAssets/<SubscriptionID>-<BridgeID>.txt and compares it with the code."""
    bridge = owned_bridge(subscription_id, bridge_id)
    subscription = bridge.subscription
    form = VerifyForm(formdata=None, subscription_id=subscription.subscription_id, bridge_id=bridge.bridge_id)
    try:
        verify.verify_challenge(
            session=db.session,
            gateway=gateway_client(),
            encryptor=encryptor(),
            account=account(),
            bridge=bridge,
            ip=client_ip(),
        )
    except StateError as exc:
        form.form_errors.append(str(exc))
        return _page(subscription, form, bridge)
    except GatewayProblem as problem:
        return _page(subscription, form, bridge, problem)
    flash("Connection verified.", "success")
    return redirect(
        url_for(".verify_connection", subscription_id=subscription.subscription_id, bridge=bridge.bridge_id)
    )
