"""The relay against the real simulator: EBS's status and JSON, the service session, filtered errors."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from bridge_gateway.errors import RelayRefusedError
from bridge_gateway.relay.service import check_path
from bridge_gateway.runtime import Gateway
from bridge_gateway.simulator.server import SimulatorServer
from bridge_gateway.upstream import BridgeChannel
from tests.integration.bridge_gateway.conftest import BRIDGE
from tests.integration.bridge_gateway.gw_helpers import FakeEbs, bridge_body, serve

RELAY = f"{BRIDGE}/relay/"


def _channel(gw: Gateway) -> BridgeChannel:
    (channel,) = gw.upstream._channels.values()
    return channel


def test_relay_answers_ebs_status_and_json(
    test_client: FlaskClient, headers: dict[str, str], bridge: dict[str, Any]
) -> None:
    response = test_client.get(RELAY + "api/rpc/FetchSessionInfo/", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "application/json" and response.headers["X-EBS-Status"] == "200"
    properties = {p["ID"]: p["ValueS"] for p in response.get_json()["ESProperty"]}
    assert properties[101] == "4.0.36 - 2"
    assert properties[1] == "cloudsvc"  # the bridge's service user


def test_relay_keeps_greek_and_query_and_paging(
    test_client: FlaskClient, headers: dict[str, str], bridge: dict[str, Any]
) -> None:
    rows = test_client.get(RELAY + "api/rpc/PublicQuery/ESGOSites/Branches", headers=headers).get_json()["Rows"]
    assert rows[0] == {"Code": "001", "Description": "Κεντρικό"}
    paged = test_client.get(
        RELAY + "api/rpc/PublicQuery/ESGOSites/Branches",
        headers={**headers, "X-ESPQOptions": '{"Page": 2, "PageSize": 1, "WithCount": true}'},
    ).get_json()
    assert paged["Page"] == 2 and paged["Count"] == 3 and len(paged["Rows"]) == 1
    value = test_client.get(RELAY + "api/rpc/ParameterValue/CompanyTitle", headers=headers).get_json()
    assert value == "Δοκιμαστική Εταιρεία Α.Ε."


def test_relay_posts_json(test_client: FlaskClient, headers: dict[str, str], bridge: dict[str, Any]) -> None:
    logged = test_client.post(
        RELAY + "api/rpc/EventLog/", json={"ID": "CloudStore", "Description": "Γεια", "TypeID": 1}, headers=headers
    )
    assert logged.status_code == 200 and logged.get_json()["Logged"] is True
    entries = test_client.get(RELAY + "api/rpc/EventLog/", headers=headers).get_json()["Entries"]
    assert entries[-1]["Description"] == "Γεια" and entries[-1]["UserID"] == "cloudsvc"


def test_ebs_errors_are_relayed_filtered(
    test_client: FlaskClient, headers: dict[str, str], bridge: dict[str, Any]
) -> None:
    response = test_client.get(RELAY + "api/rpc/FetchCompanyParam/NoSuchParam", headers=headers)
    assert response.status_code == 404 and response.headers["X-EBS-Status"] == "404"
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"MessageID", "UserMessage", "Messages"}
    assert body["MessageID"] == "company-parameter-not-found" and "NoSuchParam" in body["UserMessage"]
    forbidden = test_client.post(RELAY + "api/rpc/EbsService/A/B/C/D", json={}, headers=headers)
    assert forbidden.status_code == 403 and forbidden.get_json()["MessageID"] == "invalid-service"


@pytest.mark.parametrize(
    "path",
    [
        "api/Login/Logout",
        "api/login/Login",
        "other/thing",
        "api/rpc/../Login/Logout",
        "api//rpc/x",
        "api/./x",
        "api/rpc/x\\y",
        "api/rpc/a%2Fb",
        "api/rpc/x?y",
        "api/rpc/x y",
        "api/rpc/x\x00",
    ],
)
def test_relay_paths_outside_its_remit(path: str) -> None:
    with pytest.raises(RelayRefusedError):
        check_path(path)


def test_relay_paths_are_reencoded() -> None:
    assert check_path("api/rpc/PublicQuery/ESGOSites/Branches") == "api/rpc/PublicQuery/ESGOSites/Branches"
    assert (
        check_path("api/rpc/FetchCompanyParam/Τίτλος")
        == "api/rpc/FetchCompanyParam/%CE%A4%CE%AF%CF%84%CE%BB%CE%BF%CF%82"
    )


@pytest.mark.parametrize(
    ("path", "kwargs"),
    [
        ("api/Login/Logout", {}),
        ("api/rpc/../Login/Logout", {}),
        ("api/rpc/FetchSessionInfo/?webapitoken=Bearer%20x", {}),
        ("api/rpc/EventLog/", {"data": "not json", "content_type": "application/json"}),
        ("api/rpc/PublicQuery/ESGOSites/Branches", {"headers": {"X-ESPQOptions": "[1]"}}),
    ],
)
def test_relay_refuses_paths_and_inputs_outside_its_remit(
    test_client: FlaskClient, headers: dict[str, str], path: str, kwargs: dict[str, Any]
) -> None:
    test_client.post("/v1/bridges", json=bridge_body("http://127.0.0.1:9"), headers=headers)
    method = "POST" if "data" in kwargs else "GET"
    sent = {**headers, **kwargs.pop("headers", {})}
    response = test_client.open(RELAY + path, method=method, headers=sent, **kwargs)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["type"] == "https://cloudstore.dev/problems/relay-refused"


def test_non_json_answers_are_not_passed_on(
    test_client: FlaskClient, headers: dict[str, str], bridge: dict[str, Any], sim: SimulatorServer
) -> None:
    assets = sim.data_dir / "CSWebAssets"  # type: ignore[attr-defined]
    assets.mkdir(exist_ok=True)
    (assets / "page.txt").write_text("<script>alert(1)</script>")
    raw = test_client.get(RELAY + "api/asset/?routeId=page.txt", headers=headers)
    assert raw.status_code == 502
    assert raw.get_json()["type"] == "https://cloudstore.dev/problems/upstream-invalid-response"
    assert "<script>" not in raw.get_data(as_text=True)
    as_json = test_client.get(RELAY + "api/asset/?routeId=page.txt&base64=true", headers=headers)
    assert as_json.status_code == 200 and as_json.get_json() == "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="


def test_the_service_session_is_reused(
    test_client: FlaskClient, headers: dict[str, str], bridge: dict[str, Any], gw: Gateway
) -> None:
    for _ in range(5):
        assert test_client.get(RELAY + "api/rpc/FetchSessionInfo/", headers=headers).status_code == 200
    assert _channel(gw).logins == 1


def test_refresh_header_replaces_the_token(
    test_client: FlaskClient, headers: dict[str, str], start_sim: Callable[..., SimulatorServer], gw: Gateway
) -> None:
    sim = start_sim(REFRESH_WITHIN_PERCENT=100)  # every answer carries x-es-refresh-token
    test_client.post("/v1/bridges", json=bridge_body(sim.url), headers=headers)
    seen = set()
    for _ in range(3):
        assert test_client.get(RELAY + "api/rpc/FetchSessionInfo/", headers=headers).status_code == 200
        seen.add(_channel(gw)._token.value)  # type: ignore[union-attr]
    assert len(seen) == 3 and _channel(gw).logins == 1


def test_token_expiry_in_the_middle_of_a_session(
    test_client: FlaskClient, headers: dict[str, str], start_sim: Callable[..., SimulatorServer], gw: Gateway
) -> None:
    sim = start_sim(TOKEN_LIFETIME_SECONDS=0.3, REFRESH_WITHIN_PERCENT=0)
    test_client.post("/v1/bridges", json=bridge_body(sim.url), headers=headers)
    relay = RELAY + "api/rpc/FetchSessionInfo/"
    assert test_client.get(relay, headers=headers).status_code == 200
    channel = _channel(gw)
    # The gateway believes its token is still good (a clock off by an hour); EBS says it expired.
    channel._token = channel._token.__class__(channel._token.value, time.time() + 3600, 3600)  # type: ignore[union-attr]
    time.sleep(0.35)
    response = test_client.get(relay, headers=headers)
    assert response.status_code == 200  # expired-webapi-token → one re-login → the call repeated
    assert channel.logins == 2
    # Left alone, a token near its expiry is replaced before use, without a refused call.
    time.sleep(0.35)
    assert test_client.get(relay, headers=headers).status_code == 200
    assert channel.logins == 3


def test_posts_survive_an_expired_token_too(
    test_client: FlaskClient, headers: dict[str, str], start_sim: Callable[..., SimulatorServer], gw: Gateway
) -> None:
    sim = start_sim(TOKEN_LIFETIME_SECONDS=0.3, REFRESH_WITHIN_PERCENT=0)
    test_client.post("/v1/bridges", json=bridge_body(sim.url), headers=headers)
    event = {"ID": "CloudStore", "Description": "once"}
    assert test_client.post(RELAY + "api/rpc/EventLog/", json=event, headers=headers).status_code == 200
    channel = _channel(gw)
    channel._token = channel._token.__class__(channel._token.value, time.time() + 3600, 3600)  # type: ignore[union-attr]
    time.sleep(0.35)
    assert test_client.post(RELAY + "api/rpc/EventLog/", json=event, headers=headers).status_code == 200
    entries = test_client.get(RELAY + "api/rpc/EventLog/", headers=headers).get_json()["Entries"]
    assert [e["Description"] for e in entries] == ["once", "once"]  # the refused call never ran, the repeat did


def test_request_id_travels_and_nothing_else_leaks(test_client: FlaskClient, headers: dict[str, str]) -> None:
    fake = FakeEbs()
    with serve(fake.wsgi) as url:
        test_client.post("/v1/bridges", json=bridge_body(url), headers=headers)
        response = test_client.get(
            RELAY + "api/rpc/FetchSessionInfo/", headers={**headers, "X-Request-ID": "req-42", "Cookie": "a=b"}
        )
    assert response.status_code == 200 and response.headers["X-Request-ID"] == "req-42"
    call = fake.requests[-1]["headers"]
    assert call["X-Request-Id"] == "req-42"
    assert call["Authorization"] == "Bearer tok-aaaaaaaaaaaaaaaaaaaa"  # EBS's token, never the caller's
    assert "Cookie" not in call
