"""An endpoint token's life after creation: reveal (audited), rotate (grace period), revoke.

A revoked key stops here at once (introspection, client credentials, the client cache), and then its EBS
parameter is removed; a rotated key is registered in EBS before it replaces the old one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy.orm import Session

from authserver import audit
from authserver.clients.service import ClientCache
from authserver.endpoint_tokens.keys import new_key
from authserver.endpoint_tokens.models import ACTIVE, REVOKED, EndpointToken
from authserver.endpoint_tokens.service import register_key
from authserver.gateway_client import GatewayClient, GatewayProblem
from shared.secrets import Encryptor, digest

__all__ = ["reveal_key", "revoke_by_oauth", "revoke_token", "rotate_token"]


def _audit(
    session: Session, token: EndpointToken, event: str, *, actor: str, ip: str | None, **details: object
) -> None:
    audit.record(
        session=session,
        event=event,
        actor=actor,
        subscription_id=token.subscription_pk,
        ip=ip,
        token_id=token.id,
        endpoint_type=token.endpoint_type,
        **details,
    )


def _forget(token_id: str, cache: ClientCache | None) -> None:
    """Stop this worker's caches answering with the token as it was; other workers follow within their TTLs."""
    from authserver.endpoint_tokens.oauth import forget_key_states

    if cache is not None:
        cache.invalidate(token_id)
    forget_key_states()


def reveal_key(*, session: Session, encryptor: Encryptor, token: EndpointToken, actor: str, ip: str | None) -> str:
    """The key in clear, for click-to-show; every reveal is audited."""
    _audit(session, token, "endpoint_token.revealed", actor=actor, ip=ip)
    session.commit()
    return encryptor.decrypt(token.key_encrypted)


def rotate_token(
    *,
    session: Session,
    gateway: GatewayClient,
    encryptor: Encryptor,
    token: EndpointToken,
    grace_seconds: int,
    actor: str,
    ip: str | None,
    cache: ClientCache | None,
) -> EndpointToken:
    """A new key, registered in EBS first; the old one keeps working for `grace_seconds`. If EBS refuses,
    nothing changes (`RegistrationFailed`)."""
    key, now = new_key(token.endpoint_type), datetime.now(UTC)
    register_key(gateway, token.subscription, token, key)
    token.previous_key_digest = token.key_digest
    token.previous_valid_until = now + timedelta(seconds=grace_seconds)
    token.key_digest, token.key_encrypted = digest(key), encryptor.encrypt(key)
    token.rotated_at = now
    _audit(session, token, "endpoint_token.rotated", actor=actor, ip=ip, grace_seconds=grace_seconds)
    session.commit()
    _forget(token.id, cache)
    return token


def revoke_token(
    *,
    session: Session,
    gateway: GatewayClient,
    token: EndpointToken,
    actor: str,
    ip: str | None,
    cache: ClientCache | None,
) -> str | None:
    """Stop the key at once, then remove its EBS parameter; answer a warning when EBS could not be told."""
    token.status, token.live_slot, token.revoked_at = REVOKED, None, datetime.now(UTC)
    token.previous_valid_until = None
    _audit(session, token, "endpoint_token.revoked", actor=actor, ip=ip)
    session.commit()
    _forget(token.id, cache)
    try:
        gateway.unregister_endpoint(
            subscription_id=token.subscription.subscription_id,
            bridge_id=token.bridge_id,
            endpoint_type=token.endpoint_type,
        )
    except GatewayProblem as problem:
        return (
            "The token is revoked and no longer works, but its EBS parameter could not be removed: "
            f"{problem.message} Remove it in EBS's company parameters (Entersoft Cloud Store)."
        )
    return None


def revoke_by_oauth(*, token_id: str) -> None:
    """RFC 7009 revocation of a key by its own client: the same as Revoke in the portal."""
    from authserver.extensions import db
    from authserver.gateway_client import gateway_client
    from authserver.oauth2.runtime import client_cache

    token = db.session.get(EndpointToken, token_id)
    if token is None or token.status != ACTIVE:
        return
    warning = revoke_token(
        session=db.session,
        gateway=gateway_client(),
        token=token,
        actor=f"client:{token_id}",
        ip=None,
        cache=client_cache(),
    )
    if warning:
        current_app.logger.warning("endpoint token %s revoked; EBS parameter not removed", token_id)
