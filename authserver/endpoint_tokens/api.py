"""`/api/v1/subscriptions/<id>/endpoint-tokens`: list, create (answers the authorize URL to open), reveal,
rotate, revoke. Personal access token or portal session, as every `/api/v1` route (authserver.api.auth)."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from authserver import audit
from authserver.api.auth import api_account, api_owned, protect
from authserver.endpoint_tokens import lifecycle, service
from authserver.endpoint_tokens.schemas import (
    EndpointTokenCreateSchema,
    EndpointTokenKeySchema,
    EndpointTokenRequestSchema,
    EndpointTokenRevokedSchema,
    EndpointTokenSchema,
)
from authserver.endpoint_tokens.views import start_add_token
from authserver.extensions import db
from authserver.gateway_client import gateway_client
from authserver.oauth2.runtime import client_cache
from shared.api import Blueprint
from shared.errors import ValidationProblem
from shared.service import encryptor

__all__ = ["bp"]

bp = protect(
    Blueprint(
        "api_endpoint_tokens",
        __name__,
        url_prefix="/api/v1/subscriptions/<subscription_id>/endpoint-tokens",
        description="Endpoint tokens (API keys): created through the ERP user's Allow, registered in EBS",
    )
)


def _actor() -> str:
    return audit.account_actor(api_account().id)


@bp.get("")
@bp.response(200, EndpointTokenSchema(many=True))
def list_endpoint_tokens(subscription_id: str) -> Any:
    """The subscription's live endpoint tokens (never their keys)."""
    return service.list_tokens(session=db.session, subscription=api_owned(subscription_id))


@bp.post("")
@bp.arguments(EndpointTokenCreateSchema)
@bp.response(201, EndpointTokenRequestSchema)
def create_endpoint_token(data: dict[str, Any], subscription_id: str) -> Any:
    """Add Token: check the request and answer the authorize URL; the token exists once an ERP user allows."""
    subscription = api_owned(subscription_id)
    try:
        pending, url = start_add_token(subscription=subscription, account_id=api_account().id, via_api=True, **data)
    except service.EndpointTokenFieldError as error:
        names = {"bridge_id": "bridgeId", "endpoint_type": "endpointType"}
        raise ValidationProblem({names.get(error.field, error.field): [error.message]}, error.message) from None
    return {"request_id": pending.id, "authorize_url": url, "expires_at": pending.expires_at}


@bp.post("/<token_id>/reveal")
@bp.response(200, EndpointTokenKeySchema)
def reveal_endpoint_token(subscription_id: str, token_id: str) -> Any:
    """The key in clear (audited)."""
    token = service.owned_token(session=db.session, subscription=api_owned(subscription_id), token_id=token_id)
    value = lifecycle.reveal_key(
        session=db.session, encryptor=encryptor(), token=token, actor=_actor(), ip=request.remote_addr
    )
    return {"id": token.id, "api_key": value}


@bp.post("/<token_id>/rotate")
@bp.response(200, EndpointTokenSchema)
def rotate_endpoint_token(subscription_id: str, token_id: str) -> Any:
    """A new key registered in EBS; the old one works for ENDPOINT_TOKEN_ROTATION_GRACE_SECONDS more."""
    token = service.owned_token(session=db.session, subscription=api_owned(subscription_id), token_id=token_id)
    return lifecycle.rotate_token(
        session=db.session,
        gateway=gateway_client(),
        encryptor=encryptor(),
        token=token,
        grace_seconds=int(current_app.config["ENDPOINT_TOKEN_ROTATION_GRACE_SECONDS"]),
        actor=_actor(),
        ip=request.remote_addr,
        cache=client_cache(),
    )


@bp.delete("/<token_id>")
@bp.response(200, EndpointTokenRevokedSchema)
def revoke_endpoint_token(subscription_id: str, token_id: str) -> Any:
    """Revoke: the key stops at once; its EBS parameter is removed (`warning` when EBS could not be told)."""
    token = service.owned_token(session=db.session, subscription=api_owned(subscription_id), token_id=token_id)
    warning = lifecycle.revoke_token(
        session=db.session,
        gateway=gateway_client(),
        token=token,
        actor=_actor(),
        ip=request.remote_addr,
        cache=client_cache(),
    )
    return {"revoked": True, "warning": warning}
