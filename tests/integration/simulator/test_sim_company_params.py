"""Company parameters: the Cloud Store section written through EbsService, read back with FetchCompanyParam."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from bridge_gateway.simulator import create_app
from bridge_gateway.simulator.server import SimulatorServer
from tests.integration.simulator.sim_helpers import OTHER_SUB, assert_error, bearer

REGISTER = "/api/rpc/EbsService/ESCloudStore/Entersoft.CloudStore/CompanyParams/Register"
UNREGISTER = "/api/rpc/EbsService/ESCloudStore/Entersoft.CloudStore/CompanyParams/Unregister"
GID = "3f2b8c1e-8a4d-4c55-9a0e-0b6f3e2d1c7a"
DEMO_003 = {"SubscriptionID": "demo", "SubscriptionPassword": "DemoSub#2024", "BridgeID": "Demo_003"}


@pytest.fixture
def server(config_file: Path, tmp_path: Path) -> Iterator[SimulatorServer]:
    """A fresh simulator per test: these tests check exact parameter lists."""
    app = create_app({"SIMULATOR_CONFIG": str(config_file), "SIMULATOR_DATA_DIR": str(tmp_path)})
    with SimulatorServer(app, port=0, control=False) as started:
        yield started


def _register(http: requests.Session, server: SimulatorServer, token: str, **payload: Any) -> requests.Response:
    body = {"SubscriptionID": "demo", "SubscriptionGID": GID, **payload}
    return http.post(server.url + REGISTER, json=body, headers=bearer(token), timeout=10)


def _get(http: requests.Session, server: SimulatorServer, token: str, path: str, **params: str) -> requests.Response:
    return http.get(f"{server.url}/api/rpc/{path}", params=params, headers=bearer(token), timeout=10)


def test_register_then_read_back(server: SimulatorServer, http: requests.Session, token: Callable[..., str]) -> None:
    admin = token(server, "esmaster")
    response = _register(http, server, admin, EndpointType="time-attendance", ApiKey="csk_live_abcdef123456")
    assert response.status_code == 200, response.text
    ids = [p["ID"] for p in response.json()["Params"]]
    assert set(ids) == {
        "ESCloudStore.SubscriptionID",
        "ESCloudStore.SubscriptionGID",
        "ESCloudStore.Endpoint.time-attendance",
    }
    param = _get(http, server, admin, "FetchCompanyParam/ESCloudStore.Endpoint.time-attendance").json()
    assert param["Value"] == param["ValueS"] == "csk_live_abcdef123456"
    assert param["GroupID"] == "Entersoft Cloud Store"
    assert set(param) >= {"ID", "Description", "Help", "ESType", "Value", "ValueS"}
    assert _get(http, server, admin, "FetchCompanyParam/ESCloudStore.SubscriptionID").json()["Value"] == "demo"
    assert _get(http, server, admin, "FetchCompanyParam/escloudstore.subscriptiongid").json()["Value"] == GID
    assert _get(http, server, admin, "ParameterValue/ESCloudStore.SubscriptionGID").json() == GID


def test_each_endpoint_type_has_its_parameter(
    server: SimulatorServer, http: requests.Session, token: Callable[..., str]
) -> None:
    admin = token(server, "esmaster")
    for endpoint_type in ("time-attendance", "app-insights", "surveys"):
        assert _register(http, server, admin, EndpointType=endpoint_type, ApiKey=f"key-{endpoint_type}").ok
    section = _get(http, server, admin, "FetchCompanyParams/", GroupID="Entersoft Cloud Store").json()
    assert {p["ID"]: p["Value"] for p in section} == {
        "ESCloudStore.Endpoint.app-insights": "key-app-insights",
        "ESCloudStore.Endpoint.surveys": "key-surveys",
        "ESCloudStore.Endpoint.time-attendance": "key-time-attendance",
        "ESCloudStore.SubscriptionGID": GID,
        "ESCloudStore.SubscriptionID": "demo",
    }
    assert _register(http, server, admin, EndpointType="surveys", ApiKey="rotated").ok  # rotation overwrites
    assert _get(http, server, admin, "ParameterValue/ESCloudStore.Endpoint.surveys").json() == "rotated"


def test_fetch_company_params_lists_all_or_named(
    server: SimulatorServer, http: requests.Session, token: Callable[..., str]
) -> None:
    admin = token(server, "esmaster")
    everything = _get(http, server, admin, "FetchCompanyParams/").json()
    assert [p["ID"] for p in everything] == ["CompanyTitle"]  # from the config
    assert everything[0]["Value"] == "Δοκιμαστική"
    _register(http, server, admin, EndpointType="surveys", ApiKey="k1")
    named = _get(http, server, admin, "FetchCompanyParams/CompanyTitle/ESCloudStore.Endpoint.surveys").json()
    assert [p["ID"] for p in named] == ["CompanyTitle", "ESCloudStore.Endpoint.surveys"]
    assert len(_get(http, server, admin, "FetchCompanyParams").json()) == 4
    assert_error(_get(http, server, admin, "FetchCompanyParams/CompanyTitle/Nope"), 404, "company-parameter-not-found")


def test_unregister_removes_one_endpoint(
    server: SimulatorServer, http: requests.Session, token: Callable[..., str]
) -> None:
    admin = token(server, "esmaster")
    _register(http, server, admin, EndpointType="surveys", ApiKey="k-s")
    _register(http, server, admin, EndpointType="app-insights", ApiKey="k-a")
    response = http.post(server.url + UNREGISTER, json={"EndpointType": "surveys"}, headers=bearer(admin), timeout=10)
    assert response.status_code == 200
    assert response.json()["Removed"] is True
    gone = _get(http, server, admin, "FetchCompanyParam/ESCloudStore.Endpoint.surveys")
    assert_error(gone, 404, "company-parameter-not-found")
    assert _get(http, server, admin, "ParameterValue/ESCloudStore.Endpoint.app-insights").json() == "k-a"
    again = http.post(server.url + UNREGISTER, json={"EndpointType": "surveys"}, headers=bearer(admin), timeout=10)
    assert again.json()["Removed"] is False


def test_the_service_user_may_write(server: SimulatorServer, http: requests.Session, token: Callable[..., str]) -> None:
    service = token(server, None)  # a login without user credentials is the bridge's service user
    assert _register(http, server, service, EndpointType="time-attendance", ApiKey="svc-key").status_code == 200


def test_parameters_are_per_bridge(server: SimulatorServer, http: requests.Session, token: Callable[..., str]) -> None:
    demo_002 = token(server, "esmaster")
    demo_003 = token(server, "esmaster", sub=DEMO_003)
    other = token(server, "othersvc", sub=OTHER_SUB)
    _register(http, server, demo_002, EndpointType="surveys", ApiKey="only-on-002")
    path = "FetchCompanyParam/ESCloudStore.Endpoint.surveys"
    assert _get(http, server, demo_002, path).json()["Value"] == "only-on-002"
    assert_error(_get(http, server, demo_003, path), 404, "company-parameter-not-found")
    assert_error(_get(http, server, other, path), 404, "company-parameter-not-found")
    assert_error(_get(http, server, demo_003, "FetchCompanyParam/CompanyTitle"), 404, "company-parameter-not-found")


def test_unknown_parameter(server: SimulatorServer, http: requests.Session, token: Callable[..., str]) -> None:
    response = _get(http, server, token(server, "payroll"), "FetchCompanyParam/NoSuchParam")
    assert_error(response, 404, "company-parameter-not-found")
    assert response.json()["UserMessage"] == "Company parameter 'NoSuchParam' not found"


REGISTER_ERRORS = [
    ("not-admin", "payroll", {"EndpointType": "surveys", "ApiKey": "k"}, 403, "insufficient-rights"),
    ("not-admin-clerk", "clerk", {"EndpointType": "surveys", "ApiKey": "k"}, 403, "insufficient-rights"),
    ("unknown-type", "esmaster", {"EndpointType": "crm", "ApiKey": "k"}, 400, "invalid-params"),
    ("missing-key", "esmaster", {"EndpointType": "surveys"}, 400, "invalid-params"),
    ("key-not-string", "esmaster", {"EndpointType": "surveys", "ApiKey": 5}, 400, "invalid-params"),
    ("wrong-subscription", "esmaster", {"SubscriptionID": "other", "EndpointType": "surveys", "ApiKey": "k"}, 400,
     "invalid-params"),
    ("missing-gid", "esmaster", {"SubscriptionGID": None, "EndpointType": "surveys", "ApiKey": "k"}, 400,
     "invalid-params"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("user", "payload", "status", "message_id"), [c[1:] for c in REGISTER_ERRORS], ids=[c[0] for c in REGISTER_ERRORS]
)
def test_register_errors(
    server: SimulatorServer,
    http: requests.Session,
    token: Callable[..., str],
    user: str,
    payload: dict[str, Any],
    status: int,
    message_id: str,
) -> None:
    value = token(server, user)
    assert_error(_register(http, server, value, **payload), status, message_id)
    assert _get(http, server, value, "FetchCompanyParams/", GroupID="Entersoft Cloud Store").json() == []


def test_unregister_needs_rights_and_a_known_type(
    server: SimulatorServer, http: requests.Session, token: Callable[..., str]
) -> None:
    payroll = token(server, "payroll")
    response = http.post(server.url + UNREGISTER, json={"EndpointType": "surveys"}, headers=bearer(payroll), timeout=10)
    assert_error(response, 403, "insufficient-rights")
    admin = token(server, "esmaster")
    response = http.post(server.url + UNREGISTER, json={"EndpointType": "nope"}, headers=bearer(admin), timeout=10)
    assert_error(response, 400, "invalid-params")


@pytest.mark.parametrize(
    ("path", "status", "message_id"),
    [
        ("ESCloudStore/Entersoft.CloudStore/CompanyParams/Delete", 403, "invalid-service"),
        ("ESCloudStore/Entersoft.CloudStore/Secret/Register", 403, "invalid-service"),
        ("Other/Ns/Class/Method", 403, "invalid-service"),
        ("esCloudStore/entersoft.cloudstore/companyparams/register", 403, "invalid-service"),
        ("JustOnePart", 400, "invalid-service-specification"),
    ],
)
def test_unknown_ebs_services(
    server: SimulatorServer, http: requests.Session, token: Callable[..., str], path: str, status: int, message_id: str
) -> None:
    response = http.post(f"{server.url}/api/rpc/EbsService/{path}", json={}, headers=bearer(token(server)), timeout=10)
    assert_error(response, status, message_id)


def test_ebs_service_body_must_be_an_object(
    server: SimulatorServer, http: requests.Session, token: Callable[..., str]
) -> None:
    response = http.post(server.url + REGISTER, json=[1, 2], headers=bearer(token(server)), timeout=10)
    assert_error(response, 400, "invalid-params")
