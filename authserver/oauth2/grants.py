"""The client-credentials grant (RFC 6749 §4.4), issuing JWT access tokens (RFC 9068); the grants of
signed-in users (authorization code, refresh token) are in `user_flows`."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidScopeError
from authlib.oauth2.rfc6749.hooks import hooked

from authserver.clients.service import RegisteredClient
from authserver.oauth2.errors import InvalidTargetError
from authserver.oauth2.runtime import mint_access_token
from authserver.oauth2.scopes import client_credentials_scopes, parse_scope
from authserver.oauth2.tokens import resolve_audience

__all__ = [
    "CLIENT_AUTH_METHODS",
    "USER_GRANT_AUTH_METHODS",
    "ClientCredentialsGrant",
    "granted_scopes",
    "token_audience",
]

# How confidential clients authenticate (client credentials, introspection).
CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
# The user grants also admit public clients (`none`, RFC 7591 §2), whose proof is PKCE S256 (RFC 7636 §4.5).
USER_GRANT_AUTH_METHODS = [*CLIENT_AUTH_METHODS, "none"]


def granted_scopes(client: RegisteredClient, scope: str | None) -> list[str]:
    """RFC 6749 §3.3: catalogue scopes the client holds, as asked, or all of them when none are asked."""
    allowed = client_credentials_scopes(client.scopes)
    requested = parse_scope(scope)
    if any(name not in allowed for name in requested):
        raise InvalidScopeError("The client may not request this scope.")
    return requested or allowed


def token_audience(client: RegisteredClient, targets: list[str], *, issuer: str) -> str:
    """RFC 8707: the token's audience, from at most one `resource` (or `audience`) the client may have."""
    if len(targets) > 1:
        raise InvalidTargetError("Request one resource per token.")
    audience = resolve_audience(client, requested=targets[0] if targets else None, default=issuer)
    if audience is None:
        raise InvalidTargetError("The client may not request tokens for this resource.")
    return audience


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    """Client credentials with per-client scopes and an audience chosen by `resource` (RFC 8707) or `audience`."""

    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def validate_token_request(self) -> None:
        """Authenticate the client and check grant type and scope (Authlib), then resolve the audience."""
        super().validate_token_request()
        targets = self.request.payload.datalist.get("resource", []) + self.request.payload.datalist.get("audience", [])
        self.audience = token_audience(self.client.record, targets, issuer=self.server.issuer)

    def validate_requested_scope(self) -> None:
        """RFC 6749 §3.3: ask for catalogue scopes the client holds, or none to get them all."""
        self.scopes = granted_scopes(self.client.record, self.request.payload.scope)

    @hooked
    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        """RFC 6749 §4.4.3: a JWT access token and no refresh token; nothing is written per token (DESIGN §7)."""
        body = mint_access_token(self.client.record, scopes=self.scopes, audience=self.audience)
        return 200, body, self.TOKEN_RESPONSE_HEADER
