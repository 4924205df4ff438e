"""Request-side helpers the views share: the bridge named in the path, as a channel to its EBS server."""

from __future__ import annotations

from flask import g

from bridge_gateway.audit import set_audit_subject
from bridge_gateway.bridges.service import load_target
from bridge_gateway.extensions import db
from bridge_gateway.runtime import gateway
from bridge_gateway.upstream import BridgeChannel
from shared.errors import Forbidden
from shared.service import encryptor

__all__ = ["bridge_channel", "check_tenant"]


def bridge_channel(subscription_id: str, bridge_id: str) -> BridgeChannel:
    """The pooled channel of a registered bridge (BridgeNotFoundError otherwise); names it for the audit."""
    gw = gateway()
    target = load_target(
        session=db.session,
        encryptor=encryptor(),
        cache=gw.targets,
        ttl=gw.target_ttl,
        subscription_id=subscription_id,
        bridge_id=bridge_id,
    )
    set_audit_subject(target.subscription_id, target.bridge_id)
    return gw.upstream.channel(target)


def check_tenant(subscription_id: str) -> None:
    """A token bound to a subscription (a `subscription_id` claim) may only name that subscription."""
    tenant = g.token_claims.get("subscription_id")
    if tenant and str(tenant).lower() != subscription_id.lower():
        raise Forbidden("The token belongs to another subscription.")
