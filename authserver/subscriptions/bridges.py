"""Connections (bridges) of a subscription: Add Connection, change, remove; here and at the gateway at once."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from authserver import audit
from authserver.accounts.models import AdminAccount
from authserver.gateway_client import GatewayClient, GatewayProblem
from authserver.subscriptions.errors import DuplicateError
from authserver.subscriptions.models import ADDRESS_SETTINGS, Bridge, Subscription
from authserver.subscriptions.registration import (
    register_at_gateway,
    save_registered,
    subscription_password,
    with_registration,
)
from authserver.subscriptions.rules import normalize_host
from authserver.subscriptions.service import TAKEN_BRIDGE, new_bridge, subscription_bridge, utcnow
from shared.secrets import Encryptor

__all__ = ["add_bridge", "delete_bridge", "update_bridge"]


def add_bridge(
    *,
    session: Session,
    gateway: GatewayClient,
    encryptor: Encryptor,
    account: AdminAccount,
    subscription: Subscription,
    bridge_id: str,
    database_id: str,
    company_id: str,
    host: str,
    port: int,
    scheme: str = "https",
    ip: str | None = None,
) -> Bridge:
    """Add a connection to the subscription and register it at the gateway; raise DuplicateError, GatewayProblem."""
    if subscription_bridge(session=session, subscription=subscription, bridge_id=bridge_id) is not None:
        raise DuplicateError("bridge_id", TAKEN_BRIDGE)
    bridge = new_bridge(
        bridge_id=bridge_id, database_id=database_id, company_id=company_id, host=host, port=port, scheme=scheme
    )
    password = subscription_password(subscription=subscription, encryptor=encryptor)
    register_at_gateway(gateway, subscription, bridge, password)
    subscription.bridges.append(bridge)

    def record() -> None:
        audit.record(
            session=session,
            event="bridge.created",
            actor=audit.account_actor(account.id),
            subscription_id=subscription.id,
            ip=ip,
            bridge=bridge.bridge_id,
        )

    names = [(subscription.subscription_id, bridge.bridge_id)]
    save_registered(session, gateway, names, DuplicateError("bridge_id", TAKEN_BRIDGE), record)
    return bridge


def update_bridge(
    *,
    session: Session,
    gateway: GatewayClient,
    encryptor: Encryptor,
    account: AdminAccount,
    bridge: Bridge,
    database_id: str | None = None,
    company_id: str | None = None,
    host: str | None = None,
    port: int | None = None,
    scheme: str | None = None,
    ip: str | None = None,
) -> Bridge:
    """Change a connection's settings here and at the gateway; a new scheme, host or port makes it unverified."""
    wanted: dict[str, Any] = {
        "database_id": database_id.strip() if database_id is not None else None,
        "company_id": company_id.strip() if company_id is not None else None,
        "host": normalize_host(host) if host is not None else None,
        "port": int(port) if port is not None else None,
        "scheme": scheme,
    }
    changes = {k: v for k, v in wanted.items() if v is not None and v != getattr(bridge, k)}
    if not changes:
        return bridge
    sub = bridge.subscription  # loaded before anything is pending
    for name, value in changes.items():
        setattr(bridge, name, value)
    unverified = bridge.is_verified and any(name in ADDRESS_SETTINGS for name in changes)
    if any(name in ADDRESS_SETTINGS for name in changes):
        bridge.mark_unverified()
    bridge.updated_at = utcnow()
    try:
        with session.no_autoflush:
            with_registration(
                gateway=gateway,
                bridge=bridge,
                encryptor=encryptor,
                call=lambda: gateway.update_bridge(
                    subscription_id=sub.subscription_id, bridge_id=bridge.bridge_id, **changes
                ),
            )
    except GatewayProblem:
        session.rollback()
        raise
    audit.record(
        session=session,
        event="bridge.updated",
        actor=audit.account_actor(account.id),
        subscription_id=sub.id,
        ip=ip,
        bridge=bridge.bridge_id,
        changed=sorted(changes),
        unverified=unverified,
    )
    session.commit()
    return bridge


def delete_bridge(
    *, session: Session, gateway: GatewayClient, account: AdminAccount, bridge: Bridge, ip: str | None = None
) -> None:
    """Remove a connection here and at the gateway."""
    sub = bridge.subscription
    gateway.delete_bridge(subscription_id=sub.subscription_id, bridge_id=bridge.bridge_id)
    audit.record(
        session=session,
        event="bridge.deleted",
        actor=audit.account_actor(account.id),
        subscription_id=sub.id,
        ip=ip,
        bridge=bridge.bridge_id,
    )
    sub.bridges.remove(bridge)
    session.delete(bridge)
    session.commit()
