"""Keeping the bridge gateway in step with the database (docs/portal.md, "The gateway, in the same service call").

The gateway is called before any row is written, so no write transaction stays open while it works: on SQLite
that would lock out the auth server's own token endpoint, which the gateway's call depends on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from authserver.gateway_client import GatewayClient, GatewayProblem
from authserver.subscriptions.errors import DuplicateError
from authserver.subscriptions.models import Bridge, Subscription
from shared.secrets import Encryptor

__all__ = [
    "forget_at_gateway",
    "register_at_gateway",
    "save_registered",
    "subscription_password",
    "with_registration",
]

T = TypeVar("T")


def subscription_password(*, subscription: Subscription, encryptor: Encryptor) -> str:
    """The subscription password in clear, for the gateway and the Verify Connection check only."""
    return encryptor.decrypt(subscription.password_encrypted)


def register_at_gateway(gateway: GatewayClient, subscription: Subscription, bridge: Bridge, password: str) -> None:
    """Register the bridge at the gateway; a registration left over from an earlier failure is overwritten."""
    settings: dict[str, Any] = {
        "subscription_gid": str(subscription.gid),
        "subscription_password": password,
        "scheme": bridge.scheme,
        "host": bridge.host,
        "port": bridge.port,
        "database_id": bridge.database_id,
        "company_id": bridge.company_id,
    }
    try:
        gateway.register_bridge(subscription_id=subscription.subscription_id, bridge_id=bridge.bridge_id, **settings)
    except GatewayProblem as problem:
        if problem.slug != "bridge-exists":
            raise
        gateway.update_bridge(subscription_id=subscription.subscription_id, bridge_id=bridge.bridge_id, **settings)


def forget_at_gateway(gateway: GatewayClient, names: list[tuple[str, str]]) -> None:
    """Best effort: unregister bridges whose rows could not be saved (a later call re-registers what is missing)."""
    for subscription_id, bridge_id in names:
        try:
            gateway.delete_bridge(subscription_id=subscription_id, bridge_id=bridge_id)
        except GatewayProblem:
            pass


def with_registration(*, gateway: GatewayClient, bridge: Bridge, encryptor: Encryptor, call: Callable[[], T]) -> T:
    """Run a gateway call on the bridge; if the gateway has lost the bridge's settings, register them and retry."""
    try:
        return call()
    except GatewayProblem as problem:
        if problem.slug != "bridge-not-found":
            raise
    subscription = bridge.subscription
    password = subscription_password(subscription=subscription, encryptor=encryptor)
    register_at_gateway(gateway, subscription, bridge, password)
    return call()


def save_registered(
    session: Session,
    gateway: GatewayClient,
    names: list[tuple[str, str]],
    duplicate: DuplicateError,
    record: Callable[[], None],
) -> None:
    """Insert what the gateway just registered; when that fails, unregister it again."""
    try:
        session.flush()
        record()
        session.commit()
    except IntegrityError:  # the same id was taken concurrently
        session.rollback()
        forget_at_gateway(gateway, names)
        raise duplicate from None
    except Exception:
        session.rollback()
        forget_at_gateway(gateway, names)
        raise
