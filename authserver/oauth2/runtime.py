"""Per-app OAuth state and the few helpers that bind services to the current app's config and session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flask import current_app

from authserver.clients.service import ClientCache, RegisteredClient, load_client
from authserver.extensions import db
from authserver.oauth2 import oidc, tokens
from authserver.oauth2.keyring import KeyRing
from authserver.oauth2.limits import TokenRateLimit
from authserver.oauth2.refresh_tokens import record_issued_tokens
from authserver.oauth2.user_grants import GrantRecord
from authserver.signin.users import EndUser
from shared.service import encryptor

if TYPE_CHECKING:
    from authlib.integrations.flask_oauth2 import AuthorizationServer

__all__ = [
    "OAuth2State",
    "client_cache",
    "find_client",
    "mint_access_token",
    "mint_id_token",
    "mint_user_tokens",
    "oauth_state",
    "verify_jwt",
]


@dataclass
class OAuth2State:
    """What one app's OAuth endpoints share: the Authlib server, the client cache, the key ring and the token
    endpoint's rate limit."""

    server: AuthorizationServer
    clients: ClientCache
    keyring: KeyRing
    token_limit: TokenRateLimit


def oauth_state() -> OAuth2State:
    """The current app's OAuth state."""
    return current_app.extensions["oauth2"]


def client_cache() -> ClientCache:
    """The current app's client cache, for services that change clients."""
    return oauth_state().clients


def find_client(client_id: str | None) -> RegisteredClient | None:
    """The registered client with this id (cached for a few seconds), or None.

    Features whose credentials act as clients (endpoint tokens: `ept_…`) register a resolver for their id
    prefix in `app.extensions["client_resolvers"]`; it answers from its own records through the same cache.
    """
    client_id = client_id or ""
    for prefix, resolve in current_app.extensions.get("client_resolvers", {}).items():
        if client_id.startswith(prefix):
            return resolve(client_id)  # type: ignore[no-any-return]
    return load_client(session=db.session, client_id=client_id, cache=oauth_state().clients)


def mint_access_token(client: RegisteredClient, *, scopes: list[str], audience: str) -> dict[str, Any]:
    """A token response body (RFC 6749 §5.1) carrying a fresh JWT access token for `client`."""
    config = current_app.config
    signer = oauth_state().keyring.signer(client.alg, session=db.session, encryptor=encryptor())
    issued = tokens.issue_access_token(
        signer=signer,
        issuer=config["ISSUER"],
        client=client,
        subject=client.client_id,
        scopes=scopes,
        audience=audience,
        lifetime=config["ACCESS_TOKEN_LIFETIME"],
    )
    body: dict[str, Any] = {
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
    }
    if issued.scope:
        body["scope"] = issued.scope
    return body


def mint_user_tokens(
    client: RegisteredClient, *, grant: GrantRecord, scopes: list[str], with_refresh: bool
) -> dict[str, Any]:
    """A token response body for a signed-in user's grant: a JWT access token whose `sub` and tenant claims
    are the user's (the `app` is the client's), and a new refresh token of the grant's family if asked."""
    config = current_app.config
    user = grant.user
    signer = oauth_state().keyring.signer(client.alg, session=db.session, encryptor=encryptor())
    tenant = {
        "subscription_id": user.subscription_id,
        "subscription_gid": user.subscription_gid,
        "bridge_id": user.bridge_id,
        "app": client.app,
    }
    issued = tokens.issue_access_token(
        signer=signer,
        issuer=config["ISSUER"],
        client=client,
        subject=user.sub,
        scopes=scopes,
        audience=tokens.resolve_audience(client, requested=None, default=config["ISSUER"]) or config["ISSUER"],
        lifetime=config["ACCESS_TOKEN_LIFETIME"],
        tenant=tenant,
        extra={"grant_id": grant.id},
    )
    refresh_token = record_issued_tokens(
        session=db.session,
        grant_id=grant.id,
        client_id=client.client_id,
        access_expires_at=datetime.fromtimestamp(issued.claims["exp"], UTC),
        refresh_lifetime=int(config["REFRESH_TOKEN_LIFETIME"]) if with_refresh else None,
    )
    body: dict[str, Any] = {
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "scope": issued.scope,
    }
    if refresh_token is not None:
        body["refresh_token"] = refresh_token
    return body


def mint_id_token(
    client: RegisteredClient, *, user: EndUser, scopes: list[str], nonce: str | None, access_token: str | None
) -> str:
    """An ID token for `client` about `user`, signed with the client's algorithm."""
    config = current_app.config
    return oidc.issue_id_token(
        signer=oauth_state().keyring.signer(client.alg, session=db.session, encryptor=encryptor()),
        issuer=config["ISSUER"],
        client_id=client.client_id,
        user=user,
        scopes=scopes,
        lifetime=int(config["ID_TOKEN_LIFETIME"]),
        nonce=nonce,
        access_token=access_token,
    )


def verify_jwt(token: str) -> dict[str, Any] | None:
    """The claims of a valid access token this server signed, or None."""
    config = current_app.config
    keyring = oauth_state().keyring
    return tokens.verify_access_token(
        token,
        issuer=config["ISSUER"],
        key_for=lambda kid: keyring.verification_key(
            kid, session=db.session, max_token_lifetime=config["MAX_TOKEN_LIFETIME"]
        ),
        verified=keyring.verified,
    )
