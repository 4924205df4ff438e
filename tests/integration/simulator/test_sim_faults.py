"""Fault injection: latency, error rate, down / up, from Python and through the control listener."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import requests

from bridge_gateway.simulator.server import SimulatorServer
from tests.integration.simulator.sim_helpers import assert_error, bearer

CAPS = "/api/Login/ServerCapabilities/"


@pytest.fixture
def server(start_server: Callable[..., SimulatorServer]) -> SimulatorServer:
    """A simulator of its own, so faults set by one test never reach another."""
    return start_server()


def test_control_port_defaults(server: SimulatorServer) -> None:
    assert SimulatorServer(server.app, port=8300).control_port == 8301
    assert SimulatorServer(server.app, port=8300, control_port=9999).control_port == 9999
    assert server.control_port not in (0, server.port)  # port 0: both picked free


def test_latency_is_added(server: SimulatorServer, http: requests.Session) -> None:
    server.set_faults(latency_ms=300)
    started = time.monotonic()
    response = http.get(server.url + CAPS, timeout=10)
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3
    server.set_faults(latency_ms=0)
    started = time.monotonic()
    http.get(server.url + CAPS, timeout=10)
    assert time.monotonic() - started < 0.3


def test_error_rate_one_fails_every_call(server: SimulatorServer, http: requests.Session, token: Callable) -> None:
    value = token(server)
    server.set_faults(error_rate=1.0)
    seen = set()
    for _ in range(30):
        response = http.get(f"{server.url}/api/rpc/FetchSessionInfo/", headers=bearer(value), timeout=10)
        assert response.status_code in (500, 503)
        expected = "internal-error" if response.status_code == 500 else "service-unavailable"
        assert_error(response, response.status_code, expected)
        seen.add(response.status_code)
    assert seen == {500, 503}  # 30 tries: both kinds appear (odds of not: 2 in a billion)
    assert http.get(f"{server.url}/_sim/healthz", timeout=10).status_code == 200  # health checks are exempt
    server.set_faults(error_rate=0)
    assert http.get(f"{server.url}/api/rpc/FetchSessionInfo/", headers=bearer(value), timeout=10).status_code == 200


def test_partial_error_rate(server: SimulatorServer, http: requests.Session) -> None:
    server.set_faults(error_rate=0.5)
    statuses = [http.get(server.url + CAPS, timeout=10).status_code for _ in range(60)]
    assert 200 in statuses and any(s >= 500 for s in statuses)


def test_go_down_refuses_connections_and_come_up_serves_again(
    server: SimulatorServer, http: requests.Session, token: Callable
) -> None:
    value = token(server)  # made before going down: tokens survive an outage
    port = server.port
    assert http.get(server.url + CAPS, timeout=10).ok  # a kept-alive connection exists now
    server.go_down()
    with pytest.raises(requests.exceptions.ConnectionError):
        http.get(server.url + CAPS, timeout=10)
    with requests.Session() as fresh, pytest.raises(requests.exceptions.ConnectionError):
        fresh.get(server.url + CAPS, timeout=10)
    assert server.fault_state()["down"] is True
    server.come_up()
    assert server.port == port
    response = http.get(f"{server.url}/api/rpc/FetchSessionInfo/", headers=bearer(value), timeout=10)
    assert response.status_code == 200
    assert server.fault_state()["down"] is False


def test_down_through_set_faults(server: SimulatorServer, http: requests.Session) -> None:
    server.set_faults(down=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        http.get(server.url + CAPS, timeout=10)
    server.set_faults(down=False)
    assert http.get(server.url + CAPS, timeout=10).ok


def test_control_listener_over_http(server: SimulatorServer, http: requests.Session) -> None:
    faults = f"{server.control_url}/faults"
    assert http.get(faults, timeout=10).json() == {"latency_ms": 0.0, "error_rate": 0.0, "down": False}
    changed = http.post(faults, json={"latency_ms": 150, "error_rate": 0}, timeout=10)
    assert changed.json() == {"latency_ms": 150.0, "error_rate": 0.0, "down": False}
    started = time.monotonic()
    assert http.get(server.url + CAPS, timeout=10).ok
    assert time.monotonic() - started >= 0.15

    assert http.post(faults, json={"down": True, "latency_ms": 0}, timeout=10).json()["down"] is True
    with requests.Session() as fresh, pytest.raises(requests.exceptions.ConnectionError):
        fresh.get(server.url + CAPS, timeout=10)
    assert http.get(faults, timeout=10).json()["down"] is True  # the control listener stays up
    assert http.post(faults, json={"down": False}, timeout=10).json()["down"] is False
    assert http.get(server.url + CAPS, timeout=10).ok

    assert http.post(faults, json={"error_rate": 1}, timeout=10).ok
    assert http.get(server.url + CAPS, timeout=10).status_code in (500, 503)


@pytest.mark.parametrize(
    "body",
    [{"error_rate": 2}, {"error_rate": "high"}, {"latency_ms": -1}, {"down": "yes"}, {"surprise": 1}, [1]],
    ids=["rate-above-one", "rate-not-number", "negative-latency", "down-not-bool", "unknown-key", "not-object"],
)
def test_control_listener_rejects_bad_input(server: SimulatorServer, http: requests.Session, body: object) -> None:
    response = http.post(f"{server.control_url}/faults", json=body, timeout=10)
    assert response.status_code == 400
    assert response.json()["error"]
    assert http.get(f"{server.control_url}/faults", timeout=10).json()["error_rate"] == 0.0


def test_set_faults_validates(server: SimulatorServer) -> None:
    with pytest.raises(ValueError, match="error_rate"):
        server.set_faults(error_rate=1.5)


def test_stop_frees_both_ports(start_server: Callable[..., SimulatorServer], http: requests.Session) -> None:
    server = start_server()
    urls = [server.url + CAPS, f"{server.control_url}/faults"]
    for url in urls:
        assert http.get(url, timeout=10).ok
    server.stop()
    for url in urls:
        with requests.Session() as fresh, pytest.raises(requests.exceptions.ConnectionError):
            fresh.get(url, timeout=10)
    server.stop()  # twice is fine
