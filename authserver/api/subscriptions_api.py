"""`/api/v1/subscriptions`: subscriptions, their connections (bridges), VERIFY CONNECTION and the audit log."""

from __future__ import annotations

from typing import Any

from flask import current_app, request, url_for

from authserver.api.auth import api_account, api_owned, api_owned_bridge, protect
from authserver.api.schemas import (
    AuditPageSchema,
    AuditQuerySchema,
    BridgeCreateSchema,
    BridgeSchema,
    BridgeUpdateSchema,
    ChallengeSchema,
    SubscriptionCreateSchema,
    SubscriptionSchema,
    SubscriptionUpdateSchema,
    VerifyLoginSchema,
)
from authserver.extensions import db
from authserver.gateway_client import gateway_client
from authserver.subscriptions import bridges, service, verify
from authserver.subscriptions.audit_log import subscription_events
from shared.api import Blueprint
from shared.service import encryptor

bp = protect(
    Blueprint(
        "api_subscriptions",
        __name__,
        url_prefix="/api/v1/subscriptions",
        description="Subscriptions, connections (bridges), VERIFY CONNECTION and the audit log",
    )
)


def _ip() -> str | None:
    return request.remote_addr


def _services() -> dict[str, Any]:
    return {"session": db.session, "gateway": gateway_client(), "encryptor": encryptor(), "account": api_account()}


@bp.get("")
@bp.response(200, SubscriptionSchema(many=True))
def list_subscriptions() -> Any:
    """The caller's subscriptions."""
    return service.list_subscriptions(session=db.session, account=api_account())


@bp.post("")
@bp.arguments(SubscriptionCreateSchema)
@bp.response(201, SubscriptionSchema)
def create_subscription(data: dict[str, Any]) -> Any:
    """Create New Subscription with its first connection, registered at the bridge gateway."""
    subscription = service.create_subscription(**_services(), ip=_ip(), **data)
    location = url_for(".get_subscription", subscription_id=subscription.subscription_id)
    return subscription, 201, {"Location": location}


@bp.get("/<subscription_id>")
@bp.response(200, SubscriptionSchema)
def get_subscription(subscription_id: str) -> Any:
    """One subscription with its SubscriptionGID and connections."""
    return api_owned(subscription_id)


@bp.patch("/<subscription_id>")
@bp.arguments(SubscriptionUpdateSchema)
@bp.response(200, SubscriptionSchema)
def update_subscription(data: dict[str, Any], subscription_id: str) -> Any:
    """Change Company Name, serial or VAT number, or the subscription password."""
    subscription = api_owned(subscription_id)
    return service.update_subscription(**_services(), subscription=subscription, ip=_ip(), **data)


@bp.get("/<subscription_id>/bridges")
@bp.response(200, BridgeSchema(many=True))
def list_bridges(subscription_id: str) -> Any:
    """The subscription's connections."""
    return api_owned(subscription_id).bridges


@bp.post("/<subscription_id>/bridges")
@bp.arguments(BridgeCreateSchema)
@bp.response(201, BridgeSchema)
def add_bridge(data: dict[str, Any], subscription_id: str) -> Any:
    """Add Connection: a BridgeID unique within the subscription, and the server details."""
    subscription = api_owned(subscription_id)
    bridge = bridges.add_bridge(**_services(), subscription=subscription, ip=_ip(), **data)
    location = url_for(".get_bridge", subscription_id=subscription.subscription_id, bridge_id=bridge.bridge_id)
    return bridge, 201, {"Location": location}


@bp.get("/<subscription_id>/bridges/<bridge_id>")
@bp.response(200, BridgeSchema)
def get_bridge(subscription_id: str, bridge_id: str) -> Any:
    """One connection and whether it is verified."""
    return api_owned_bridge(subscription_id, bridge_id)


@bp.patch("/<subscription_id>/bridges/<bridge_id>")
@bp.arguments(BridgeUpdateSchema)
@bp.response(200, BridgeSchema)
def update_bridge(data: dict[str, Any], subscription_id: str, bridge_id: str) -> Any:
    """Change a connection; a new scheme, host or port makes it unverified again."""
    bridge = api_owned_bridge(subscription_id, bridge_id)
    return bridges.update_bridge(**_services(), bridge=bridge, ip=_ip(), **data)


@bp.delete("/<subscription_id>/bridges/<bridge_id>")
@bp.response(204)
def delete_bridge(subscription_id: str, bridge_id: str) -> Any:
    """Remove a connection, here and at the gateway."""
    bridge = api_owned_bridge(subscription_id, bridge_id)
    bridges.delete_bridge(session=db.session, gateway=gateway_client(), account=api_account(), bridge=bridge, ip=_ip())
    return None


@bp.post("/<subscription_id>/bridges/<bridge_id>/verify/login")
@bp.arguments(VerifyLoginSchema)
@bp.response(200, ChallengeSchema)
def verify_login(data: dict[str, Any], subscription_id: str, bridge_id: str) -> Any:
    """VERIFY CONNECTION stage 1: a back-office user's WebApi login; answers the file to create and its code."""
    subscription = api_owned(subscription_id)
    api_owned_bridge(subscription_id, bridge_id)
    return verify.verify_login(
        **_services(),
        subscription=subscription,
        subscription_id=data.pop("subscription_id", None) or subscription.subscription_id,
        bridge_id=bridge_id,
        lifetime=int(current_app.config["CHALLENGE_LIFETIME"]),
        ip=_ip(),
        **data,
    )


@bp.post("/<subscription_id>/bridges/<bridge_id>/verify/challenge")
@bp.response(200, BridgeSchema)
def verify_challenge(subscription_id: str, bridge_id: str) -> Any:
    """VERIFY CONNECTION stage 2: the gateway finds the code in the CSWebAssets file; the connection is verified."""
    bridge = api_owned_bridge(subscription_id, bridge_id)
    return verify.verify_challenge(**_services(), bridge=bridge, ip=_ip())


@bp.get("/<subscription_id>/audit")
@bp.arguments(AuditQuerySchema, location="query")
@bp.response(200, AuditPageSchema)
def audit_log(query: dict[str, Any], subscription_id: str) -> Any:
    """The subscription's security events and its admin's, newest first."""
    events = subscription_events(session=db.session, subscription=api_owned(subscription_id), **query)
    return {
        "events": events.events,
        "page": events.page,
        "per_page": events.per_page,
        "total": events.total,
        "pages": events.pages,
    }
