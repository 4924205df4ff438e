"""Register, change, read and remove bridges' settings; build the in-memory target the upstream uses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bridge_gateway.bridges.models import Bridge
from bridge_gateway.errors import BridgeExistsError, BridgeNotFoundError
from bridge_gateway.guard import Guard
from bridge_gateway.targets import BridgeTarget
from shared.cache import MemoryCache
from shared.secrets import Encryptor

__all__ = ["delete_bridge", "get_bridge", "list_bridges", "load_target", "register_bridge", "update_bridge"]

# Changing any of these voids a verified connection: the proof was made against the old settings.
_CONNECTION_FIELDS = ("scheme", "host", "port", "subscription_password")


def _now() -> datetime:
    return datetime.now(UTC)


def _find(session: Session, subscription_id: str, bridge_id: str) -> Bridge | None:
    return session.execute(
        select(Bridge).where(
            func.lower(Bridge.subscription_id) == subscription_id.lower(),
            func.lower(Bridge.bridge_id) == bridge_id.lower(),
        )
    ).scalar_one_or_none()


def get_bridge(*, session: Session, subscription_id: str, bridge_id: str) -> Bridge:
    """The bridge `bridge_id` of `subscription_id` (ids are case-insensitive), or BridgeNotFoundError."""
    bridge = _find(session, subscription_id, bridge_id)
    if bridge is None:
        raise BridgeNotFoundError(f"No bridge {bridge_id!r} is registered for subscription {subscription_id!r}.")
    return bridge


def list_bridges(*, session: Session, subscription_id: str) -> list[Bridge]:
    """Every bridge of a subscription, by BridgeID."""
    rows = session.execute(
        select(Bridge)
        .where(func.lower(Bridge.subscription_id) == subscription_id.lower())
        .order_by(func.lower(Bridge.bridge_id))
    )
    return list(rows.scalars())


def register_bridge(
    *,
    session: Session,
    encryptor: Encryptor,
    guard: Guard,
    subscription_id: str,
    bridge_id: str,
    subscription_password: str,
    **settings: Any,
) -> Bridge:
    """Store a new bridge's settings, the subscription password encrypted; the host must pass the guard."""
    guard.check_host(settings["host"], settings["port"])
    if _find(session, subscription_id, bridge_id) is not None:
        raise _exists(subscription_id, bridge_id)
    now = _now()
    bridge = Bridge(
        subscription_id=subscription_id,
        bridge_id=bridge_id,
        subscription_password_encrypted=encryptor.encrypt(subscription_password),
        created_at=now,
        updated_at=now,
        **settings,
    )
    session.add(bridge)
    try:
        session.commit()
    except IntegrityError:  # registered concurrently
        session.rollback()
        raise _exists(subscription_id, bridge_id) from None
    return bridge


def _exists(subscription_id: str, bridge_id: str) -> BridgeExistsError:
    return BridgeExistsError(f"Bridge {bridge_id!r} of subscription {subscription_id!r} is already registered.")


def update_bridge(
    *, session: Session, encryptor: Encryptor, guard: Guard, cache: MemoryCache, bridge: Bridge, **changes: Any
) -> Bridge:
    """Change some settings; a new host or port must pass the guard, and connection changes void verification."""
    if "host" in changes or "port" in changes:
        guard.check_host(changes.get("host", bridge.host), changes.get("port", bridge.port))
    voids = False
    for name, value in changes.items():
        if name == "subscription_password":
            bridge.subscription_password_encrypted = encryptor.encrypt(value)
            voids = True
        elif getattr(bridge, name) != value:
            voids = voids or name in _CONNECTION_FIELDS
            setattr(bridge, name, value)
    if voids:
        bridge.verified_at = None
    bridge.updated_at = _now()
    session.commit()
    cache.delete(_cache_key(bridge.subscription_id, bridge.bridge_id))
    return bridge


def delete_bridge(*, session: Session, cache: MemoryCache, bridge: Bridge) -> None:
    """Forget a bridge's settings."""
    key = _cache_key(bridge.subscription_id, bridge.bridge_id)
    session.delete(bridge)
    session.commit()
    cache.delete(key)


def mark_verified(*, session: Session, bridge: Bridge) -> datetime:
    """Record that Verify Connection succeeded now."""
    bridge.verified_at = _now()
    session.commit()
    return bridge.verified_at


def _cache_key(subscription_id: str, bridge_id: str) -> str:
    return f"{subscription_id.lower()}\x00{bridge_id.lower()}"


def load_target(
    *, session: Session, encryptor: Encryptor, cache: MemoryCache, ttl: float, subscription_id: str, bridge_id: str
) -> BridgeTarget:
    """The bridge as the upstream needs it, cached in this process for `ttl` seconds (never outside it)."""
    key = _cache_key(subscription_id, bridge_id)
    target = cache.get(key)
    if target is None:
        bridge = get_bridge(session=session, subscription_id=subscription_id, bridge_id=bridge_id)
        target = BridgeTarget(
            subscription_id=bridge.subscription_id,
            bridge_id=bridge.bridge_id,
            subscription_gid=bridge.subscription_gid,
            scheme=bridge.scheme,
            host=bridge.host,
            port=bridge.port,
            subscription_password=encryptor.decrypt(bridge.subscription_password_encrypted),
        )
        if ttl > 0:
            cache.set(key, target, ttl=ttl)
    return target
