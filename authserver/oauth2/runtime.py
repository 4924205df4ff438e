"""Per-app OAuth state and the few helpers that bind services to the current app's config and session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import current_app

from authserver.clients.service import ClientCache, RegisteredClient, load_client
from authserver.extensions import db
from authserver.oauth2 import tokens
from authserver.oauth2.keyring import KeyRing
from shared.service import encryptor

if TYPE_CHECKING:
    from authlib.integrations.flask_oauth2 import AuthorizationServer

__all__ = ["OAuth2State", "client_cache", "find_client", "mint_access_token", "oauth_state", "verify_jwt"]


@dataclass
class OAuth2State:
    """What one app's OAuth endpoints share: the Authlib server, the client cache and the key ring."""

    server: AuthorizationServer
    clients: ClientCache
    keyring: KeyRing


def oauth_state() -> OAuth2State:
    """The current app's OAuth state."""
    return current_app.extensions["oauth2"]


def client_cache() -> ClientCache:
    """The current app's client cache, for services that change clients."""
    return oauth_state().clients


def find_client(client_id: str | None) -> RegisteredClient | None:
    """The registered client with this id (cached for a few seconds), or None."""
    return load_client(session=db.session, client_id=client_id or "", cache=oauth_state().clients)


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
    )
