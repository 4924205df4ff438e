"""HTTP transport to one EBS server: libcurl (pycurl) keep-alive handles, each connection opened on a guard-vetted
address.

A relayed call is one `Transport.send`: libcurl writes the request, parses the answer and decompresses it in C,
where urllib3 and http.client spent about 0.4 CPU ms per call in Python (half of a relayed call, profiled;
`docs/gateway.md`). Each handle keeps its own connection alive between calls; at most `pool_size` idle handles
are kept. libcurl here never follows redirects, never uses a proxy (not even from the environment), keeps no
cookies and reads no `.netrc`; `upstream.py` does the retries.

libcurl never resolves a bridge's host name itself. Its own lookup is pinned to a placeholder address
(`CURLOPT_RESOLVE`), and every new connection (keep-alive reconnects included) is opened by `_Call._open_socket`:
the guard resolves and vets the name, the socket connects to the very address approved, and libcurl is told
the socket is already connected. The Host header, TLS SNI and certificate checks keep the host name.
"""

from __future__ import annotations

import io
import socket
import threading
from dataclasses import dataclass

import pycurl
from requests.certs import where as public_ca_bundle

from bridge_gateway.errors import DestinationRefusedError, UpstreamTooLargeError
from bridge_gateway.guard import Guard
from bridge_gateway.targets import BridgeTarget

__all__ = ["BodyTooLargeError", "RawAnswer", "Transport", "TransportError", "USER_AGENT"]

USER_AGENT = "CloudStore-BridgeGateway/1"
# What every call sends besides its own headers; libcurl offers gzip and deflate and decodes them (bodies are
# capped after decompression). "Expect:" and "Content-Type:" (unless the call has one) turn off libcurl's own.
_BASE_HEADERS = [f"User-Agent: {USER_AGENT}", "Accept: application/json", "Expect:"]
_METHODS_WITH_CONTENT = ("POST", "PUT")  # methods that define a request body: always sent with a length
_PLACEHOLDER_ADDRESS = "192.0.2.1"  # TEST-NET-1: libcurl's own lookup result, never connected to
_TLS_ERRORS = frozenset(
    {
        pycurl.E_SSL_CONNECT_ERROR,
        pycurl.E_PEER_FAILED_VERIFICATION,
        pycurl.E_SSL_CERTPROBLEM,
        pycurl.E_SSL_CIPHER,
        pycurl.E_SSL_CACERT_BADFILE,
        pycurl.E_SSL_ISSUER_ERROR,
        pycurl.E_SSL_PINNEDPUBKEYNOTMATCH,
        pycurl.E_SSL_INVALIDCERTSTATUS,
        pycurl.E_SSL_CRL_BADFILE,
        pycurl.E_SSL_ENGINE_NOTFOUND,
        pycurl.E_SSL_ENGINE_SETFAILED,
        pycurl.E_SSL_ENGINE_INITFAILED,
        pycurl.E_SSL_SHUTDOWN_FAILED,
    }
)


class BodyTooLargeError(UpstreamTooLargeError):
    """The answer passed the cap (declared or while arriving); its connection is closed."""


class TransportError(Exception):
    """One attempt failed in transport. `kind` is one of: tls, connect-timeout, timeout, unresolved, refused,
    failed."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class RawAnswer:
    """An answer that arrived whole: status, Content-Type, body (decompressed), and its header lines."""

    status: int
    content_type: str
    body: bytes
    header_lines: tuple[bytes, ...]

    def header(self, name: str) -> str | None:
        """The last value of header `name` in the final answer (not a 1xx one), or None."""
        wanted, found = name.lower().encode() + b":", None
        for line in self.header_lines:
            if line[:5] == b"HTTP/":
                found = None  # a new status line starts the next answer's headers
            elif line[: len(wanted)].lower() == wanted:
                found = line[len(wanted) :].strip().decode("latin-1")
        return found


class _Call:
    """One libcurl handle with what its callbacks fill in; used by one thread at a time."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.handle = handle = pycurl.Curl()
        self.body = io.BytesIO()
        self.size = 0
        self.lines: list[bytes] = []
        self.failure: BaseException | None = None
        self.sockets: list[socket.socket] = []  # pycurl keeps a duplicate of each; ours is closed after the call
        self.too_large = False
        self.connect_timeout = 0.0
        handle.setopt(pycurl.NOSIGNAL, 1)
        handle.setopt(pycurl.PROXY, "")
        handle.setopt(pycurl.FOLLOWLOCATION, 0)
        handle.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        handle.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_1_1)
        handle.setopt(pycurl.ACCEPT_ENCODING, "gzip, deflate")
        handle.setopt(pycurl.MAXCONNECTS, 1)
        handle.setopt(pycurl.MAXFILESIZE_LARGE, transport.limit)
        handle.setopt(pycurl.WRITEFUNCTION, self._write)
        handle.setopt(pycurl.HEADERFUNCTION, self.lines.append)
        handle.setopt(pycurl.OPENSOCKETFUNCTION, self._open_socket)
        handle.setopt(pycurl.SOCKOPTFUNCTION, _already_connected)
        if transport.pin:
            handle.setopt(pycurl.RESOLVE, [transport.pin])
        if transport.scheme == "https":
            verify = transport.verify
            handle.setopt(pycurl.SSL_VERIFYPEER, 1 if verify is not False else 0)
            handle.setopt(pycurl.SSL_VERIFYHOST, 2 if verify is not False else 0)
            if verify is not False:
                handle.setopt(pycurl.CAINFO, public_ca_bundle() if verify is True else verify)

    def _write(self, chunk: bytes) -> int | None:
        self.size += len(chunk)
        if self.size > self.transport.limit:
            self.too_large = True
            return 0  # libcurl aborts the transfer (CURLE_WRITE_ERROR)
        self.body.write(chunk)
        return None

    def _open_socket(self, purpose: int, address: object) -> socket.socket | int:
        """Open a new connection to the address the guard approves for the host (libcurl's own is ignored)."""
        transport = self.transport
        try:
            vetted = transport.guard.vet(transport.host, transport.port)
            sock = socket.create_connection((vetted, transport.port), self.connect_timeout)
        except BaseException as exc:  # told to the caller after perform(); libcurl only learns it failed
            self.failure = exc
            return pycurl.SOCKET_BAD
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        self.sockets.append(sock)
        transport.opened += 1
        return sock

    def perform(
        self, method: str, url: str, *, body: bytes | None, headers: list[str], timeout: float, connect_timeout: float
    ) -> RawAnswer:
        handle = self.handle
        self.body.seek(0)
        self.body.truncate()
        self.size, self.failure, self.too_large = 0, None, False
        self.lines.clear()
        self.connect_timeout = min(connect_timeout, timeout)
        handle.setopt(pycurl.URL, url)
        handle.setopt(pycurl.HTTPHEADER, headers)
        handle.setopt(pycurl.TIMEOUT_MS, max(1, int(timeout * 1000)))
        handle.setopt(pycurl.NOBODY, 1 if method == "HEAD" else 0)
        if body is None:
            handle.setopt(pycurl.HTTPGET, 1)
        else:
            handle.setopt(pycurl.POSTFIELDS, body)
        handle.setopt(pycurl.CUSTOMREQUEST, None if method in ("GET", "HEAD", "POST") else method)
        try:
            handle.perform()
        except pycurl.error as exc:
            raise self._failure(exc.args[0], str(exc.args[1])) from None
        finally:
            while self.sockets:
                self.sockets.pop().close()
        content_type = handle.getinfo(pycurl.CONTENT_TYPE) or ""
        return RawAnswer(handle.getinfo(pycurl.RESPONSE_CODE), content_type, self.body.getvalue(), tuple(self.lines))

    def _failure(self, code: int, message: str) -> Exception:
        failure, limit = self.failure, self.transport.limit
        if isinstance(failure, DestinationRefusedError):
            return failure
        if self.too_large or code == pycurl.E_FILESIZE_EXCEEDED:
            return BodyTooLargeError(
                f"The EBS server answered with more than {limit} bytes; "
                "the gateway does not pass on answers that large."
            )
        if isinstance(failure, (socket.gaierror, UnicodeError)):
            return TransportError("unresolved", str(failure))
        if isinstance(failure, TimeoutError):
            return TransportError("connect-timeout", str(failure))
        if isinstance(failure, ConnectionRefusedError):
            return TransportError("refused", str(failure))
        if failure is not None:
            return TransportError("failed", f"{type(failure).__name__}: {failure}")
        if code in _TLS_ERRORS:
            return TransportError("tls", message)
        if code == pycurl.E_OPERATION_TIMEDOUT:
            return TransportError("timeout", message)
        if code == pycurl.E_COULDNT_RESOLVE_HOST:
            return TransportError("unresolved", message)
        return TransportError("failed", message)


def _already_connected(fd: int, purpose: int) -> int:
    return pycurl.SOCKOPT_ALREADY_CONNECTED


class Transport:
    """Keep-alive libcurl handles to one bridge's EBS server, at most `pool_size` idle ones kept; every connection is
    vetted and pinned by `guard`. `verify` is True (public CAs: the bundle `requests` verifies with), False, or
    a CA bundle path; `limit` caps an answer's (decompressed) body."""

    def __init__(self, target: BridgeTarget, *, guard: Guard, pool_size: int, verify: bool | str, limit: int) -> None:
        scheme, host, port = target.scheme, target.host, target.port
        self.scheme, self.host, self.port = scheme, host, port
        self.guard, self.pool_size, self.verify, self.limit = guard, pool_size, verify, limit
        literal = _is_ip_literal(host)
        self.pin = None if literal else f"{host}:{port}:{_PLACEHOLDER_ADDRESS}"
        self.prefix = target.base_url.rstrip("/")
        self.opened = 0  # connections opened, each vetted by the guard
        self._idle: list[_Call] = []
        self._lock = threading.Lock()
        self._closed = False

    def send(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None,
        headers: dict[str, str],
        timeout: float,
        connect_timeout: float,
    ) -> RawAnswer:
        """One exchange: `path` starts with "/"; `timeout` bounds the whole attempt, connecting included.

        Raises TransportError, BodyTooLargeError or DestinationRefusedError. After a failure the handle (and
        its connection) is closed rather than kept.
        """
        if body is None and method in _METHODS_WITH_CONTENT:
            body = b""  # Content-Length: 0 (RFC 9110 §8.6); without fields libcurl would send a POST as a GET
        lines = _BASE_HEADERS + [f"{name}: {value}" for name, value in headers.items()]
        if body is not None and "Content-Type" not in headers:
            lines.append("Content-Type:")
        call = self._checkout()
        try:
            answer = call.perform(
                method, self.prefix + path, body=body, headers=lines, timeout=timeout, connect_timeout=connect_timeout
            )
        except BaseException:
            call.handle.close()
            raise
        self._checkin(call)
        return answer

    def _checkout(self) -> _Call:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return _Call(self)

    def _checkin(self, call: _Call) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < self.pool_size:
                self._idle.append(call)
                return
        call.handle.close()

    def close(self) -> None:
        """Close the idle handles and their connections; handles in use are closed when they come back."""
        with self._lock:
            idle, self._idle, self._closed = self._idle, [], True
        for call in idle:
            call.handle.close()


def _is_ip_literal(host: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host.strip("[]"))
    except OSError:
        return False
    return True
