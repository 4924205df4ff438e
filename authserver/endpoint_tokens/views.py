"""The Integrations tab of an owned app (Add Token, click-to-show, Copy, Rotate, Revoke) and the callback
where the ERP user's Allow or Deny comes back."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, flash, make_response, redirect, render_template, request, url_for

from authserver import audit
from authserver.accounts.access import admin_required, current_account
from authserver.accounts.models import AdminAccount
from authserver.endpoint_tokens import flow, lifecycle, service
from authserver.endpoint_tokens.models import EndpointTokenRequest
from authserver.extensions import db
from authserver.gateway_client import gateway_client
from authserver.oauth2.runtime import client_cache
from authserver.portal import render_message
from authserver.store.catalogue.service import app_by_code
from authserver.store.licences.service import is_active, licence_for
from authserver.subscriptions.models import Subscription
from authserver.subscriptions.service import owned_subscription
from shared.errors import NotFound, Problem
from shared.service import encryptor

__all__ = ["bp", "start_add_token", "tab_url"]

bp = Blueprint(
    "endpoint_tokens",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/endpoint-tokens",
)


@bp.errorhandler(Problem)
def _problem_page(problem: Problem) -> Response:
    return render_message(problem.title, problem.detail or problem.title, problem.status)


def _account() -> AdminAccount:
    """The signed-in account (the tab's views are behind admin_required)."""
    found = current_account()
    if found is None:
        raise RuntimeError("the Integrations tab is behind admin_required")
    return found


def tab_url(subscription_id: str, code: str) -> str:
    return url_for("endpoint_tokens.integrations", sub_id=subscription_id, code=code)


def _context(sub_id: str, code: str) -> tuple[Subscription, Any]:
    subscription = owned_subscription(session=db.session, account=_account(), subscription_id=sub_id)
    app = app_by_code(session=db.session, code=code, include_hidden=True)
    licence = licence_for(session=db.session, subscription_id=subscription.id, app_code=app.code)
    if licence is None:
        raise NotFound("This app is not in the subscription's apps.")
    return subscription, licence


def _render(
    subscription: Subscription,
    licence: Any,
    *,
    status: int = 200,
    form: dict | None = None,
    errors: dict | None = None,
    revealed: dict[str, str] | None = None,
) -> Response:
    choices = service.endpoint_choices(session=db.session, subscription=subscription)
    default_type = licence.app.endpoint_type if any(t == licence.app.endpoint_type for _, t in choices) else ""
    body = render_template(
        "endpoint_tokens/integrations.html",
        subscription=subscription,
        licence=licence,
        active=is_active(licence),
        tab="integrations",
        tokens=service.list_tokens(session=db.session, subscription=subscription),
        choices=choices,
        bridges=[b for b in subscription.bridges if b.verified_at is not None],
        form=form or {"endpoint_type": default_type},
        errors=errors or {},
        revealed=revealed or {},
    )
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/subscriptions/<sub_id>/apps/<code>/integrations")
@admin_required
def integrations(sub_id: str, code: str) -> Any:
    """The Integrations tab: the subscription's endpoint tokens and Add Token."""
    return _render(*_context(sub_id, code))


def start_add_token(
    *, subscription: Subscription, account_id: int, title: str, bridge_id: str, endpoint_type: str, via_api: bool
) -> tuple[EndpointTokenRequest, str]:
    """Check an Add Token request and store it pending; answer it with the authorize URL to open."""
    bridge, app = service.check_new_token(
        session=db.session, subscription=subscription, title=title, bridge_id=bridge_id, endpoint_type=endpoint_type
    )
    config = current_app.config
    client = flow.ensure_portal_client(session=db.session, issuer=config["ISSUER"], secret_key=current_app.secret_key)
    pending, url = flow.start_request(
        session=db.session,
        encryptor=encryptor(),
        client=client,
        issuer=config["ISSUER"],
        subscription=subscription,
        account_id=account_id,
        bridge_id=bridge.bridge_id,
        endpoint_type=endpoint_type,
        app_code=app.code,
        title=title.strip(),
        lifetime=int(config["ENDPOINT_TOKEN_REQUEST_LIFETIME"]),
        via_api=via_api,
    )
    audit.record(
        session=db.session,
        event="endpoint_token.requested",
        actor=audit.account_actor(account_id),
        subscription_id=subscription.id,
        ip=request.remote_addr,
        request_id=pending.id,
        endpoint_type=endpoint_type,
        bridge_id=bridge.bridge_id,
    )
    db.session.commit()
    return pending, url


@bp.post("/subscriptions/<sub_id>/apps/<code>/integrations")
@admin_required
def add_token(sub_id: str, code: str) -> Any:
    """Add Token → Next: off to the ERP sign-in and the Allow / Deny page."""
    subscription, licence = _context(sub_id, code)
    form = {name: request.form.get(name, "")[:300] for name in ("title", "bridge_id", "endpoint_type")}
    try:
        _, url = start_add_token(
            subscription=subscription,
            account_id=_account().id,
            via_api=False,
            **form,
        )
    except service.EndpointTokenFieldError as error:
        return _render(subscription, licence, status=422, form=form, errors={error.field: error.message})
    return redirect(url)


def _actor() -> str:
    return audit.account_actor(_account().id)


@bp.post("/subscriptions/<sub_id>/apps/<code>/integrations/<token_id>/reveal")
@admin_required
def reveal(sub_id: str, code: str, token_id: str) -> Any:
    """Click to show: the key on this page only (not stored in the session), audited."""
    subscription, licence = _context(sub_id, code)
    token = service.owned_token(session=db.session, subscription=subscription, token_id=token_id)
    value = lifecycle.reveal_key(
        session=db.session, encryptor=encryptor(), token=token, actor=_actor(), ip=request.remote_addr
    )
    return _render(subscription, licence, revealed={token.id: value})


@bp.post("/subscriptions/<sub_id>/apps/<code>/integrations/<token_id>/rotate")
@admin_required
def rotate(sub_id: str, code: str, token_id: str) -> Any:
    """Rotate: a new key registered in EBS; the old one works for the grace period."""
    subscription, _ = _context(sub_id, code)
    token = service.owned_token(session=db.session, subscription=subscription, token_id=token_id)
    grace = int(current_app.config["ENDPOINT_TOKEN_ROTATION_GRACE_SECONDS"])
    try:
        lifecycle.rotate_token(
            session=db.session,
            gateway=gateway_client(),
            encryptor=encryptor(),
            token=token,
            grace_seconds=grace,
            actor=_actor(),
            ip=request.remote_addr,
            cache=client_cache(),
        )
    except service.RegistrationFailed as failure:
        flash(f"The key was not rotated: {failure.detail}", "error")
    else:
        flash(
            f"“{token.title}” has a new key, registered in EBS. The old key works for {_duration(grace)} more.",
            "success",
        )
    return redirect(tab_url(subscription.subscription_id, code))


@bp.post("/subscriptions/<sub_id>/apps/<code>/integrations/<token_id>/revoke")
@admin_required
def revoke(sub_id: str, code: str, token_id: str) -> Any:
    """Revoke: the key stops at once; its EBS parameter is removed."""
    subscription, _ = _context(sub_id, code)
    token = service.owned_token(session=db.session, subscription=subscription, token_id=token_id)
    title = token.title
    warning = lifecycle.revoke_token(
        session=db.session,
        gateway=gateway_client(),
        token=token,
        actor=_actor(),
        ip=request.remote_addr,
        cache=client_cache(),
    )
    if warning:
        flash(warning, "error")
    else:
        flash(f"“{title}” is revoked and removed from EBS.", "success")
    return redirect(tab_url(subscription.subscription_id, code))


def _duration(seconds: int) -> str:
    if seconds % 86400 == 0:
        return f"{seconds // 86400} day(s)"
    if seconds % 3600 == 0:
        return f"{seconds // 3600} hour(s)"
    return f"{seconds} seconds"
