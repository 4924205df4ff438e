"""Endpoint tokens: check an Add Token request, create one (mint + register in EBS), list them.

A key becomes usable only once EBS accepted it in the bridge's company parameters. Reveal, rotate and revoke
are in `lifecycle`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from authserver import audit
from authserver.endpoint_tokens.keys import new_key, new_token_id
from authserver.endpoint_tokens.models import ACTIVE, PENDING, EndpointToken, EndpointTokenRequest
from authserver.gateway_client import GatewayClient, GatewayProblem
from authserver.signin.users import EndUser
from authserver.store.licences.service import licensed_endpoint_types
from authserver.store.models import App
from authserver.subscriptions.models import Bridge, Subscription
from authserver.subscriptions.service import subscription_bridge
from shared.errors import NotFound, Problem
from shared.secrets import Encryptor, digest

__all__ = [
    "EndpointTokenFieldError",
    "RegistrationFailed",
    "check_new_token",
    "create_token",
    "endpoint_choices",
    "list_tokens",
    "owned_token",
    "register_key",
]


class EndpointTokenFieldError(Problem):
    """An Add Token field that cannot be accepted; `field` names it."""

    status = 422
    title = "Invalid endpoint token"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, errors={field: [message]})
        self.field = field
        self.message = message


class RegistrationFailed(Problem):
    """EBS (or the gateway on the way) did not take the key: nothing usable was left behind."""

    status = 502
    title = "The ERP did not register the endpoint token"


def _slot(subscription_pk: int, bridge_id: str, endpoint_type: str) -> str:
    return f"{subscription_pk}:{bridge_id.lower()}:{endpoint_type}"


def endpoint_choices(*, session: Session, subscription: Subscription) -> list[tuple[App, str]]:
    """The types Add Token offers: apps with an active licence that expose an Integration Endpoint."""
    return licensed_endpoint_types(session=session, subscription_id=subscription.id)


def _live(session: Session, slot: str) -> EndpointToken | None:
    return session.execute(select(EndpointToken).where(EndpointToken.live_slot == slot)).scalars().first()


def _exists_message(token: EndpointToken) -> str:
    return (
        f"There is already an endpoint token of type {token.endpoint_type} for {token.bridge_id} "
        f"(“{token.title}”). EBS keeps one per type: rotate or revoke that one instead."
    )


def check_new_token(
    *, session: Session, subscription: Subscription, title: str, bridge_id: str, endpoint_type: str
) -> tuple[Bridge, App]:
    """The verified bridge and the licensed app of an Add Token request; `EndpointTokenFieldError` otherwise."""
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise EndpointTokenFieldError("title", "Give the token a title of 1 to 200 characters.")
    bridge = subscription_bridge(session=session, subscription=subscription, bridge_id=bridge_id or "")
    if bridge is None:
        raise EndpointTokenFieldError("bridge_id", "Choose one of the subscription's connections (Bridge ID).")
    if bridge.verified_at is None:
        raise EndpointTokenFieldError("bridge_id", f"Verify the connection {bridge.bridge_id} first.")
    apps = {kind: app for app, kind in endpoint_choices(session=session, subscription=subscription)}
    if endpoint_type not in apps:
        raise EndpointTokenFieldError(
            "endpoint_type", "Choose a type of an app the subscription holds an active licence for."
        )
    existing = _live(session, _slot(subscription.id, bridge.bridge_id, endpoint_type))
    if existing is not None:
        raise EndpointTokenFieldError("endpoint_type", _exists_message(existing))
    return bridge, apps[endpoint_type]


def create_token(
    *,
    session: Session,
    gateway: GatewayClient,
    encryptor: Encryptor,
    pending: EndpointTokenRequest,
    user: EndUser,
    ip: str | None = None,
) -> EndpointToken:
    """Mint the key the ERP user allowed, register it in EBS, and only then make it usable.

    Raises `EndpointTokenFieldError` when the request no longer fits (licence ended, slot taken) and
    `RegistrationFailed` with EBS's or the gateway's message; in both cases no usable key exists.
    """
    subscription = pending.subscription
    check_new_token(
        session=session,
        subscription=subscription,
        title=pending.title,
        bridge_id=pending.bridge_id,
        endpoint_type=pending.endpoint_type,
    )
    key, now = new_key(pending.endpoint_type), datetime.now(UTC)
    token = EndpointToken(
        id=new_token_id(),
        subscription_pk=subscription.id,
        bridge_id=pending.bridge_id,
        endpoint_type=pending.endpoint_type,
        app_code=pending.app_code,
        title=pending.title,
        status=PENDING,
        live_slot=_slot(subscription.id, pending.bridge_id, pending.endpoint_type),
        key_digest=digest(key),
        key_encrypted=encryptor.encrypt(key),
        authorized_by=user.user_id,
        authorized_by_name=user.name,
        created_by_account=pending.account_id,
        created_at=now,
    )
    session.add(token)
    try:
        session.commit()
    except IntegrityError:  # a concurrent Allow took the slot
        session.rollback()
        raise EndpointTokenFieldError("endpoint_type", "An endpoint token of this type was just created.") from None
    details = {"token_id": token.id, "endpoint_type": token.endpoint_type, "bridge_id": token.bridge_id}
    try:
        register_key(gateway, subscription, token, key)
    except RegistrationFailed as failure:
        session.delete(token)
        audit.record(
            session=session,
            event="endpoint_token.registration_failed",
            actor=f"erp:{user.user_id}",
            subscription_id=subscription.id,
            ip=ip,
            reason=failure.detail,
            **details,
        )
        session.commit()
        raise
    token.status = ACTIVE
    audit.record(
        session=session,
        event="endpoint_token.created",
        actor=f"erp:{user.user_id}",
        subscription_id=subscription.id,
        ip=ip,
        title=token.title,
        account_id=pending.account_id,
        **details,
    )
    session.commit()
    return token


def register_key(gateway: GatewayClient, subscription: Subscription, token: EndpointToken, key: str) -> None:
    try:
        answer: dict[str, Any] = gateway.register_company_params(
            subscription_id=subscription.subscription_id,
            bridge_id=token.bridge_id,
            endpoint_type=token.endpoint_type,
            api_key=key,
        )
    except GatewayProblem as problem:
        raise RegistrationFailed(f"EBS did not register the endpoint token. {problem.message}") from None
    registered = (answer.get("endpoints") or {}).get(token.endpoint_type) or {}
    if registered.get("digest") != digest(key):
        raise RegistrationFailed("EBS answered, but its company parameters do not hold the new key.")


def list_tokens(*, session: Session, subscription: Subscription) -> list[EndpointToken]:
    """The subscription's live tokens, newest first."""
    query = (
        select(EndpointToken)
        .where(EndpointToken.subscription_pk == subscription.id, EndpointToken.status == ACTIVE)
        .order_by(EndpointToken.created_at.desc(), EndpointToken.id)
    )
    return list(session.execute(query).scalars())


def owned_token(*, session: Session, subscription: Subscription, token_id: str) -> EndpointToken:
    """A live token of this subscription; NotFound for anyone else's, a revoked or an unknown one."""
    token = session.get(EndpointToken, token_id[:40]) if token_id else None
    if token is None or token.subscription_pk != subscription.id or token.status != ACTIVE:
        raise NotFound("There is no such endpoint token in this subscription.")
    return token
