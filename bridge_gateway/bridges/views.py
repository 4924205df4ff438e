"""Bridges' connection settings: register, read, change, remove (scope gateway:bridges)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_smorest import Blueprint

from bridge_gateway.api import check_tenant
from bridge_gateway.audit import set_audit_subject
from bridge_gateway.auth import SCOPE_BRIDGES, require_service_token
from bridge_gateway.bridges import service
from bridge_gateway.bridges.schemas import BridgeCreateSchema, BridgeListSchema, BridgeReadSchema, BridgeUpdateSchema
from bridge_gateway.extensions import db
from bridge_gateway.runtime import gateway
from shared.service import encryptor

bp = Blueprint("bridges", __name__, url_prefix="/v1/bridges", description="Bridges' connection settings")


@bp.post("")
@bp.response(201, BridgeReadSchema)
@require_service_token(SCOPE_BRIDGES)
@bp.arguments(BridgeCreateSchema)
def register_bridge(data: dict[str, Any]) -> Any:
    """Register a bridge: SubscriptionID, BridgeID, subscription GID and password, server address, database, company."""
    check_tenant(data["subscription_id"])
    set_audit_subject(data["subscription_id"], data["bridge_id"])
    bridge = service.register_bridge(session=db.session, encryptor=encryptor(), guard=gateway().guard, **data)
    location = url_for(".get_bridge", subscription_id=bridge.subscription_id, bridge_id=bridge.bridge_id)
    return bridge, 201, {"Location": location}


@bp.get("/<subscription_id>")
@bp.response(200, BridgeListSchema)
@require_service_token(SCOPE_BRIDGES)
def list_bridges(subscription_id: str) -> Any:
    """Every bridge registered for a subscription."""
    set_audit_subject(subscription_id)
    return {"bridges": service.list_bridges(session=db.session, subscription_id=subscription_id)}


@bp.get("/<subscription_id>/<bridge_id>")
@bp.response(200, BridgeReadSchema)
@require_service_token(SCOPE_BRIDGES)
def get_bridge(subscription_id: str, bridge_id: str) -> Any:
    """A bridge's settings (never its password)."""
    return service.get_bridge(session=db.session, subscription_id=subscription_id, bridge_id=bridge_id)


@bp.patch("/<subscription_id>/<bridge_id>")
@bp.response(200, BridgeReadSchema)
@require_service_token(SCOPE_BRIDGES)
@bp.arguments(BridgeUpdateSchema)
def update_bridge(data: dict[str, Any], subscription_id: str, bridge_id: str) -> Any:
    """Change some settings; a new address, scheme or password clears the verified state."""
    bridge = service.get_bridge(session=db.session, subscription_id=subscription_id, bridge_id=bridge_id)
    set_audit_subject(bridge.subscription_id, bridge.bridge_id)
    gw = gateway()
    return service.update_bridge(
        session=db.session, encryptor=encryptor(), guard=gw.guard, cache=gw.targets, bridge=bridge, **data
    )


@bp.delete("/<subscription_id>/<bridge_id>")
@bp.response(204)
@require_service_token(SCOPE_BRIDGES)
def delete_bridge(subscription_id: str, bridge_id: str) -> Any:
    """Remove a bridge's settings and close its connections."""
    bridge = service.get_bridge(session=db.session, subscription_id=subscription_id, bridge_id=bridge_id)
    set_audit_subject(bridge.subscription_id, bridge.bridge_id)
    key = (bridge.subscription_id.lower(), bridge.bridge_id.lower())
    gw = gateway()
    service.delete_bridge(session=db.session, cache=gw.targets, bridge=bridge)
    gw.upstream.forget(key)
    return None
