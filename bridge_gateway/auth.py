"""Who may call the gateway: services holding a client-credentials access token for audience `bridge_gateway`.

Tokens are RFC 9068 JWTs from the auth server, verified locally against its JWKS (`shared.service_auth`).
On top of signature, expiry, issuer, audience and scope, a token must be a service token: for the client
credentials grant `sub` is the client itself (RFC 9068 §2.2), so a token issued to a user is refused. A
token that carries a `subscription_id` claim only reaches that subscription's bridges. Errors are RFC 6750 §3.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from flask import Flask, g

from bridge_gateway.runtime import AUDIENCE, gateway
from shared.service_auth import bearer_claims, bearer_error, require_bearer

__all__ = [
    "SCOPE_BRIDGES",
    "SCOPE_RELAY",
    "check_every_route_is_protected",
    "require_service_token",
    "service_claims",
    "token_refusal",
]

SCOPE_BRIDGES = "gateway:bridges"
SCOPE_RELAY = "gateway:relay"
F = TypeVar("F", bound=Callable[..., Any])


class _CurrentVerifier:
    """The app's verifier, looked up per request, so views can be decorated at import time."""

    audience = AUDIENCE

    @property
    def issuer(self) -> str:
        return gateway().verifier.issuer

    def verify(self, token: str) -> dict[str, Any]:
        return gateway().verifier.verify(token)


def token_refusal(claims: Mapping[str, Any], subscription_id: str | None) -> tuple[int, str, str] | None:
    """Why verified claims may not call a route naming `subscription_id`: (status, RFC 6750 error, description)
    when they are not a service token, or belong to another tenant; None when they may."""
    client_id = claims.get("client_id")
    if not client_id or claims.get("sub") != client_id:
        return 401, "invalid_token", "A service token (client credentials grant) is required."
    tenant = claims.get("subscription_id")
    if tenant and subscription_id and str(tenant).lower() != str(subscription_id).lower():
        return 403, "insufficient_scope", "The token belongs to another subscription."
    return None


def service_claims(authorization: str, scope: str, subscription_id: str) -> dict[str, Any] | None:
    """The claims of an `Authorization` header that passes every check `require_service_token(scope)` makes on
    a route naming `subscription_id`; None for anything else (the view then answers why). For the fast lane."""
    claims = bearer_claims(gateway().verifier, authorization, (scope,))
    return claims if claims is not None and token_refusal(claims, subscription_id) is None else None


def require_service_token(scope: str) -> Callable[[F], F]:
    """Protect a view: a valid service token for this gateway holding `scope`; claims go to `g.token_claims`."""
    bearer = require_bearer(_CurrentVerifier(), (scope,), realm=AUDIENCE)  # type: ignore[arg-type]

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            refusal = token_refusal(g.token_claims, kwargs.get("subscription_id"))
            if refusal is not None:
                status, error, description = refusal
                return bearer_error(status, AUDIENCE, error, description, scope if status == 403 else None)
            return view(*args, **kwargs)

        protected = bearer(checked)
        protected._gateway_scope = scope  # type: ignore[attr-defined]
        return cast(F, protected)

    return decorator


def check_every_route_is_protected(app: Flask, prefix: str = "/v1/") -> None:
    """Fail at start-up if a route under `prefix` was registered without `require_service_token`."""
    unprotected = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(prefix) and not hasattr(app.view_functions[rule.endpoint], "_gateway_scope")
    ]
    if unprotected:
        raise RuntimeError(f"routes without a token check: {unprotected}")
