"""The relay's road to EBS: pooled keep-alive connections, what survives a restart, what crosses the gateway.

These run against `KeepAliveEbs`, a stand-in that keeps connections open as a real EBS server (IIS) does; the
simulator closes every connection after its answer, so it cannot show reuse.
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bridge_gateway.errors import GatewayProblem
from bridge_gateway.runtime import Gateway
from bridge_gateway.targets import BridgeTarget
from bridge_gateway.transport import TransportError
from bridge_gateway.upstream import BridgeChannel
from tests.integration.bridge_gateway.conftest import BRIDGE
from tests.integration.bridge_gateway.gw_helpers import KeepAliveEbs, bridge_body
from tests.tls import self_signed

RELAY = f"{BRIDGE}/relay/api/rpc/FetchSessionInfo/"
PROBLEM = "https://cloudstore.dev/problems/"
# RFC 9110 §7.6.1 connection options and the RFC 2616 §13.5.1 list, plus what only concerns one hop of a proxy.
HOP_BY_HOP = ("Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer", "Upgrade")


@pytest.fixture
def ebs() -> Iterator[KeepAliveEbs]:
    server = KeepAliveEbs().start()
    yield server
    server.stop()


@pytest.fixture
def registered(test_client: FlaskClient, headers: dict[str, str], ebs: KeepAliveEbs) -> KeepAliveEbs:
    response = test_client.post("/v1/bridges", json=bridge_body(ebs.url), headers=headers)
    assert response.status_code == 201, response.get_json()
    return ebs


def _channel(gw: Gateway) -> BridgeChannel:
    (channel,) = gw.upstream._channels.values()
    return channel


def test_calls_reuse_one_pooled_connection(
    test_client: FlaskClient, headers: dict[str, str], registered: KeepAliveEbs, gw: Gateway
) -> None:
    for _ in range(5):
        response = test_client.get(RELAY, headers=headers)
        assert response.status_code == 200 and response.get_json() == {"ok": True}
    paths = [r["path"] for r in registered.requests]
    assert paths == ["/api/Login/Login"] + ["/api/rpc/FetchSessionInfo/"] * 5
    assert registered.accepted == 1  # the login and five calls over one keep-alive connection
    assert _channel(gw).transport.opened == 1


def test_concurrent_calls_share_the_pool_within_the_cap(
    test_client: FlaskClient, headers: dict[str, str], registered: KeepAliveEbs, gw: Gateway
) -> None:
    assert test_client.get(RELAY, headers=headers).status_code == 200
    app = test_client.application
    statuses: list[int] = []

    def calls() -> None:
        client = app.test_client()
        statuses.extend(client.get(RELAY, headers=headers).status_code for _ in range(10))

    threads = [threading.Thread(target=calls) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 40
    assert registered.accepted <= 4  # BRIDGE_MAX_CONCURRENCY: at most one connection per call in flight


def test_pooled_connections_survive_an_upstream_restart(
    test_client: FlaskClient, headers: dict[str, str], registered: KeepAliveEbs, gw: Gateway
) -> None:
    assert test_client.get(RELAY, headers=headers).status_code == 200
    registered.stop()  # the server restarts: its listening socket and the pooled connection are gone
    registered.start()
    for _ in range(3):
        assert test_client.get(RELAY, headers=headers).status_code == 200
    assert registered.accepted == 2  # one new connection (vetted by the guard again), then reused
    assert _channel(gw).breaker.state == "closed"
    assert _channel(gw).logins == 1  # the WebApi session outlives the TCP connection


def test_a_down_server_is_unreachable_then_comes_back(
    test_client: FlaskClient, headers: dict[str, str], registered: KeepAliveEbs
) -> None:
    assert test_client.get(RELAY, headers=headers).status_code == 200
    registered.stop()
    down = test_client.get(RELAY, headers=headers)
    assert down.status_code == 502
    assert down.get_json()["type"] == PROBLEM + "upstream-unreachable"
    assert "connection was refused" in down.get_json()["detail"]
    registered.start()
    assert test_client.get(RELAY, headers=headers).status_code == 200


def test_hop_by_hop_and_other_headers_do_not_cross_the_gateway(
    test_client: FlaskClient, headers: dict[str, str], ebs: KeepAliveEbs
) -> None:
    def answer(method: str, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        if path == "/api/Login/Login":
            return KeepAliveEbs.default(method, path, body)
        sent = {
            "Content-Type": "application/json",
            "Keep-Alive": "timeout=5",
            "Proxy-Authenticate": "Basic",
            "Trailer": "X-Checksum",
            "Upgrade": "h2c",
            "Set-Cookie": "ASP.NET_SessionId=abc; path=/",
            "Server": "Microsoft-IIS/10.0",
            "X-Powered-By": "ASP.NET",
        }
        return 200, sent, b'{"ok": true}'

    ebs.answer = answer
    test_client.post("/v1/bridges", json=bridge_body(ebs.url), headers=headers)
    sent_by_caller = {
        **headers,
        "Connection": "keep-alive, X-Secret",
        "X-Secret": "hop",
        "Keep-Alive": "timeout=5",
        "TE": "trailers",
        "Upgrade": "websocket",
        "Proxy-Authorization": "Basic c2VjcmV0",
        "Cookie": "session=abc",
        "X-Forwarded-For": "10.0.0.1",
        "X-ESPQOptions": '{"PageSize": 1}',
    }
    response = test_client.get(RELAY, headers=sent_by_caller)
    assert response.status_code == 200 and response.get_json() == {"ok": True}
    call = {name.lower(): value for name, value in ebs.requests[-1]["headers"].items()}
    for name in (*HOP_BY_HOP, "X-Secret", "Cookie", "X-Forwarded-For"):
        assert name.lower() not in call, name
    assert call["authorization"] == "Bearer tok-aaaaaaaaaaaaaaaaaaaa"  # EBS's session, never the caller's token
    assert call["x-espqoptions"] == '{"PageSize": 1}'
    answered = {name.lower() for name in response.headers.keys()}
    for name in (*HOP_BY_HOP, "Set-Cookie", "Server", "X-Powered-By"):
        assert name.lower() not in answered, name
    assert response.headers["X-EBS-Status"] == "200"


def test_success_bodies_pass_through_once_and_only_as_json(
    test_client: FlaskClient, headers: dict[str, str], ebs: KeepAliveEbs
) -> None:
    bodies = {
        "/api/rpc/A": b'{"Title": "\xce\x9a\xce\xb5\xce\xbd\xcf\x84\xcf\x81\xce\xb9\xce\xba\xcf\x8c", "N": [1, 2]}'
    }
    bodies["/api/rpc/B"] = b"<html>not json</html>"
    bodies["/api/rpc/C"] = b"\xff\xfe{}"  # not UTF-8

    def answer(method: str, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        if path == "/api/Login/Login":
            return KeepAliveEbs.default(method, path, body)
        return 200, {"Content-Type": "application/json"}, bodies[path]

    ebs.answer = answer
    test_client.post("/v1/bridges", json=bridge_body(ebs.url), headers=headers)
    passed = test_client.get(f"{BRIDGE}/relay/api/rpc/A", headers=headers)
    assert passed.status_code == 200 and passed.get_data() == bodies["/api/rpc/A"]
    assert passed.get_json() == {"Title": "Κεντρικό", "N": [1, 2]}
    for path in ("B", "C"):
        refused = test_client.get(f"{BRIDGE}/relay/api/rpc/{path}", headers=headers)
        assert refused.status_code == 502
        assert refused.get_json()["type"] == PROBLEM + "upstream-invalid-response"
        assert b"html" not in refused.get_data()


def test_a_connection_dropped_before_the_answer_is_unreachable(
    test_client: FlaskClient, headers: dict[str, str], ebs: KeepAliveEbs
) -> None:
    """A server that accepts and hangs up without an answer (a crashing worker): a retried GET, then a 502."""
    closer = socket.create_server(("127.0.0.1", 0))
    port = closer.getsockname()[1]
    stop = threading.Event()

    def hang_up() -> None:
        closer.settimeout(0.05)
        while not stop.is_set():
            try:
                conn, _ = closer.accept()
            except TimeoutError:
                continue
            conn.recv(65536)
            conn.close()

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    try:
        test_client.post("/v1/bridges", json=bridge_body(f"http://127.0.0.1:{port}"), headers=headers)
        response = test_client.get(RELAY, headers=headers)
    finally:
        stop.set()
        thread.join()
        closer.close()
    assert response.status_code == 502
    problem = response.get_json()
    assert problem["type"] == PROBLEM + "upstream-unreachable" and "connection failed" in problem["detail"]


@pytest.mark.parametrize(
    ("kind", "slug", "detail", "retryable"),
    [
        ("refused", "upstream-unreachable", "the connection was refused", True),
        ("failed", "upstream-unreachable", "the connection failed", True),
        ("unresolved", "upstream-unreachable", "does not resolve", False),
        ("connect-timeout", "upstream-timeout", "did not accept a connection within", True),
        ("timeout", "upstream-timeout", "did not answer within", True),
        ("tls", "upstream-tls-failure", "TLS with", False),
    ],
)
def test_transport_failures_map_to_the_same_problems(
    gw: Gateway, kind: str, slug: str, detail: str, retryable: bool, registered: KeepAliveEbs
) -> None:
    target = BridgeTarget("demo", "Demo_002", "gid", "http", "127.0.0.1", registered.port, "pw")
    channel = gw.upstream.channel(target)
    failed = channel._transport_failure(TransportError(kind, "certificate verify failed"), started=0.0)
    problem: GatewayProblem = failed.problem
    assert problem.type == PROBLEM + slug and detail in str(problem.detail)
    assert failed.retryable is retryable
    rendered = problem.to_dict()
    assert rendered["status"] in (502, 504) and "certificate verify failed" not in str(rendered)  # nothing internal


def test_tls_is_verified_against_the_host_name_while_pinned(
    make_app: Callable[..., Flask], headers: dict[str, str], tmp_path: Path
) -> None:
    """The pool connects to the vetted address, yet SNI and the certificate check use the registered name."""
    cert_path, context = self_signed(tmp_path, "ebs.customer.test")
    app = make_app(TLS_CA_BUNDLE=str(cert_path))
    gw: Gateway = app.extensions["bridge_gateway"]
    gw.guard.resolver = lambda host, port, **kwargs: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
    client = app.test_client()
    ebs = KeepAliveEbs(tls=context).start()
    try:
        named = bridge_body(ebs.url, scheme="https", host="ebs.customer.test")
        assert client.post("/v1/bridges", json=named, headers=headers).status_code == 201
        for _ in range(2):
            assert client.get(RELAY, headers=headers).status_code == 200
        assert ebs.accepted == 1  # TLS connections are pooled too
        by_address = bridge_body(ebs.url, scheme="https", bridgeId="Demo_003")  # the certificate names no IP
        assert client.post("/v1/bridges", json=by_address, headers=headers).status_code == 201
        refused = client.get("/v1/bridges/demo/Demo_003/relay/api/rpc/FetchSessionInfo/", headers=headers)
    finally:
        ebs.stop()
    assert refused.status_code == 502
    assert refused.get_json()["type"] == PROBLEM + "upstream-tls-failure"


def test_compressed_answers_are_decoded_and_capped_once_decoded(
    make_app: Callable[..., Flask], headers: dict[str, str], ebs: KeepAliveEbs
) -> None:
    small = json.dumps({"Rows": list(range(100))}).encode()
    bomb = b"[" + b"0," * 100_000 + b"0]"  # 200 kB of JSON, a few hundred bytes compressed

    def answer(method: str, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        if path == "/api/Login/Login":
            return KeepAliveEbs.default(method, path, body)
        content = bomb if path.endswith("Bomb") else small
        return 200, {"Content-Type": "application/json", "Content-Encoding": "gzip"}, gzip.compress(content)

    ebs.answer = answer
    client = make_app(MAX_RESPONSE_BYTES=65536).test_client()
    client.post("/v1/bridges", json=bridge_body(ebs.url), headers=headers)
    passed = client.get(f"{BRIDGE}/relay/api/rpc/Small", headers=headers)
    assert passed.status_code == 200 and passed.get_data() == small
    assert "gzip" in ebs.requests[-1]["headers"]["Accept-Encoding"]
    refused = client.get(f"{BRIDGE}/relay/api/rpc/Bomb", headers=headers)
    assert refused.status_code == 502
    assert refused.get_json()["type"] == PROBLEM + "upstream-response-too-large"
    # The cut-off answer's connection is closed, not handed to the next call.
    assert client.get(f"{BRIDGE}/relay/api/rpc/Small", headers=headers).status_code == 200
    assert ebs.accepted == 2


def test_only_calls_with_a_body_send_one(
    test_client: FlaskClient, headers: dict[str, str], registered: KeepAliveEbs
) -> None:
    assert test_client.delete(f"{BRIDGE}/relay/api/rpc/Item/1", headers=headers).status_code == 200
    assert test_client.put(f"{BRIDGE}/relay/api/rpc/Item/1", json={"A": 1}, headers=headers).status_code == 200
    assert test_client.get(RELAY, headers=headers).status_code == 200
    deleted, put, fetched = ({k.lower(): v for k, v in r["headers"].items()} for r in registered.requests[-3:])
    assert [r["method"] for r in registered.requests[-3:]] == ["DELETE", "PUT", "GET"]
    for sent in (deleted, fetched):
        assert "content-length" not in sent and "content-type" not in sent and "expect" not in sent
    assert put["content-type"].startswith("application/json") and int(put["content-length"]) > 0
    assert registered.accepted == 1


def test_a_post_or_put_without_a_body_keeps_its_method_and_says_length_zero(
    test_client: FlaskClient, headers: dict[str, str], registered: KeepAliveEbs
) -> None:
    assert test_client.post(f"{BRIDGE}/relay/api/rpc/Ping", headers=headers).status_code == 200
    assert test_client.put(f"{BRIDGE}/relay/api/rpc/Item/1", headers=headers).status_code == 200
    posted, put = registered.requests[-2:]
    assert [posted["method"], put["method"]] == ["POST", "PUT"]
    for sent in ({k.lower(): v for k, v in r["headers"].items()} for r in (posted, put)):
        assert sent["content-length"] == "0" and "content-type" not in sent and "expect" not in sent
