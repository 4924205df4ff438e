"""The auth server's own service tokens (for calling the gateway and the resource API), minted in-process.

The auth server is the issuer, so it signs its own client-credentials tokens instead of asking its token
endpoint over HTTP: that request would hold one worker thread waiting on another of the same server, and a
worker with a single thread would wait on itself until the call timed out. The rules stay those of the
client-credentials grant: the client must exist, be internal, hold the scopes and may have the audience.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from authserver.oauth2.runtime import find_client, mint_access_token
from authserver.oauth2.scopes import client_credentials_scopes, parse_scope
from authserver.oauth2.tokens import resolve_audience
from shared.service_auth import ServiceTokenError

__all__ = ["OwnServiceTokens"]


class OwnServiceTokens:
    """Tokens for one internal client, cached until shortly before they expire; thread-safe.

    Same interface as `shared.service_auth.ServiceTokenClient` (`token()`, `invalidate()`); call it within
    the auth server's app context.
    """

    def __init__(
        self,
        client_id: str,
        *,
        scope: str,
        audience: str,
        refresh_margin: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client_id = client_id
        self.scope = scope
        self.audience = audience
        self._refresh_margin = refresh_margin
        self._clock = clock
        self._token: str | None = None
        self._refresh_at = float("-inf")
        self._lock = threading.Lock()

    def token(self) -> str:
        """A valid access token: the cached one, or a new one once it is within the margin of expiry."""
        with self._lock:
            if self._token is None or self._clock() >= self._refresh_at:
                self._mint()
            return self._token  # type: ignore[return-value]

    def invalidate(self) -> None:
        """Forget the cached token (say, after a 401 from the called service)."""
        with self._lock:
            self._token = None

    def _mint(self) -> None:
        client = find_client(self.client_id) if self.client_id else None
        if client is None or not client.is_internal or "client_credentials" not in client.grant_types:
            raise ServiceTokenError(f"no internal client {self.client_id!r} to sign service tokens for")
        scopes = parse_scope(self.scope)
        if any(scope not in client_credentials_scopes(client.scopes) for scope in scopes):
            raise ServiceTokenError(f"client {self.client_id!r} lacks a scope of {self.scope!r}", error="invalid_scope")
        if resolve_audience(client, requested=self.audience, default="") != self.audience:
            raise ServiceTokenError(f"client {self.client_id!r} may not call {self.audience!r}", error="invalid_target")
        started = self._clock()
        body = mint_access_token(client, scopes=scopes, audience=self.audience)
        lifetime = float(body["expires_in"])
        self._token = body["access_token"]
        self._refresh_at = started + lifetime - min(self._refresh_margin, lifetime / 2)
