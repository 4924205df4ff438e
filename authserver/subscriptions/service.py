"""Subscriptions: create, change, list, and every lookup scoped by the owning account.

A subscription's first bridge is registered at the bridge gateway in the same call (see `registration`);
connections are added, changed and removed in `bridges`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from authserver import audit
from authserver.accounts.models import AdminAccount
from authserver.gateway_client import GatewayClient, GatewayProblem
from authserver.subscriptions.errors import DuplicateError
from authserver.subscriptions.models import Bridge, Subscription
from authserver.subscriptions.registration import (
    register_at_gateway,
    save_registered,
    subscription_password,
    with_registration,
)
from authserver.subscriptions.rules import ID_PATTERN, normalize_host
from shared.errors import NotFound
from shared.secrets import Encryptor

__all__ = [
    "TAKEN_BRIDGE",
    "TAKEN_SUBSCRIPTION",
    "create_subscription",
    "default_bridge_id",
    "list_subscriptions",
    "new_bridge",
    "utcnow",
    "owned_bridge",
    "owned_subscription",
    "subscription_bridge",
    "subscription_by_id",
    "subscription_password",
    "update_subscription",
]

TAKEN_SUBSCRIPTION = "This Subscription ID is taken. Choose another one."
TAKEN_BRIDGE = "This subscription already has a connection with this Bridge ID."


def utcnow() -> datetime:
    """The current UTC time."""
    return datetime.now(UTC)


def subscription_by_id(*, session: Session, subscription_id: str) -> Subscription | None:
    """The subscription with this SubscriptionID (case-insensitive), whoever owns it: for sign-in, not for pages."""
    if not ID_PATTERN.match(subscription_id.strip()):  # nothing else can exist; keeps NUL and the like off the database
        return None
    query = select(Subscription).where(Subscription.subscription_id_normalized == subscription_id.strip().lower())
    return session.execute(query).scalar_one_or_none()


def owned_subscription(*, session: Session, account: AdminAccount, subscription_id: str) -> Subscription:
    """The account's subscription with this SubscriptionID; `NotFound` for another owner's or an unknown one."""
    found = subscription_by_id(session=session, subscription_id=subscription_id)
    if found is None or found.owner_id != account.id:
        raise NotFound("There is no such subscription.")
    return found


def list_subscriptions(*, session: Session, account: AdminAccount) -> list[Subscription]:
    """The account's subscriptions, oldest first."""
    query = select(Subscription).where(Subscription.owner_id == account.id).order_by(Subscription.id)
    return list(session.execute(query).scalars())


def subscription_bridge(*, session: Session, subscription: Subscription, bridge_id: str) -> Bridge | None:
    """The subscription's bridge with this BridgeID (case-insensitive), or None."""
    if not ID_PATTERN.match(bridge_id.strip()):
        return None
    query = select(Bridge).where(
        Bridge.subscription_pk == subscription.id, Bridge.bridge_id_normalized == bridge_id.strip().lower()
    )
    return session.execute(query).scalar_one_or_none()


def owned_bridge(*, session: Session, subscription: Subscription, bridge_id: str) -> Bridge:
    """The bridge of an (already owned) subscription; `NotFound` otherwise."""
    bridge = subscription_bridge(session=session, subscription=subscription, bridge_id=bridge_id)
    if bridge is None:
        raise NotFound("There is no such connection.")
    return bridge


def new_bridge(*, bridge_id: str, database_id: str, company_id: str, host: str, port: int, scheme: str) -> Bridge:
    now = utcnow()
    return Bridge(
        bridge_id=bridge_id.strip(),
        bridge_id_normalized=bridge_id.strip().lower(),
        database_id=database_id.strip(),
        company_id=company_id.strip(),
        scheme=scheme,
        host=normalize_host(host),
        port=int(port),
        created_at=now,
        updated_at=now,
    )


def default_bridge_id(database_id: str, company_id: str) -> str:
    """The first connection's BridgeID when none is given: `<Database ID>_<Company ID>` in the allowed characters."""
    raw = f"{database_id.strip()}_{company_id.strip()}"
    return "".join(c if c.isascii() and (c.isalnum() or c in "_-") else "-" for c in raw)[:50]


def create_subscription(
    *,
    session: Session,
    gateway: GatewayClient,
    encryptor: Encryptor,
    account: AdminAccount,
    company_name: str,
    subscription_id: str,
    serial_number: str,
    vat_number: str,
    password: str,
    database_id: str,
    company_id: str,
    host: str,
    port: int,
    scheme: str = "https",
    bridge_id: str | None = None,
    ip: str | None = None,
) -> Subscription:
    """Create a subscription with its first bridge, registered at the gateway; raise DuplicateError, GatewayProblem."""
    if subscription_by_id(session=session, subscription_id=subscription_id) is not None:
        raise DuplicateError("subscription_id", TAKEN_SUBSCRIPTION)
    now = utcnow()
    subscription = Subscription(
        subscription_id=subscription_id.strip(),
        subscription_id_normalized=subscription_id.strip().lower(),
        company_name=company_name.strip(),
        serial_number=serial_number.strip(),
        vat_number=vat_number.strip(),
        password_encrypted=encryptor.encrypt(password),
        owner_id=account.id,
        created_at=now,
        updated_at=now,
    )
    bridge = new_bridge(
        bridge_id=bridge_id or default_bridge_id(database_id, company_id),
        database_id=database_id,
        company_id=company_id,
        host=host,
        port=port,
        scheme=scheme,
    )
    subscription.gid = uuid.uuid4()
    # The gateway first, the rows after: no write transaction stays open while the gateway works (on SQLite it
    # would lock the auth server's own token endpoint out).
    register_at_gateway(gateway, subscription, bridge, password)
    subscription.bridges.append(bridge)
    session.add(subscription)
    names = [(subscription.subscription_id, bridge.bridge_id)]

    def record() -> None:
        actor = audit.account_actor(account.id)
        audit.record(session=session, event="subscription.created", actor=actor, subscription_id=subscription.id, ip=ip)
        audit.record(
            session=session,
            event="bridge.created",
            actor=actor,
            subscription_id=subscription.id,
            ip=ip,
            subscription=subscription.subscription_id,
            bridge=bridge.bridge_id,
        )

    save_registered(session, gateway, names, DuplicateError("subscription_id", TAKEN_SUBSCRIPTION), record)
    return subscription


def update_subscription(
    *,
    session: Session,
    gateway: GatewayClient,
    encryptor: Encryptor,
    account: AdminAccount,
    subscription: Subscription,
    company_name: str | None = None,
    serial_number: str | None = None,
    vat_number: str | None = None,
    password: str | None = None,
    ip: str | None = None,
) -> Subscription:
    """Change the details or the password; a new password goes to every bridge at the gateway and unverifies them."""
    changed = []
    for name, value in (("company_name", company_name), ("serial_number", serial_number), ("vat_number", vat_number)):
        if value is not None and value.strip() != getattr(subscription, name):
            setattr(subscription, name, value.strip())
            changed.append(name)
    old_password = subscription_password(subscription=subscription, encryptor=encryptor)
    if password is not None and password != old_password:
        subscription.password_encrypted = encryptor.encrypt(password)
        changed.append("password")
        done: list[Bridge] = []
        bridges = list(subscription.bridges)  # loaded before anything is pending
        try:
            for bridge in bridges:
                bridge.mark_unverified()
                with session.no_autoflush:
                    with_registration(
                        gateway=gateway,
                        bridge=bridge,
                        encryptor=encryptor,
                        call=lambda b=bridge: gateway.update_bridge(  # type: ignore[misc]
                            subscription_id=subscription.subscription_id,
                            bridge_id=b.bridge_id,
                            subscription_password=password,
                        ),
                    )
                done.append(bridge)
        except GatewayProblem:
            names = [b.bridge_id for b in done]
            session.rollback()
            for bridge_id in names:  # put the old password back where it was already changed
                try:
                    gateway.update_bridge(
                        subscription_id=subscription.subscription_id,
                        bridge_id=bridge_id,
                        subscription_password=old_password,
                    )
                except GatewayProblem:
                    pass
            raise
    if not changed:
        return subscription
    subscription.updated_at = utcnow()
    audit.record(
        session=session,
        event="subscription.updated",
        actor=audit.account_actor(account.id),
        subscription_id=subscription.id,
        ip=ip,
        changed=changed,
    )
    session.commit()
    return subscription
