"""Bearer tokens: missing, unknown, expired, and sliding renewal through ``x-es-refresh-token``."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
import requests

from bridge_gateway.simulator.server import SimulatorServer
from tests.integration.simulator.sim_helpers import SUB, assert_error, bearer, login_body

INFO = "/api/rpc/FetchSessionInfo/"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer not-a-real-token"}],
    ids=["missing", "empty-bearer", "wrong-scheme", "unknown-token"],
)
def test_calls_without_a_valid_token_are_refused(
    sim: SimulatorServer, http: requests.Session, headers: dict[str, str]
) -> None:
    for method, path in [
        ("GET", INFO),
        ("GET", "/api/rpc/FetchCompanyParam/CompanyTitle"),
        ("GET", "/api/asset/?routeId=x.txt"),
        ("POST", "/api/rpc/EventLog/"),
        ("POST", "/api/rpc/EbsService/ESPayroll/Entersoft.Payroll/TimeAttendance/ImportPunches"),
    ]:
        response = http.request(method, sim.url + path, headers=headers, json={}, timeout=10)
        assert_error(response, 401, "invalid-webapi-token")


def test_token_in_the_webapitoken_query_parameter(
    sim: SimulatorServer, http: requests.Session, token: Callable[..., str]
) -> None:
    value = token(sim)
    response = http.get(f"{sim.url}{INFO}", params={"webapitoken": f"Bearer {value}"}, timeout=10)
    assert response.status_code == 200


def _wait_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.time()))


def test_expiry_and_sliding_renewal(start_server: Callable[..., SimulatorServer], http: requests.Session) -> None:
    server = start_server(TOKEN_LIFETIME_SECONDS=2, REFRESH_WITHIN_PERCENT=50)
    response = http.post(f"{server.url}/api/Login/Login", json=login_body("esmaster"), timeout=10)
    model = response.json()["Model"]
    old = model["WebApiToken"]
    expires_at = datetime.fromisoformat(model["WebApiTokenExpiresAt"]).timestamp()
    assert 1.5 < expires_at - time.time() <= 2.0

    fresh = http.get(server.url + INFO, headers=bearer(old), timeout=10)
    assert fresh.status_code == 200
    assert "x-es-refresh-token" not in fresh.headers  # more than half of its life left

    _wait_until(expires_at - 0.8)  # less than 50 % left: answered normally, plus a new token
    near = http.get(server.url + INFO, headers=bearer(old), timeout=10)
    assert near.status_code == 200
    assert near.json()["ESProperty"]
    renewed = near.headers["x-es-refresh-token"]
    assert renewed != old
    assert "x-es-refresh-token" in near.headers["Access-Control-Expose-Headers"]
    assert http.get(server.url + INFO, headers=bearer(old), timeout=10).status_code == 200  # old still works

    _wait_until(expires_at + 0.05)
    assert_error(http.get(server.url + INFO, headers=bearer(old), timeout=10), 401, "expired-webapi-token")
    after = http.get(server.url + INFO, headers=bearer(renewed), timeout=10)
    assert after.status_code == 200


def test_refresh_percent_zero_never_renews(
    start_server: Callable[..., SimulatorServer], http: requests.Session
) -> None:
    server = start_server(TOKEN_LIFETIME_SECONDS=0.4, REFRESH_WITHIN_PERCENT=0)
    value = http.post(f"{server.url}/api/Login/Login", json=login_body("payroll"), timeout=10).json()["Model"]
    time.sleep(0.25)
    response = http.get(server.url + INFO, headers=bearer(value["WebApiToken"]), timeout=10)
    assert response.status_code == 200
    assert "x-es-refresh-token" not in response.headers


def test_refresh_percent_hundred_renews_on_every_call(
    start_server: Callable[..., SimulatorServer], http: requests.Session
) -> None:
    server = start_server(REFRESH_WITHIN_PERCENT=100)
    value = http.post(f"{server.url}/api/Login/Login", json=login_body("payroll"), timeout=10).json()["Model"]
    first = http.get(server.url + INFO, headers=bearer(value["WebApiToken"]), timeout=10)
    renewed = first.headers["x-es-refresh-token"]
    second = http.get(server.url + INFO, headers=bearer(renewed), timeout=10)
    assert second.status_code == 200
    props = {p["ID"]: p["ValueS"] for p in second.json()["ESProperty"]}
    assert props[1] == "payroll" and props[6] == "001"  # the renewed token keeps user and branch


def test_error_answers_carry_the_renewal_too(
    start_server: Callable[..., SimulatorServer], http: requests.Session
) -> None:
    server = start_server(REFRESH_WITHIN_PERCENT=100)
    value = http.post(f"{server.url}/api/Login/Login", json=login_body("payroll"), timeout=10).json()["Model"]
    response = http.get(
        f"{server.url}/api/rpc/FetchCompanyParam/Nope", headers=bearer(value["WebApiToken"]), timeout=10
    )
    assert_error(response, 404, "company-parameter-not-found")
    assert response.headers.get("x-es-refresh-token")


def test_tokens_are_bound_to_their_bridge(sim: SimulatorServer, http: requests.Session, token: Any) -> None:
    demo_002 = token(sim, "esmaster")
    demo_003 = token(sim, "esmaster", sub={**SUB, "BridgeID": "Demo_003"})
    props_002 = {
        p["ID"]: p["ValueS"]
        for p in http.get(sim.url + INFO, headers=bearer(demo_002), timeout=10).json()["ESProperty"]
    }
    props_003 = {
        p["ID"]: p["ValueS"]
        for p in http.get(sim.url + INFO, headers=bearer(demo_003), timeout=10).json()["ESProperty"]
    }
    assert props_002[9] == "Demo_002" and props_003[9] == "Demo_003"
    assert props_002[8] == props_003[8] == "demo"
