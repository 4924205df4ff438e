"""Introspection (RFC 7662) and revocation (RFC 7009) over the token kinds in `token_kinds`."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc7009 import RevocationEndpoint as _RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint as _IntrospectionEndpoint

from authserver.clients.service import RegisteredClient
from authserver.oauth2.grants import CLIENT_AUTH_METHODS, USER_GRANT_AUTH_METHODS
from authserver.oauth2.token_kinds import FoundToken, find_token

__all__ = ["IntrospectionEndpoint", "RevocationEndpoint", "introspection_body", "may_introspect"]


def may_introspect(client: RegisteredClient, token: FoundToken) -> bool:
    """RFC 7662 §4: internal services (the resource servers) may introspect any token, others their own."""
    return client.is_internal or token.claims.get("client_id") == client.client_id


def introspection_body(token: FoundToken) -> dict[str, Any]:
    """RFC 7662 §2.2: `active` and the claims of a token that is neither expired nor revoked."""
    return {"active": True, "token_type": "Bearer", **token.claims}


def _require_token(request: Any) -> None:
    # RFC 7009 §2.1: an unknown `token_type_hint` is ignored, not an error (Authlib would answer
    # unsupported_token_type); RFC 7662 §2.1 likewise treats the hint as advice only.
    if not request.form.get("token"):
        raise InvalidRequestError("The 'token' form parameter is required.")


class IntrospectionEndpoint(_IntrospectionEndpoint):
    """RFC 7662: authenticated callers learn whether a token is active, and its claims if so."""

    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def check_params(self, request: Any, client: Any) -> None:
        """Require the token; any hint is advice."""
        _require_token(request)

    def query_token(self, token_string: str, token_type_hint: str | None) -> FoundToken | None:
        """Find the token among the known kinds; unknown or garbage strings are simply not found."""
        return find_token(token_string, token_type_hint)

    def check_permission(self, token: FoundToken, client: Any, request: Any) -> bool:
        """Internal services may introspect any token, others their own (`may_introspect`)."""
        return may_introspect(client.record, token)

    def introspect_token(self, token: FoundToken) -> dict[str, Any]:
        """RFC 7662 §2.2: `active` and the token's claims."""
        return introspection_body(token)


class RevocationEndpoint(_RevocationEndpoint):
    """RFC 7009: the owner revokes a token; unknown, invalid or expired tokens still get 200. A public client
    revokes its own tokens with its client_id alone (RFC 7009 §2.1)."""

    CLIENT_AUTH_METHODS = USER_GRANT_AUTH_METHODS

    def check_params(self, request: Any, client: Any) -> None:
        """Require the token; any hint is advice."""
        _require_token(request)

    def query_token(self, token_string: str, token_type_hint: str | None) -> FoundToken | None:
        """Find the token among the known kinds."""
        return find_token(token_string, token_type_hint)

    def revoke_token(self, token: FoundToken, request: Any) -> None:
        """Let the token's kind record the revocation."""
        token.kind.revoke(token)
