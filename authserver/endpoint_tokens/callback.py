"""The callback where the ERP user's Allow or Deny (or a refusal) comes back from the authorize endpoint."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749.errors import AccessDeniedError
from flask import current_app, flash, redirect, request

from authserver import audit
from authserver.accounts.access import current_account
from authserver.endpoint_tokens import flow, service
from authserver.endpoint_tokens.models import EndpointToken, EndpointTokenRequest
from authserver.endpoint_tokens.views import bp, tab_url
from authserver.extensions import db
from authserver.gateway_client import gateway_client
from authserver.portal import render_message
from shared.service import encryptor

__all__ = ["callback"]

_DEFAULT_DENIAL = AccessDeniedError.description  # what Authlib says when Deny was pressed
_EXPIRED = "This endpoint token request is unknown, expired or already finished. Start again with Add Token."


@bp.get(flow.CALLBACK_PATH)
def callback() -> Any:
    """Where the authorization comes back: Deny (or a refusal) creates nothing; Allow creates the token."""
    pending = flow.find_request(session=db.session, state=request.args.get("state", ""))
    account = current_account()
    if pending is None or (account is not None and account.id != pending.account_id):
        return render_message("This link does not work", _EXPIRED, 400)
    subscription_id, code = pending.subscription.subscription_id, pending.app_code
    error = request.args.get("error")
    if error or not request.args.get("code"):
        description = request.args.get("error_description", "")
        reason = description if description and description != _DEFAULT_DENIAL else "Deny was pressed."
        message = f"No endpoint token was created and nothing was written to EBS: {reason}"
        if not flow.claim_request(session=db.session, pending=pending, outcome="denied", message=message):
            return render_message("This link does not work", _EXPIRED, 400)
        audit.record(
            session=db.session,
            event="endpoint_token.denied",
            actor=audit.SYSTEM,
            subscription_id=pending.subscription_pk,
            request_id=pending.id,
            error=(error or "")[:50],
        )
        db.session.commit()
        return _finish(account, subscription_id, code, message, "error")
    if not flow.claim_request(session=db.session, pending=pending, outcome="allowed", message=None):
        return render_message("This link does not work", _EXPIRED, 400)
    return _complete(pending, account, subscription_id, code)


def _complete(pending: EndpointTokenRequest, account: Any, subscription_id: str, code: str) -> Any:
    config = current_app.config
    client = flow.ensure_portal_client(session=db.session, issuer=config["ISSUER"], secret_key=current_app.secret_key)
    token: EndpointToken | None = None
    try:
        user = flow.exchange_code(
            session=db.session,
            client=client,
            code=request.args["code"],
            verifier=encryptor().decrypt(pending.code_verifier_encrypted),
        )
        token = service.create_token(
            session=db.session,
            gateway=gateway_client(),
            encryptor=encryptor(),
            pending=pending,
            user=user,
            ip=request.remote_addr,
        )
    except flow.CodeExchangeError as failure:
        outcome, message = "failed", f"The authorization could not be completed ({failure}). Start again."
    except (service.RegistrationFailed, service.EndpointTokenFieldError) as failure:
        outcome, message = "failed", f"No endpoint token was created. {failure.detail}"
    else:
        outcome, message = "created", f"Endpoint token “{token.title}” created and registered in EBS by {user.user_id}."
    pending.outcome, pending.message, pending.token_id = outcome, message, token.id if token else None
    db.session.commit()
    return _finish(account, subscription_id, code, message, "success" if token else "error")


def _finish(account: Any, subscription_id: str, code: str, message: str, category: str) -> Any:
    if account is None:  # opened from the API's authorize URL in a browser not signed in to the portal
        return render_message(
            "Endpoint token" if category == "success" else "No endpoint token",
            message,
            200 if category == "success" else 400,
        )
    flash(message, category)
    return redirect(tab_url(subscription_id, code))
