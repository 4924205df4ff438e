"""Reliability and the SSRF guard against a real simulator with injected faults, and misbehaving servers."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.wrappers import Request, Response

from bridge_gateway.runtime import Gateway
from bridge_gateway.simulator.server import SimulatorServer
from tests.integration.bridge_gateway.conftest import BRIDGE
from tests.integration.bridge_gateway.gw_helpers import FakeEbs, bridge_body, serve
from tests.integration.simulator.sim_helpers import TEST_CONFIG

RELAY = f"{BRIDGE}/relay/api/rpc/FetchSessionInfo/"
PROBLEM = "https://cloudstore.dev/problems/"


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every address the gateway's transport opens a TCP connection to."""
    opened: list[tuple[str, int]] = []
    original = socket.create_connection

    def record(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        opened.append(address)
        return original(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", record)
    return opened


def _resolve_to(address: str) -> Callable[..., list[tuple[Any, ...]]]:
    def resolve(host: str, port: int, **kwargs: Any) -> list[tuple[Any, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    return resolve


def test_server_down_then_up(
    test_client: FlaskClient, headers: dict[str, str], bridge: dict[str, Any], sim: SimulatorServer
) -> None:
    assert test_client.get(RELAY, headers=headers).status_code == 200
    sim.go_down()
    response = test_client.get(RELAY, headers=headers)
    assert response.status_code == 502
    problem = response.get_json()
    assert problem["type"] == PROBLEM + "upstream-unreachable"
    assert "connection was refused" in problem["detail"]
    assert f"TCP port {sim.port}" in problem["hint"] and "198.51.100.7, 203.0.113.9" in problem["hint"]
    assert problem["egressAddresses"] == ["198.51.100.7", "203.0.113.9"]
    sim.come_up()
    assert test_client.get(RELAY, headers=headers).status_code == 200


def test_slow_beyond_the_timeout(
    test_client: FlaskClient, headers: dict[str, str], bridge: dict[str, Any], sim: SimulatorServer
) -> None:
    assert test_client.get(RELAY, headers=headers).status_code == 200  # logged in while fast
    sim.set_faults(latency_ms=1500)
    started = time.monotonic()
    response = test_client.get(RELAY, headers=headers)
    elapsed = time.monotonic() - started
    assert response.status_code == 504
    assert response.get_json()["type"] == PROBLEM + "upstream-timeout"
    assert "within 0.5 s" in response.get_json()["detail"]
    assert elapsed < 1.5  # two attempts of 0.5 s, not the server's 1.5 s
    sim.set_faults(latency_ms=0)


def test_5xx_burst_opens_the_breaker_and_a_probe_closes_it(
    test_client: FlaskClient, headers: dict[str, str], bridge: dict[str, Any], sim: SimulatorServer, gw: Gateway
) -> None:
    assert test_client.get(RELAY, headers=headers).status_code == 200
    sim.set_faults(error_rate=1.0)
    first = test_client.get(RELAY, headers=headers)
    assert first.status_code in (500, 503) and first.headers["X-EBS-Status"] == str(first.status_code)
    assert first.get_json()["MessageID"] in ("internal-error", "service-unavailable")
    test_client.get(RELAY, headers=headers)  # 2 calls x 2 attempts: past the threshold of 3
    opened = test_client.get(RELAY, headers=headers)
    assert opened.status_code == 503
    assert opened.get_json()["type"] == PROBLEM + "circuit-open"
    assert opened.headers["Retry-After"] == "1"
    attempts = gw.metrics.render()
    assert test_client.get(RELAY, headers=headers).status_code == 503
    assert _upstream_total(gw) == _upstream_total(gw, attempts)  # open: EBS was not called at all

    sim.set_faults(error_rate=0)
    time.sleep(0.35)  # past BREAKER_RESET_SECONDS: the next call is the half-open probe
    assert test_client.get(RELAY, headers=headers).status_code == 200
    assert test_client.get(RELAY, headers=headers).status_code == 200
    assert 'bridge_gateway_circuit_state{subscription="demo",bridge="Demo_002"} 0' in gw.metrics.render()


def test_a_failed_probe_opens_the_breaker_again(
    test_client: FlaskClient, headers: dict[str, str], bridge: dict[str, Any], sim: SimulatorServer
) -> None:
    sim.go_down()
    for _ in range(2):
        assert test_client.get(RELAY, headers=headers).status_code == 502
    assert test_client.get(RELAY, headers=headers).status_code == 503
    time.sleep(0.35)
    assert test_client.get(RELAY, headers=headers).status_code == 502  # the probe fails...
    assert test_client.get(RELAY, headers=headers).status_code == 503  # ...and the circuit is open again
    sim.come_up()


def _upstream_total(gw: Gateway, text: str | None = None) -> int:
    lines = (text or gw.metrics.render()).splitlines()
    prefix = "bridge_gateway_upstream_requests_total{"
    return sum(int(float(line.rsplit(" ", 1)[1])) for line in lines if line.startswith(prefix))


def test_only_idempotent_calls_are_retried(
    test_client: FlaskClient, headers: dict[str, str], bridge: dict[str, Any], sim: SimulatorServer, gw: Gateway
) -> None:
    assert test_client.get(RELAY, headers=headers).status_code == 200
    sim.set_faults(error_rate=1.0)
    before = _upstream_total(gw)
    test_client.post(f"{BRIDGE}/relay/api/rpc/EventLog/", json={"ID": "x"}, headers=headers)
    assert _upstream_total(gw) - before == 1
    test_client.get(RELAY, headers=headers)
    assert _upstream_total(gw) - before == 1 + 2  # GET: one retry (RETRIES=1)
    sim.set_faults(error_rate=0)


def test_one_slow_bridge_cannot_starve_another(
    make_app: Callable[..., Flask],
    headers: dict[str, str],
    start_sim: Callable[..., SimulatorServer],
    tmp_path: Path,
) -> None:
    app = make_app(READ_TIMEOUT_SECONDS=2.0, BRIDGE_MAX_CONCURRENCY=2)
    client = app.test_client()
    slow = start_sim()
    config = tmp_path / "sim.toml"
    config.write_text(TEST_CONFIG, encoding="utf-8")
    fast = start_sim(config=config)
    client.post("/v1/bridges", json=bridge_body(slow.url), headers=headers)
    client.post("/v1/bridges", json=bridge_body(fast.url, bridgeId="Demo_003"), headers=headers)
    assert client.get(RELAY, headers=headers).status_code == 200  # log in before the server slows down
    slow.set_faults(latency_ms=600)

    statuses: list[int] = []

    def call() -> None:
        statuses.append(app.test_client().get(RELAY, headers=headers).status_code)

    threads = [threading.Thread(target=call) for _ in range(5)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    other = client.get("/v1/bridges/demo/Demo_003/relay/api/rpc/FetchSessionInfo/", headers=headers)
    assert other.status_code == 200 and time.monotonic() - started < 0.5
    busy = client.get(RELAY, headers=headers)
    assert busy.status_code == 503 and busy.get_json()["type"] == PROBLEM + "bridge-busy"
    assert busy.headers["Retry-After"] == "1"
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 200, 503, 503, 503]
    slow.set_faults(latency_ms=0)


def test_a_redirect_to_the_metadata_address_is_not_followed(
    test_client: FlaskClient, headers: dict[str, str], connections: list[tuple[str, int]]
) -> None:
    def redirect(request: Request) -> Response:
        return Response("", 302, {"Location": "http://169.254.169.254/latest/meta-data/iam/security-credentials/"})

    fake = FakeEbs(redirect)
    with serve(fake.wsgi) as url:
        test_client.post("/v1/bridges", json=bridge_body(url), headers=headers)
        response = test_client.get(RELAY, headers=headers)
    assert response.status_code == 502
    assert response.get_json()["type"] == PROBLEM + "upstream-redirect-refused"
    assert "169.254.169.254" not in response.get_data(as_text=True)
    assert [r["path"] for r in fake.requests] == ["/api/Login/Login"]
    assert connections and all(host == "127.0.0.1" for host, _ in connections)


def test_a_name_resolving_to_a_private_address_is_refused_at_connect_time(
    test_client: FlaskClient,
    headers: dict[str, str],
    sim: SimulatorServer,
    gw: Gateway,
    connections: list[tuple[str, int]],
) -> None:
    gw.guard.resolver = _resolve_to("127.0.0.1")
    body = bridge_body(sim.url, host="ebs.customer.test")
    assert test_client.post("/v1/bridges", json=body, headers=headers).status_code == 201
    assert test_client.get(RELAY, headers=headers).status_code == 200  # pinned: no real DNS lookup for the name
    assert {c for c in connections if c[1] == sim.port} == {("127.0.0.1", sim.port)}
    assert all(host != "ebs.customer.test" for host, _ in connections)

    gw.guard.resolver = _resolve_to("10.0.0.1")  # the name now points inside (DNS rebinding)
    gw.upstream.close()  # drop the pooled connection: the next one is vetted again
    response = test_client.get(RELAY, headers=headers)
    assert response.status_code == 403
    assert response.get_json()["type"] == PROBLEM + "destination-refused"
    assert "10.0.0.1" not in response.get_data(as_text=True)
    assert all(host != "10.0.0.1" for host, _ in connections)


def test_pinned_connections_keep_the_host_name(test_client: FlaskClient, headers: dict[str, str], gw: Gateway) -> None:
    gw.guard.resolver = _resolve_to("127.0.0.1")
    fake = FakeEbs()
    with serve(fake.wsgi) as url:
        port = int(url.rsplit(":", 1)[1])
        test_client.post("/v1/bridges", json=bridge_body(url, host="ebs.customer.test"), headers=headers)
        assert test_client.get(RELAY, headers=headers).status_code == 200
    assert {r["headers"]["Host"] for r in fake.requests} == {f"ebs.customer.test:{port}"}


def test_an_unresolvable_host(test_client: FlaskClient, headers: dict[str, str], gw: Gateway) -> None:
    def nowhere(host: str, port: int, **kwargs: Any) -> list[tuple[Any, ...]]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    gw.guard.resolver = nowhere
    test_client.post("/v1/bridges", json=bridge_body("http://x:8300", host="gone.customer.test"), headers=headers)
    response = test_client.get(RELAY, headers=headers)
    assert response.status_code == 502
    assert "does not resolve" in response.get_json()["detail"]


@pytest.mark.parametrize("declared", [True, False])
def test_an_oversized_answer_is_cut_off(
    make_app: Callable[..., Flask], headers: dict[str, str], declared: bool
) -> None:
    client = make_app(MAX_RESPONSE_BYTES=65536).test_client()

    def huge(request: Request) -> Response:
        chunks = (b"[" + b"1," * 50_000 + b"1]" for _ in range(1))
        response = Response(chunks if not declared else b"".join(chunks), mimetype="application/json")
        return response

    with serve(FakeEbs(huge).wsgi) as url:
        client.post("/v1/bridges", json=bridge_body(url), headers=headers)
        response = client.get(RELAY, headers=headers)
    assert response.status_code == 502
    problem = response.get_json()
    assert problem["type"] == PROBLEM + "upstream-response-too-large" and "65536 bytes" in problem["detail"]


def test_an_oversized_file_through_the_simulator(
    make_app: Callable[..., Flask], headers: dict[str, str], sim: SimulatorServer
) -> None:
    client = make_app(MAX_RESPONSE_BYTES=65536).test_client()
    assets = sim.data_dir / "CSWebAssets"  # type: ignore[attr-defined]
    assets.mkdir(exist_ok=True)
    (assets / "big.txt").write_bytes(b"x" * 200_000)
    client.post("/v1/bridges", json=bridge_body(sim.url), headers=headers)
    response = client.get(f"{BRIDGE}/relay/api/asset/?routeId=big.txt&base64=true", headers=headers)
    assert response.status_code == 502
    assert response.get_json()["type"] == PROBLEM + "upstream-response-too-large"
    assert client.get(RELAY, headers=headers).status_code == 200  # the bridge is fine otherwise


def test_tls_failure(test_client: FlaskClient, headers: dict[str, str], sim: SimulatorServer) -> None:
    test_client.post("/v1/bridges", json=bridge_body(sim.url, scheme="https"), headers=headers)
    response = test_client.get(RELAY, headers=headers)
    assert response.status_code == 502
    problem = response.get_json()
    assert problem["type"] == PROBLEM + "upstream-tls-failure" and "TLS" in problem["detail"]
