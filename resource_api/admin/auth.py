"""Who may call the internal routes: a service token (client credentials) with scope `resource:admin`.

The subscription comes from the path, so the token must not be bound to one: an API key or a token issued
for an app's user names its own subscription and is refused, whatever scopes it carries (RFC 6750 §3).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask, g

from resource_api.protect import AUDIENCE, require_token
from shared.service_auth import bearer_error

__all__ = ["PREFIX", "SCOPE", "check_every_internal_route_is_protected", "require_portal"]

SCOPE = "resource:admin"
PREFIX = "/internal/"
F = TypeVar("F", bound=Callable[..., Any])


def require_portal(view: F) -> F:
    """Protect an internal view: a valid service token for this API holding `resource:admin`."""

    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        claims = g.token_claims
        client_id = claims.get("client_id")
        if not client_id or claims.get("sub") != client_id or claims.get("subscription_id"):
            return bearer_error(
                401, AUDIENCE, "invalid_token", "A service token (client credentials grant) is required."
            )
        return view(*args, **kwargs)

    protected = require_token(SCOPE)(checked)
    protected._internal_scope = SCOPE  # type: ignore[attr-defined]
    return cast(F, protected)


def check_every_internal_route_is_protected(app: Flask) -> None:
    """Fail at start-up if a route under /internal/ was registered without `require_portal`."""
    unprotected = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(PREFIX) and not hasattr(app.view_functions[rule.endpoint], "_internal_scope")
    ]
    if unprotected:
        raise RuntimeError(f"internal routes without a token check: {unprotected}")
