"""Service-to-service authentication: fetch client-credentials tokens, and verify bearer JWTs locally.

`ServiceTokenClient` is the calling side (RFC 6749 §4.4, `client_secret_basic`); `BearerVerifier` and
`require_bearer` are the called side (RFC 6750, RFC 9068), checking tokens against the auth server's
JWKS without a round trip. Tokens and secrets are never logged.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, cast
from urllib.parse import quote

import jwt
import requests
from flask import Response, g, jsonify, request

from shared.http import ServiceSession
from shared.keys import JWKSCache

__all__ = [
    "BearerVerifier",
    "InvalidBearerTokenError",
    "ServiceTokenClient",
    "ServiceTokenError",
    "bearer_claims",
    "bearer_error",
    "bearer_token",
    "missing_scopes",
    "require_bearer",
]

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
ACCESS_TOKEN_TYP = "at+jwt"  # noqa: S105 - a media type (RFC 9068 §4), not a secret


class ServiceTokenError(RuntimeError):
    """The auth server refused or failed a token request; `error` is its RFC 6749 §5.2 code, if any."""

    def __init__(self, message: str, *, error: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.error = error
        self.status = status


class ServiceTokenClient(requests.auth.AuthBase):
    """Client-credentials tokens for one client, cached until shortly before they expire; thread-safe.

    Use `token()` for the raw value, or pass the client itself as `auth=` to `requests`.
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str,
        audience: str | None = None,
        *,
        session: requests.Session | None = None,
        refresh_margin: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret
        self.scope = scope
        self.audience = audience
        self._session = session or ServiceSession(timeout=5.0)
        self._refresh_margin = refresh_margin
        self._clock = clock
        self._token: str | None = None
        self._refresh_at = float("-inf")
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ServiceTokenClient(token_url={self.token_url!r}, client_id={self.client_id!r}, scope={self.scope!r})"

    def token(self) -> str:
        """A valid access token: the cached one, or a new one once it is within the margin of expiry."""
        with self._lock:
            if self._token is None or self._clock() >= self._refresh_at:
                self._fetch()
            return cast(str, self._token)

    def invalidate(self) -> None:
        """Forget the cached token (say, after a 401 from the called service)."""
        with self._lock:
            self._token = None

    def close(self) -> None:
        """Close the HTTP session's connections."""
        self._session.close()

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token()}"
        return r

    def _fetch(self) -> None:
        data = {"grant_type": "client_credentials"}
        if self.scope:
            data["scope"] = self.scope
        if self.audience:
            data["audience"] = self.audience
        # RFC 6749 §2.3.1: the id and secret are form-encoded before Basic encoding.
        auth = (quote(self.client_id, safe=""), quote(self._client_secret, safe=""))
        started = self._clock()
        try:
            response = self._session.post(self.token_url, data=data, auth=auth, headers={"Accept": "application/json"})
        except requests.RequestException as exc:
            raise ServiceTokenError(f"token endpoint unreachable: {type(exc).__name__}") from None
        body = _json_object(response)
        if response.status_code != 200 or not isinstance(body.get("access_token"), str):
            error = body.get("error") if isinstance(body.get("error"), str) else None
            raise ServiceTokenError(
                f"token request for client {self.client_id!r} failed: HTTP {response.status_code} {error or '-'}",
                error=error,
                status=response.status_code,
            )
        expires_in = body.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, int | float) and expires_in > 0 else 60.0
        self._token = body["access_token"]
        self._refresh_at = started + lifetime - min(self._refresh_margin, lifetime / 2)
        log.info("fetched a service token for client %s (expires in %ss)", self.client_id, int(lifetime))


def _json_object(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class InvalidBearerTokenError(Exception):
    """A bearer token that does not verify; the message is safe to show (it never contains the token)."""


class BearerVerifier:
    """Verifies RFC 9068 access tokens for one audience against the issuer's JWKS, fetched and cached locally."""

    def __init__(
        self,
        jwks_url: str,
        issuer: str,
        audience: str,
        *,
        session: requests.Session | None = None,
        fetch: Callable[[], Mapping[str, Any]] | None = None,
        jwks_ttl: float = 300.0,
        min_refresh_interval: float = 5.0,
    ) -> None:
        self.jwks_url = jwks_url
        self.issuer = issuer
        self.audience = audience
        self._session = session or ServiceSession(timeout=5.0)
        self._keys = JWKSCache(fetch or self._fetch_jwks, ttl=jwks_ttl, min_refresh_interval=min_refresh_interval)

    def close(self) -> None:
        """Close the HTTP session's connections."""
        self._session.close()

    def _fetch_jwks(self) -> Mapping[str, Any]:
        response = self._session.get(self.jwks_url)
        response.raise_for_status()
        return cast(Mapping[str, Any], response.json())

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims if it is a valid, unexpired access token for this audience from this issuer.

        Raises `InvalidBearerTokenError`; a failure to reach the key set raises `requests.RequestException`.
        """
        try:
            claims = self._keys.verify(token, audience=self.audience, issuer=self.issuer, typ=ACCESS_TOKEN_TYP)
        except jwt.ExpiredSignatureError:
            raise InvalidBearerTokenError("The access token expired.") from None
        except jwt.InvalidAudienceError:
            raise InvalidBearerTokenError("The access token is not meant for this service.") from None
        except requests.RequestException:
            raise
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            log.info("bearer token rejected: %s", type(exc).__name__)
            raise InvalidBearerTokenError("The access token is invalid.") from None
        return claims


def bearer_error(status: int, realm: str, error: str | None, description: str, scope: str | None = None) -> Response:
    """RFC 6750 §3: a challenge naming the error (none when credentials are simply missing) and a JSON body."""
    params = [f'realm="{realm}"']
    if error:
        params += [f'error="{error}"', f'error_description="{description}"']
        if scope:
            params.append(f'scope="{scope}"')
    response = jsonify(error=error or "invalid_token", error_description=description)
    response.status_code = status
    response.headers["WWW-Authenticate"] = "Bearer " + ", ".join(params)
    response.headers["Cache-Control"] = "no-store"
    return response


def bearer_token(authorization: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` header value (RFC 6750 §2.1), else None."""
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def missing_scopes(claims: Mapping[str, Any], needed: Iterable[str]) -> list[str]:
    """The scopes in `needed` the token's claims do not grant."""
    granted = set(str(claims.get("scope", "")).split())
    return [scope for scope in needed if scope not in granted]


def bearer_claims(verifier: BearerVerifier, authorization: str, scopes: Iterable[str]) -> dict[str, Any] | None:
    """The claims of an `Authorization` header whose bearer token verifies and holds every scope in `scopes`;
    None for anything else, which `require_bearer` answers with its reason (for the fast lanes)."""
    token = bearer_token(authorization)
    if token is None:
        return None
    try:
        claims = verifier.verify(token)
    except (InvalidBearerTokenError, requests.RequestException):
        return None
    return None if missing_scopes(claims, scopes) else claims


def require_bearer(
    verifier: BearerVerifier, scopes: Iterable[str] = (), *, realm: str | None = None
) -> Callable[[F], F]:
    """Protect a Flask view: a valid bearer JWT holding every scope in `scopes`; its claims go to `g.token_claims`."""
    needed = tuple(scopes)
    realm = realm or verifier.audience

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = bearer_token(request.headers.get("Authorization", ""))
            if token is None:
                return bearer_error(401, realm, None, "A bearer access token is required.")
            try:
                claims = verifier.verify(token)
            except InvalidBearerTokenError as exc:
                return bearer_error(401, realm, "invalid_token", str(exc))
            except requests.RequestException:
                log.warning("bearer token not checked: the issuer's key set is unreachable")
                response = jsonify(error="temporarily_unavailable", error_description="Tokens cannot be checked now.")
                response.status_code = 503
                response.headers["Retry-After"] = "5"
                return response
            if missing := missing_scopes(claims, needed):
                return bearer_error(
                    403, realm, "insufficient_scope", f"The token lacks scope {' '.join(missing)}.", " ".join(needed)
                )
            g.token_claims = claims
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorator
