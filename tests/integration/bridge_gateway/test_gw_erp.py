"""ERP calls against the real simulator: credentials, branches, Verify Connection, company parameters."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from bridge_gateway.runtime import Gateway
from bridge_gateway.simulator.server import SimulatorServer
from tests.integration.bridge_gateway.conftest import BRIDGE
from tests.integration.bridge_gateway.gw_helpers import bridge_body

PROBLEM = "https://cloudstore.dev/problems/"


def test_check_credentials_answers_the_erp_profile(
    test_client: FlaskClient, headers: dict[str, str], bridge: dict[str, Any]
) -> None:
    response = test_client.post(
        f"{BRIDGE}/credentials/check",
        json={"userId": "esmaster", "password": "Esmaster#2024", "branchId": "002"},
        headers=headers,
    )
    assert response.status_code == 200
    profile = response.get_json()
    assert profile["userId"] == "esmaster" and profile["name"] == "Entersoft Master"
    assert profile["administrator"] is True and profile["webApiAccess"] is True and profile["branchId"] == "002"
    assert profile["branches"][0] == {"id": "001", "name": "Κεντρικό"}
    assert [b["id"] for b in profile["branches"]] == ["001", "002", "003"]
    assert "password" not in profile and "Esmaster#2024" not in response.get_data(as_text=True)
    assert "WebApiToken" not in response.get_data(as_text=True)


def test_payroll_user_is_not_an_administrator(
    test_client: FlaskClient, headers: dict[str, str], bridge: dict[str, Any]
) -> None:
    profile = test_client.post(
        f"{BRIDGE}/credentials/check", json={"userId": "PAYROLL", "password": "Payroll#2024"}, headers=headers
    ).get_json()
    assert profile["userId"] == "payroll" and profile["administrator"] is False and profile["payroll"] is True


@pytest.mark.parametrize(
    ("credentials", "message_id", "hint"),
    [
        ({"userId": "esmaster", "password": "wrong"}, "login-invalid-password", "Check the User ID and password."),
        ({"userId": "nobody", "password": "Whatever#1"}, "login-invalid-user", "Check the User ID"),
        ({"userId": "former", "password": "Former#2024x"}, "login-inactive-user", "inactive"),
        ({"userId": "backoffice", "password": "Backoffice#2024"}, "login-webapi-not-allowed", "AllowAccessFromSource"),
        ({"userId": "payroll", "password": "Payroll#2024", "branchId": "003"}, "login-invalid-branch", "branches"),
    ],
)
def test_erp_rejections_carry_messageid_and_usermessage(
    test_client: FlaskClient,
    headers: dict[str, str],
    bridge: dict[str, Any],
    credentials: dict[str, str],
    message_id: str,
    hint: str,
) -> None:
    response = test_client.post(f"{BRIDGE}/credentials/check", json=credentials, headers=headers)
    assert response.status_code == 422
    body = response.get_json()
    assert body["type"] == PROBLEM + "ebs-rejected"
    assert body["messageId"] == message_id
    assert body["userMessage"] and body["detail"] == body["userMessage"]
    assert hint in body["hint"]
    assert credentials["password"] not in response.get_data(as_text=True)


def test_wrong_subscription_password(test_client: FlaskClient, headers: dict[str, str], sim: SimulatorServer) -> None:
    body = bridge_body(sim.url, subscriptionPassword="not-the-password")
    assert test_client.post("/v1/bridges", json=body, headers=headers).status_code == 201
    response = test_client.post(
        f"{BRIDGE}/credentials/check", json={"userId": "esmaster", "password": "Esmaster#2024"}, headers=headers
    )
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["messageId"] == "subscription-invalid-password" and problem["ebsStatus"] == 401
    assert "connection settings" in problem["hint"]
    relayed = test_client.get(f"{BRIDGE}/relay/api/rpc/FetchSessionInfo/", headers=headers)
    assert relayed.status_code == 422 and relayed.get_json()["messageId"] == "subscription-invalid-password"
    assert "not-the-password" not in response.get_data(as_text=True) + relayed.get_data(as_text=True)


def test_unknown_bridge_id_at_ebs(test_client: FlaskClient, headers: dict[str, str], sim: SimulatorServer) -> None:
    test_client.post("/v1/bridges", json=bridge_body(sim.url, bridgeId="Nowhere_1"), headers=headers)
    response = test_client.get("/v1/bridges/demo/Nowhere_1/branches", headers=headers)
    assert response.status_code == 422 and response.get_json()["messageId"] == "bridge-not-found"


def test_branches_of_a_user_and_of_the_service_user(
    test_client: FlaskClient, headers: dict[str, str], bridge: dict[str, Any]
) -> None:
    response = test_client.get(f"{BRIDGE}/branches?userId=esmaster", headers=headers)
    assert response.status_code == 200
    assert [b["id"] for b in response.get_json()["branches"]] == ["001", "002", "003"]
    own = test_client.get(f"{BRIDGE}/branches", headers=headers).get_json()["branches"]
    assert own == [{"id": "001", "name": "Κεντρικό"}]
    unknown = test_client.get(f"{BRIDGE}/branches?userId=nobody", headers=headers)
    assert unknown.status_code == 422 and unknown.get_json()["messageId"] == "login-invalid-user"


def test_verify_connection_both_stages(
    test_client: FlaskClient, headers: dict[str, str], bridge: dict[str, Any], sim: SimulatorServer
) -> None:
    stage1 = test_client.post(
        f"{BRIDGE}/verify/login", json={"userId": "payroll", "password": "Payroll#2024"}, headers=headers
    )
    assert stage1.status_code == 200
    assert stage1.get_json()["loginVerified"] is True
    assert stage1.get_json()["challengeFile"] == "CSWebAssets/demo-Demo_002.txt"

    missing = test_client.post(f"{BRIDGE}/verify/challenge", json={"code": "2161188"}, headers=headers)
    assert missing.status_code == 422
    assert missing.get_json()["type"] == PROBLEM + "challenge-file-missing"
    assert "CSWebAssets" in missing.get_json()["hint"]

    assets = sim.data_dir / "CSWebAssets"  # type: ignore[attr-defined]
    assets.mkdir(exist_ok=True)
    (assets / "demo-Demo_002.txt").write_text("1234567\n")
    wrong = test_client.post(f"{BRIDGE}/verify/challenge", json={"code": "2161188"}, headers=headers)
    assert wrong.status_code == 422 and wrong.get_json()["type"] == PROBLEM + "challenge-mismatch"
    assert "1234567" not in wrong.get_data(as_text=True)

    (assets / "demo-Demo_002.txt").write_text(" 2161188\r\n")
    right = test_client.post(f"{BRIDGE}/verify/challenge", json={"code": "2161188"}, headers=headers)
    assert right.status_code == 200 and right.get_json()["verified"] is True
    assert test_client.get(BRIDGE, headers=headers).get_json()["verifiedAt"] == right.get_json()["verifiedAt"]


def test_verify_stage1_refuses_a_user_without_webapi_access(
    test_client: FlaskClient, headers: dict[str, str], bridge: dict[str, Any]
) -> None:
    response = test_client.post(
        f"{BRIDGE}/verify/login", json={"userId": "backoffice", "password": "Backoffice#2024"}, headers=headers
    )
    assert response.status_code == 422
    body = response.get_json()
    assert body["messageId"] == "login-webapi-not-allowed" and body["ebsStatus"] == 403
    assert "WebApi" in body["hint"]


def test_company_parameters_register_read_unregister(
    test_client: FlaskClient, headers: dict[str, str], bridge: dict[str, Any]
) -> None:
    params = f"{BRIDGE}/company-params"
    empty = test_client.get(params, headers=headers).get_json()
    assert empty == {"subscriptionId": None, "subscriptionGid": None, "endpoints": {}}

    key = "csk_" + "A" * 40 + "wxyz"
    written = test_client.put(params, json={"endpointType": "time-attendance", "apiKey": key}, headers=headers)
    assert written.status_code == 200
    state = written.get_json()
    assert state["subscriptionId"] == "demo" and state["subscriptionGid"] == bridge["subscriptionGid"]
    endpoint = state["endpoints"]["time-attendance"]
    assert endpoint["registered"] is True and endpoint["last4"] == "wxyz" and len(endpoint["digest"]) == 64
    assert key not in written.get_data(as_text=True)
    assert test_client.get(params, headers=headers).get_json() == state

    only_ids = test_client.put(params, json={}, headers=headers)
    assert only_ids.status_code == 200 and "time-attendance" in only_ids.get_json()["endpoints"]
    assert test_client.put(params, json={"endpointType": "surveys"}, headers=headers).status_code == 422
    assert test_client.put(params, json={"endpointType": "fax", "apiKey": "x"}, headers=headers).status_code == 422

    removed = test_client.delete(f"{params}/endpoints/time-attendance", headers=headers).get_json()
    assert removed["removed"] is True and removed["endpoints"] == {}
    again = test_client.delete(f"{params}/endpoints/time-attendance", headers=headers).get_json()
    assert again["removed"] is False
    assert test_client.delete(f"{params}/endpoints/fax", headers=headers).status_code == 404


def test_credential_checks_leave_no_session_behind(
    test_client: FlaskClient, headers: dict[str, str], bridge: dict[str, Any], gw: Gateway, sim: SimulatorServer
) -> None:
    for _ in range(3):
        test_client.post(
            f"{BRIDGE}/credentials/check", json={"userId": "esmaster", "password": "Esmaster#2024"}, headers=headers
        )
    channel = next(iter(gw.upstream._channels.values()))
    assert channel._token is None  # user logins never become the bridge's cached service session
    # Nor do they stay open at EBS: each check logged its session out, so only this test's own is counted.
    login = {
        "SubscriptionID": "demo",
        "SubscriptionPassword": "DemoSub#2024",
        "BridgeID": "Demo_002",
        "UserID": "esmaster",
        "Password": "Esmaster#2024",
    }
    token = requests.post(f"{sim.url}/api/Login/Login", json=login, timeout=10).json()["Model"]["WebApiToken"]
    info = requests.get(
        f"{sim.url}/api/rpc/FetchSessionInfo/", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).json()
    channels = next(p["ValueS"] for p in info["ESProperty"] if p["ID"] == 16)
    assert channels.endswith("Web = 1"), channels
