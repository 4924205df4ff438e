"""Token checks for every route: JWT access tokens verified locally, API keys through introspection.

An API key is opaque to this service; the auth server's introspection (RFC 7662) says whether it is active
and what it carries. Answers are cached for at most INTROSPECTION_CACHE_SECONDS, so a revoked key stops
working within that time; the cache is shared through Redis when REDIS_URL is set.
"""

from __future__ import annotations

import time
from typing import Any

import requests
from flask import Flask, Request, current_app, g
from flask.sessions import SecureCookieSessionInterface, SessionMixin

from shared.cache import Cache, make_cache
from shared.errors import Forbidden
from shared.http import ServiceSession
from shared.secrets import digest
from shared.service_auth import BearerVerifier, InvalidBearerTokenError, require_bearer

__all__ = ["TokenChecker", "init_protection", "require_token", "serve_api_without_sessions", "tenant"]

AUDIENCE = "resource_api"


class TokenChecker:
    """Dispatches a bearer credential to the JWT verifier or to cached introspection."""

    def __init__(
        self,
        *,
        verifier: BearerVerifier,
        introspection_url: str,
        client_id: str,
        client_secret: str,
        cache: Cache,
        cache_seconds: float = 4.0,
        session: requests.Session | None = None,
    ) -> None:
        self._verifier = verifier
        self.audience = verifier.audience
        self.issuer = verifier.issuer
        self._introspection_url = introspection_url
        self._auth = (client_id, client_secret)
        self._cache = cache
        self._cache_seconds = cache_seconds
        self._session = session or ServiceSession(timeout=3.0)

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of an active credential; raises `InvalidBearerTokenError` otherwise."""
        if token.count(".") == 2:
            return self._verifier.verify(token)
        key = "apikey:" + digest(token)
        answer = self._cache.get(key)
        if answer is None:
            answer = self._introspect(token)
            ttl = self._cache_seconds
            if answer.get("active") and answer.get("exp"):
                ttl = max(0.0, min(ttl, float(answer["exp"]) - time.time()))
            self._cache.set(key, answer, ttl=ttl)
        if not answer.get("active"):
            raise InvalidBearerTokenError("The API key is not valid.")
        return answer

    def _introspect(self, token: str) -> dict[str, Any]:
        response = self._session.post(
            self._introspection_url, data={"token": token, "token_type_hint": "api_key"}, auth=self._auth
        )
        response.raise_for_status()
        body = response.json()
        return body if isinstance(body, dict) else {"active": False}


def init_protection(app: Flask) -> None:
    """Build the app's token checker from AUTH_SERVER_URL and the service's own client credentials."""
    base = app.config["AUTH_SERVER_URL"].rstrip("/")
    verifier = BearerVerifier(f"{base}/.well-known/jwks.json", app.config.get("AUTH_ISSUER") or base, AUDIENCE)
    app.extensions["token_checker"] = TokenChecker(
        verifier=verifier,
        introspection_url=f"{base}/oauth/introspect",
        client_id=app.config.get("CLIENT_ID") or "",
        client_secret=app.config.get("CLIENT_SECRET") or "",
        cache=make_cache(app.config.get("REDIS_URL"), prefix="resource_api:"),
        cache_seconds=float(app.config.get("INTROSPECTION_CACHE_SECONDS", 4.0)),
    )


class _CurrentChecker:
    """Resolves the app's checker at request time, so decorators can be applied at import time."""

    audience = AUDIENCE

    @property
    def issuer(self) -> str:
        return current_app.extensions["token_checker"].issuer

    def verify(self, token: str) -> dict[str, Any]:
        return current_app.extensions["token_checker"].verify(token)


def require_token(*scopes: str):  # type: ignore[no-untyped-def]
    """Protect a view: a valid JWT or API key holding `scopes`; its claims go to `g.token_claims`."""
    return require_bearer(_CurrentChecker(), scopes, realm=AUDIENCE)  # type: ignore[arg-type]


def tenant() -> tuple[str, str]:
    """The subscription and bridge the current token belongs to (never taken from the request body)."""
    claims = g.token_claims
    subscription, bridge = claims.get("subscription_id"), claims.get("bridge_id")
    if not subscription or not bridge:
        raise Forbidden("This token is not bound to a subscription and bridge.")
    return str(subscription), str(bridge)


class _SessionsUnderCookiePath(SecureCookieSessionInterface):
    """Flask's cookie sessions, opened only where browsers send the cookie (SESSION_COOKIE_PATH, the apps' pages).

    Elsewhere no request can carry it, so opening one only cost every API call the signer's set-up; Flask's
    null session there reads as empty and refuses writes.
    """

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        if not request.path.startswith(self.get_cookie_path(app)):
            return None
        return super().open_session(app, request)


def serve_api_without_sessions(app: Flask) -> None:
    """Token-authenticated routes never use the cookie session: open it only under the cookie's path."""
    if type(app.session_interface) is SecureCookieSessionInterface:  # someone else's interface: leave it alone
        app.session_interface = _SessionsUnderCookiePath()
