"""The portal as a first-party OAuth client: Add Token starts an authorization request (code + PKCE S256),
kept server-side, bound to the admin and the subscription; the callback redeems the code in-process.

The portal and the auth server are one process, so the callback calls the token endpoint's code in a nested
request instead of over HTTP (which could deadlock a single worker); Authlib's authorization-code grant
checks client, code, redirect URI and PKCE exactly as it does at `/oauth/token`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from authserver.clients.models import OAuthClient
from authserver.endpoint_tokens.keys import scope_of
from authserver.endpoint_tokens.models import EndpointTokenRequest
from authserver.oauth2.runtime import client_cache, oauth_state, verify_jwt
from authserver.oauth2.user_grants import find_active_grant, revoke_grant
from authserver.signin.users import EndUser
from authserver.subscriptions.models import Subscription
from shared.secrets import Encryptor, digest

__all__ = [
    "PORTAL_CLIENT_ID",
    "CodeExchangeError",
    "PortalClient",
    "claim_request",
    "ensure_portal_client",
    "exchange_code",
    "find_request",
    "start_request",
]

PORTAL_CLIENT_ID = "cloudstore-portal-integrations"
CALLBACK_PATH = "/integrations/callback"
_KEEP = timedelta(days=7)
_SCOPES = "attendance:write insights:write surveys:read surveys:write"


class CodeExchangeError(Exception):
    """The authorization code could not be redeemed (expired, replayed, PKCE mismatch)."""


@dataclass(frozen=True)
class PortalClient:
    client_id: str
    secret: str
    redirect_uri: str


def ensure_portal_client(*, session: Session, issuer: str, secret_key: str) -> PortalClient:
    """The portal's client, created or brought up to date; its secret is derived from SECRET_KEY, so every
    worker knows it and only its digest is stored."""
    secret = hmac.new(secret_key.encode(), b"endpoint-token-portal-client", hashlib.sha256).hexdigest()
    redirect_uri = issuer.rstrip("/") + CALLBACK_PATH
    row = session.get(OAuthClient, PORTAL_CLIENT_ID)
    wanted = {
        "client_secret_digest": digest(secret),
        "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code"],
        "scope": _SCOPES,
        "token_endpoint_auth_method": "client_secret_basic",
    }
    if row is None:
        row = OAuthClient(
            client_id=PORTAL_CLIENT_ID,
            name="Cloud Store portal (endpoint tokens)",
            post_logout_redirect_uris=[],
            id_token_signed_response_alg="ES256",  # noqa: S106 - an algorithm name
            is_internal=False,
            created_at=datetime.now(UTC),
            **wanted,
        )
        session.add(row)
        try:
            session.commit()
        except IntegrityError:  # another worker created it at the same moment, from the same SECRET_KEY
            session.rollback()
    elif any(getattr(row, name) != value for name, value in wanted.items()):
        for name, value in wanted.items():
            setattr(row, name, value)
        session.commit()
        client_cache().invalidate(PORTAL_CLIENT_ID)
    return PortalClient(PORTAL_CLIENT_ID, secret, redirect_uri)


def start_request(
    *,
    session: Session,
    encryptor: Encryptor,
    client: PortalClient,
    issuer: str,
    subscription: Subscription,
    account_id: int,
    bridge_id: str,
    endpoint_type: str,
    app_code: str,
    title: str,
    lifetime: int,
    via_api: bool = False,
) -> tuple[EndpointTokenRequest, str]:
    """Store a pending request and answer it with the authorize URL to open (PKCE S256, `prompt=login`)."""
    now = datetime.now(UTC)
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    pending = EndpointTokenRequest(
        id="etr_" + secrets.token_hex(12),
        state_digest=digest(state),
        code_verifier_encrypted=encryptor.encrypt(verifier),
        subscription_pk=subscription.id,
        account_id=account_id,
        bridge_id=bridge_id,
        endpoint_type=endpoint_type,
        app_code=app_code,
        title=title,
        created_at=now,
        expires_at=now + timedelta(seconds=lifetime),
        via_api=via_api,
    )
    session.add(pending)
    # Finished or abandoned requests are kept a week (the API and the audit refer to them), then dropped.
    session.execute(delete(EndpointTokenRequest).where(EndpointTokenRequest.expires_at < now - _KEEP))
    session.commit()
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uri,
        "scope": scope_of(endpoint_type),
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "prompt": "login",
    }
    return pending, f"{issuer.rstrip('/')}/oauth/authorize?{urlencode(params)}"


def find_request(*, session: Session, state: str) -> EndpointTokenRequest | None:
    """The pending request with this `state`, or None (also when it expired or was used)."""
    if not state or len(state) > 200:
        return None
    query = select(EndpointTokenRequest).where(EndpointTokenRequest.state_digest == digest(state))
    pending = session.execute(query).scalars().first()
    if pending is None or pending.completed_at is not None:
        return None
    expires = pending.expires_at if pending.expires_at.tzinfo else pending.expires_at.replace(tzinfo=UTC)
    return pending if expires > datetime.now(UTC) else None


def claim_request(*, session: Session, pending: EndpointTokenRequest, outcome: str, message: str | None) -> bool:
    """Mark the request done (once: a concurrent or replayed callback gets False)."""
    result = session.execute(
        update(EndpointTokenRequest)
        .where(EndpointTokenRequest.id == pending.id, EndpointTokenRequest.completed_at.is_(None))
        .values(completed_at=datetime.now(UTC), outcome=outcome, message=message)
    )
    session.commit()
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def exchange_code(*, session: Session, client: PortalClient, code: str, verifier: str) -> EndUser:
    """Redeem the code through the token endpoint's grant (client secret, redirect URI, PKCE) and answer the
    ERP user who allowed; the grant is revoked at once, since the portal needs only that answer."""
    credentials = base64.b64encode(f"{client.client_id}:{client.secret}".encode()).decode()
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": client.redirect_uri}
    data["code_verifier"] = verifier
    with current_app.test_request_context(
        "/oauth/token", method="POST", data=data, headers={"Authorization": f"Basic {credentials}"}
    ):
        response = oauth_state().server.create_token_response()
    body = response.get_json(silent=True) or {}
    if response.status_code != 200 or "access_token" not in body:
        raise CodeExchangeError(str(body.get("error_description") or body.get("error") or "invalid_grant"))
    claims = verify_jwt(body["access_token"]) or {}
    grant = find_active_grant(session=session, grant_id=str(claims.get("grant_id", "")), now=datetime.now(UTC))
    if grant is None:
        raise CodeExchangeError("The authorization could not be read back.")
    revoke_grant(session=session, grant_id=grant.id)
    return grant.user
