"""Keep-alive on the WebApi port, as IIS serves a real EBS: reused connections, drained bodies, faults, timeout."""

from __future__ import annotations

import http.client
import io
import json
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bridge_gateway.simulator import create_app
from bridge_gateway.simulator.keepalive import MAX_BODY_BYTES
from bridge_gateway.simulator.server import SimulatorServer

CAPS = "/api/Login/ServerCapabilities/"


@pytest.fixture
def server(start_server: Callable[..., SimulatorServer]) -> SimulatorServer:
    """A simulator of its own, so "down" in one test never reaches another."""
    return start_server()


@pytest.fixture
def connect(server: SimulatorServer) -> Iterator[Callable[[], http.client.HTTPConnection]]:
    """Open HTTP/1.1 client connections to the WebApi port; all are closed after the test."""
    opened: list[http.client.HTTPConnection] = []

    def open_one() -> http.client.HTTPConnection:
        conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
        opened.append(conn)
        return conn

    yield open_one
    for conn in opened:
        conn.close()


def _get(conn: http.client.HTTPConnection, path: str = CAPS, **headers: str) -> http.client.HTTPResponse:
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    response.read()
    return response


class _Reader(io.BufferedReader):
    """One buffered reader of a raw socket that http.client cannot close, so it can parse several answers."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(socket.SocketIO(sock, "rb"))

    def close(self) -> None:
        pass

    def makefile(self, *args: object, **kwargs: object) -> _Reader:
        return self


def _read_answer(reader: _Reader, method: str = "GET") -> tuple[http.client.HTTPResponse, bytes]:
    response = http.client.HTTPResponse(reader, method=method)  # type: ignore[arg-type]
    response.begin()
    return response, response.read()


def _chunked(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data)


def _closed_by_server(sock: socket.socket, within: float) -> bool:
    """True when the server ends the connection (EOF or reset) within ``within`` seconds."""
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_two_requests_share_one_connection(connect: Callable[[], http.client.HTTPConnection]) -> None:
    conn = connect()
    first = _get(conn)
    sock, local = conn.sock, conn.sock.getsockname()
    second = _get(conn)
    assert (first.status, second.status) == (200, 200)
    assert first.getheader("Connection") is None and second.getheader("Connection") is None
    assert conn.sock is sock and conn.sock.getsockname() == local  # http.client reconnects if the server closed


def test_unread_post_body_does_not_corrupt_the_next_request(server: SimulatorServer) -> None:
    # ServerCapabilities is GET only: the app answers 405 without reading the body. Both requests are sent at once,
    # so any byte of the body left unread would be parsed as the next request line.
    body = b'{"junk": "' + b"x" * 70_000 + b'"}\r\nGET /not-a-request HTTP/1.1\r\n\r\n'
    post = f"POST {CAPS} HTTP/1.1\r\nHost: sim\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    get = f"GET {CAPS} HTTP/1.1\r\nHost: sim\r\n\r\n"
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(post.encode() + body + get.encode())
        reader = _Reader(sock)
        refused, _ = _read_answer(reader)
        answer, payload = _read_answer(reader)
    assert refused.status == 405
    assert answer.status == 200
    assert "WebApiVersion" in json.loads(payload)  # the capabilities document, parsed whole


def test_chunked_post_body_is_drained_too(server: SimulatorServer) -> None:
    chunks = _chunked(b"hello world")
    post = f"POST {CAPS} HTTP/1.1\r\nHost: sim\r\nTransfer-Encoding: chunked\r\n\r\n"
    get = f"GET {CAPS} HTTP/1.1\r\nHost: sim\r\n\r\n"
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(post.encode() + chunks + get.encode())
        reader = _Reader(sock)
        statuses = [_read_answer(reader)[0].status for _ in range(2)]
    assert statuses == [405, 200]


def test_connection_close_from_the_client_is_honoured(server: SimulatorServer) -> None:
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        reader = _Reader(sock)
        sock.sendall(f"GET {CAPS} HTTP/1.1\r\nHost: sim\r\n\r\n".encode())
        kept, _ = _read_answer(reader)
        assert kept.status == 200 and kept.getheader("Connection") is None
        assert not _closed_by_server(sock, within=0.2)
        sock.sendall(f"GET {CAPS} HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n\r\n".encode())
        closing, _ = _read_answer(reader)
        assert closing.status == 200 and closing.getheader("Connection") == "close"
        assert _closed_by_server(sock, within=5)


def test_http_10_closes_unless_it_asks_for_keep_alive(server: SimulatorServer) -> None:
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(f"GET {CAPS} HTTP/1.0\r\n\r\n".encode())
        reader = _Reader(sock)
        answer, _ = _read_answer(reader)
        assert answer.status == 200 and answer.getheader("Connection") == "close"
        assert _closed_by_server(sock, within=5)
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        request = f"GET {CAPS} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".encode()
        sock.sendall(request + request)
        reader = _Reader(sock)
        answers = [_read_answer(reader)[0] for _ in range(2)]
        assert [a.status for a in answers] == [200, 200]
        assert all(a.getheader("Connection") == "keep-alive" for a in answers)


def test_down_cuts_an_idle_kept_alive_connection(
    server: SimulatorServer, connect: Callable[[], http.client.HTTPConnection]
) -> None:
    conn = connect()
    assert _get(conn).status == 200
    idle = conn.sock
    assert not _closed_by_server(idle, within=0.2)  # still open, waiting for the next request
    server.go_down()
    assert _closed_by_server(idle, within=5)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((server.host, server.port), timeout=5).close()
    server.come_up()
    assert _get(connect()).status == 200


def test_idle_timeout_closes_the_connection(config_file: Path, tmp_path: Path) -> None:
    app = create_app({"SIMULATOR_CONFIG": str(config_file), "SIMULATOR_DATA_DIR": str(tmp_path)})
    with SimulatorServer(app, idle_timeout=0.5, control=False) as server:
        conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
        try:
            assert _get(conn).status == 200
            started = time.monotonic()
            assert _closed_by_server(conn.sock, within=5)
            assert time.monotonic() - started >= 0.4
        finally:
            conn.close()


def test_idle_timeout_must_be_positive(server: SimulatorServer) -> None:
    with pytest.raises(ValueError, match="idle_timeout"):
        SimulatorServer(server.app, idle_timeout=0)


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ("Content-Length: ten\r\n", b"", 400),
        (f"Content-Length: {MAX_BODY_BYTES + 1}\r\n", b"", 413),
        ("Transfer-Encoding: gzip\r\n", b"", 501),
        ("Transfer-Encoding: chunked\r\n", b"zz\r\nhello\r\n", 400),
        ("Transfer-Encoding: chunked\r\n", _chunked(b"x" * (MAX_BODY_BYTES + 1)), 413),
    ],
    ids=["length-not-a-number", "length-too-large", "unknown-coding", "bad-chunk", "chunked-too-large"],
)
def test_unusable_body_framing_is_refused_and_closes(
    server: SimulatorServer, headers: str, body: bytes, status: int
) -> None:
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(f"POST {CAPS} HTTP/1.1\r\nHost: sim\r\n{headers}\r\n".encode() + body)
        reader = _Reader(sock)
        answer, payload = _read_answer(reader)
        assert answer.status == status and answer.getheader("Connection") == "close"
        assert json.loads(payload)["UserMessage"]
        assert _closed_by_server(sock, within=5)


def test_head_answers_carry_no_body(server: SimulatorServer) -> None:
    request = f" {CAPS} HTTP/1.1\r\nHost: sim\r\n\r\n"
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(f"HEAD{request}GET{request}".encode())
        reader = _Reader(sock)
        head, empty = _read_answer(reader, method="HEAD")
        get, payload = _read_answer(reader)
    assert (head.status, get.status) == (200, 200)
    assert empty == b"" and int(head.getheader("Content-Length", "0")) == len(payload) > 0


def test_kept_alive_answers_are_not_held_back_by_nagle(
    server: SimulatorServer, connect: Callable[[], http.client.HTTPConnection]
) -> None:
    # An answer written as head then body on a kept-alive connection with Nagle on waits out the client's delayed
    # ACK (about 40 ms on Linux). The handler writes each answer once and turns Nagle off on every connection.
    conn = connect()
    assert _get(conn).status == 200 and _get(conn).status == 200
    accepted = list(server._webapi.server.connections)
    assert accepted
    assert all(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for sock in accepted)
