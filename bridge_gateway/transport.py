"""HTTP transport to one EBS server: connections pinned to the address the guard vetted, capped bodies.

`requests` resolves host names inside urllib3 when it opens a socket. Here the socket is opened by a
connection class that asks the guard first and connects to the very address the guard approved, while the
URL, the Host header, TLS SNI and certificate checks keep the host name. Every new connection (keep-alive
reconnects included) goes through the guard; redirects are never followed, proxies and cookies are off.
"""

from __future__ import annotations

import functools
import socket
import time
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection as _connection

from bridge_gateway.errors import UpstreamTooLargeError
from bridge_gateway.guard import Guard
from shared.http import ServiceSession

__all__ = ["BodyTooLargeError", "DeadlineExceededError", "GuardedAdapter", "new_session", "read_capped"]

USER_AGENT = "CloudStore-BridgeGateway/1"


class _GuardedConnectionMixin:
    """Open the socket to the guard-vetted address of `self.host` (never a second, unchecked lookup)."""

    host: str
    port: int
    timeout: Any
    source_address: Any
    socket_options: Any

    def __init__(self, *args: Any, guard: Guard, **kwargs: Any) -> None:
        self._guard = guard
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]

    def _new_conn(self) -> socket.socket:
        try:
            address = self._guard.vet(self.host, self.port)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc  # type: ignore[arg-type]
        try:
            return _connection.create_connection(
                (address, self.port),
                self.timeout,
                source_address=self.source_address,
                socket_options=self.socket_options,
            )
        except TimeoutError as exc:
            raise ConnectTimeoutError(self, f"Connection to {self.host} timed out.") from exc
        except OSError as exc:
            raise NewConnectionError(self, f"Failed to establish a new connection: {exc}") from exc  # type: ignore[arg-type]


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose pools open guarded, pinned connections."""

    def __init__(self, guard: Guard, **kwargs: Any) -> None:
        self._guard = guard
        super().__init__(**kwargs)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        # The guard rides in the pool's connection kwargs; the pool key stays urllib3's own.
        self.poolmanager.pool_classes_by_scheme = {
            "http": functools.partial(_GuardedHTTPPool, guard=self._guard),
            "https": functools.partial(_GuardedHTTPSPool, guard=self._guard),
        }

    def __getstate__(self) -> dict[str, Any]:  # pragma: no cover - adapters are never pickled here
        raise TypeError("GuardedAdapter cannot be pickled")


def new_session(*, guard: Guard, pool_size: int, verify: bool | str) -> requests.Session:
    """A keep-alive session for one bridge: guarded adapter, no proxies, no cookies (callers pass
    `allow_redirects=False` on every request)."""
    session = ServiceSession()
    session.trust_env = False  # never an HTTP(S)_PROXY or .netrc from the environment
    session.verify = verify
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
    adapter = GuardedAdapter(guard, pool_connections=1, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class BodyTooLargeError(UpstreamTooLargeError):
    """Raised while streaming once the body passes the cap."""


class DeadlineExceededError(Exception):
    """The whole answer did not arrive within the call's deadline (a trickling server)."""


def read_capped(response: requests.Response, *, limit: int, deadline: float) -> bytes:
    """The body, read as a stream; stops (and drops the connection) past `limit` bytes or `deadline`."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        response.close()
        raise BodyTooLargeError(_too_large(limit))
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=65536):
        size += len(chunk)
        if size > limit:
            response.close()
            raise BodyTooLargeError(_too_large(limit))
        if time.monotonic() > deadline:
            response.close()
            raise DeadlineExceededError
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> str:
    return f"The EBS server answered with more than {limit} bytes; the gateway does not pass on answers that large."
