"""HTTP transport to one EBS server: a urllib3 keep-alive pool of connections pinned to guard-vetted addresses.

Each bridge gets one `urllib3` connection pool (`new_pool`), used directly rather than through `requests`: a
relayed call then costs one `urlopen` on a warm connection, without a session's per-call request preparation,
settings merging, cookie and proxy handling (about a third of the gateway's client work, profiled). The pool
has no cookie jar, reads no proxy or `.netrc` from the environment, never retries on its own and never
follows redirects (`upstream.py` passes `redirect=False, retries=False` and does its own retries).

urllib3 resolves host names when it opens a socket. Here the socket is opened by a connection class that asks
the guard first and connects to the very address the guard approved, while the Host header, TLS SNI and
certificate checks keep the host name. Every new connection (keep-alive reconnects included) goes through
the guard; a pooled connection the server has closed is noticed by urllib3 and replaced by a new, vetted one.
"""

from __future__ import annotations

import socket
import time
from typing import Any

from requests.certs import where as public_ca_bundle
from urllib3 import BaseHTTPResponse, HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection as _connection

from bridge_gateway.errors import UpstreamTooLargeError
from bridge_gateway.guard import Guard

__all__ = ["BodyTooLargeError", "DeadlineExceededError", "USER_AGENT", "new_pool", "read_capped"]

USER_AGENT = "CloudStore-BridgeGateway/1"
# What every call sends besides its own headers; gzip/deflate as `requests` offered them (bodies are capped
# after decompression).
BASE_HEADERS = {"User-Agent": USER_AGENT, "Accept": "application/json", "Accept-Encoding": "gzip, deflate"}


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


def new_pool(
    *, scheme: str, host: str, port: int, guard: Guard, pool_size: int, verify: bool | str
) -> HTTPConnectionPool:
    """A keep-alive pool for one bridge's server: at most `pool_size` idle connections kept, each vetted and
    pinned by `guard`; `verify` is True (public CAs: the bundle `requests` verifies with), False, or a CA
    bundle path."""
    options: dict[str, Any] = {"maxsize": pool_size, "block": False, "retries": False, "guard": guard}
    if scheme == "https":
        if verify is False:
            options["cert_reqs"] = "CERT_NONE"
        else:
            options |= {"cert_reqs": "CERT_REQUIRED", "ca_certs": public_ca_bundle() if verify is True else verify}
        return _GuardedHTTPSPool(host, port, **options)
    return _GuardedHTTPPool(host, port, **options)


class BodyTooLargeError(UpstreamTooLargeError):
    """Raised while streaming once the body passes the cap."""


class DeadlineExceededError(Exception):
    """The whole answer did not arrive within the call's deadline (a trickling server)."""


def read_capped(response: BaseHTTPResponse, *, limit: int, deadline: float) -> bytes:
    """The body, read as a stream (decompressed); past `limit` bytes or `deadline` it raises, and the caller
    closes the connection rather than return it to the pool."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLargeError(_too_large(limit))
    chunks: list[bytes] = []
    size = 0
    for chunk in response.stream(65536, decode_content=True):
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError(_too_large(limit))
        if time.monotonic() > deadline:
            raise DeadlineExceededError
        chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _too_large(limit: int) -> str:
    return f"The EBS server answered with more than {limit} bytes; the gateway does not pass on answers that large."
