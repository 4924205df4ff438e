"""api/Login/*: Login, Usersites, ServerCapabilities, Logout, over real HTTP."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import requests

from bridge_gateway.simulator.credentials import totp_code
from bridge_gateway.simulator.server import SimulatorServer
from tests.integration.simulator.sim_helpers import (
    OTHER_SUB,
    PASSWORDS,
    SUB,
    TOTP_SECRET,
    assert_error,
    bearer,
    login_body,
)


def _login(http: requests.Session, sim: SimulatorServer, body: Any) -> requests.Response:
    return http.post(f"{sim.url}/api/Login/Login", json=body, timeout=10)


def test_login_returns_the_session_model(sim: SimulatorServer, http: requests.Session) -> None:
    response = _login(http, sim, login_body("esmaster", BranchID="002", LangID="en-US"))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    model = body["Model"]
    assert model["UserID"] == "esmaster"
    assert model["Name"] == "Entersoft Master"
    assert model["Administrator"] is True
    assert model["Inactive"] is False
    assert model["BranchID"] == "002" and model["LangID"] == "en-US"
    assert len(model["GID"]) == 36
    assert len(model["WebApiToken"]) >= 40
    expires = datetime.fromisoformat(model["WebApiTokenExpiresAt"])
    assert expires.tzinfo is not None
    assert [(s["Key"], s["Value"]) for s in model["UserSites"]] == [
        ("001", "Κεντρικό"),
        ("002", "Υποκατάστημα Θεσσαλονίκης"),
        ("ΑΘΗ", "Κεντρικά Entersoft"),
    ]
    assert model["UserSites"][0]["Site"]["Code"] == "001"
    assert body["SubscriptionID"] == "demo" and body["BridgeID"] == "Demo_002"
    assert "SubscriptionPassword" not in body
    assert "Password" not in model


def test_greek_branch_names_round_trip_as_utf8(sim: SimulatorServer, http: requests.Session) -> None:
    response = _login(http, sim, login_body("esmaster", BranchID="ΑΘΗ"))
    assert response.status_code == 200
    assert "Κεντρικά Entersoft".encode() in response.content  # raw UTF-8, not \\u escapes
    assert response.json()["Model"]["BranchID"] == "ΑΘΗ"


def test_ids_are_case_insensitive(sim: SimulatorServer, http: requests.Session) -> None:
    body = {**SUB, "SubscriptionID": "DEMO", "BridgeID": "demo_002"}
    body["Model"] = {"UserID": "ESMASTER", "Password": PASSWORDS["esmaster"]}
    response = _login(http, sim, body)
    assert response.status_code == 200
    assert response.json()["Model"]["UserID"] == "esmaster"
    assert response.json()["BridgeID"] == "Demo_002"


@pytest.mark.parametrize("model", [None, {}, {"UserID": ""}], ids=["no-model", "empty-model", "empty-user"])
def test_login_without_user_credentials_uses_the_service_user(
    sim: SimulatorServer, http: requests.Session, model: Any
) -> None:
    body = dict(SUB)
    if model is not None:
        body["Model"] = model
    response = _login(http, sim, body)
    assert response.status_code == 200, response.text
    assert response.json()["Model"]["UserID"] == "cloudsvc"
    assert response.json()["Model"]["BranchID"] == "001"
    assert response.json()["Model"]["LangID"] == "el-GR"


def test_login_echoes_claims(sim: SimulatorServer, http: requests.Session) -> None:
    response = _login(http, sim, {**login_body("esmaster"), "Claims": {"app": "surveys"}})
    assert response.json()["Claims"] == {"app": "surveys"}


def test_totp_user_logs_in_with_the_current_code(sim: SimulatorServer, http: requests.Session) -> None:
    model_pin = _login(http, sim, login_body("secure", ExtraPin=totp_code(TOTP_SECRET)))
    assert model_pin.status_code == 200, model_pin.text
    top_level_pin = _login(http, sim, {**login_body("secure"), "ExtraPin": totp_code(TOTP_SECRET)})
    assert top_level_pin.status_code == 200, top_level_pin.text


def _with(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**body, **changes}


LOGIN_ERRORS = [
    ("wrong-subscription-password", _with(login_body("esmaster"), SubscriptionPassword="nope"), 401,
     "subscription-invalid-password"),
    ("no-subscription-password", {k: v for k, v in login_body("esmaster").items() if k != "SubscriptionPassword"},
     401, "subscription-invalid-password"),
    ("unknown-subscription", _with(login_body("esmaster"), SubscriptionID="ghost"), 401,
     "subscription-invalid-password"),
    ("other-subscription-password", _with(login_body("esmaster"), SubscriptionPassword="OtherSub#2024"), 401,
     "subscription-invalid-password"),
    ("unknown-bridge", _with(login_body("esmaster"), BridgeID="Nope_001"), 404, "bridge-not-found"),
    ("bridge-of-other-subscription", _with(login_body("esmaster"), BridgeID="Other_001"), 404, "bridge-not-found"),
    ("unknown-user", login_body("ghost"), 401, "login-invalid-user"),
    ("user-of-another-bridge", login_body("othersvc"), 401, "login-invalid-user"),
    ("wrong-password", login_body("esmaster", Password="Esmaster#2025"), 401, "login-invalid-password"),
    ("empty-password", login_body("esmaster", Password=""), 401, "login-invalid-password"),
    ("totp-missing", login_body("secure"), 401, "login-invalid-password"),
    ("totp-wrong", login_body("secure", ExtraPin="000000"), 401, "login-invalid-password"),
    ("inactive-user", login_body("former"), 401, "login-inactive-user"),
    ("inactive-user-wrong-password", login_body("former", Password="x"), 401, "login-invalid-password"),
    ("no-webapi-access", login_body("backoffice"), 403, "login-webapi-not-allowed"),
    ("branch-not-granted", login_body("payroll", BranchID="002"), 403, "login-invalid-branch"),
    ("unknown-branch", login_body("esmaster", BranchID="999"), 403, "login-invalid-branch"),
    ("bad-language", login_body("esmaster", LangID="not a language"), 400, "login-invalid-lang"),
    ("model-not-object", _with(SUB, Model=["esmaster"]), 400, "invalid-params"),
    ("user-id-not-string", _with(SUB, Model={"UserID": 42, "Password": "x"}), 400, "invalid-params"),
    ("body-not-object", ["not", "an", "object"], 400, "invalid-params"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "status", "message_id"), [c[1:] for c in LOGIN_ERRORS], ids=[c[0] for c in LOGIN_ERRORS]
)
def test_login_errors(sim: SimulatorServer, http: requests.Session, body: Any, status: int, message_id: str) -> None:
    assert_error(_login(http, sim, body), status, message_id)


def test_login_body_that_is_not_json(sim: SimulatorServer, http: requests.Session) -> None:
    response = http.post(f"{sim.url}/api/Login/Login", data=b"{not json", timeout=10)
    assert_error(response, 400, "invalid-params")


def test_unknown_user_message_names_the_user(sim: SimulatorServer, http: requests.Session) -> None:
    assert _login(http, sim, login_body("ghost")).json()["UserMessage"] == "User [ghost] is not registered"


# Usersites -----------------------------------------------------------------------------------------


def _usersites(http: requests.Session, sim: SimulatorServer, body: Any) -> requests.Response:
    return http.post(f"{sim.url}/api/Login/Usersites", json=body, timeout=10)


def test_usersites_with_the_user_id_as_model(sim: SimulatorServer, http: requests.Session) -> None:
    response = _usersites(http, sim, {**SUB, "Model": "esmaster"})
    assert response.status_code == 200
    assert response.json() == [
        {"Key": "001", "Value": "Κεντρικό"},
        {"Key": "002", "Value": "Υποκατάστημα Θεσσαλονίκης"},
        {"Key": "ΑΘΗ", "Value": "Κεντρικά Entersoft"},
    ]


def test_usersites_with_credentials_as_for_login(sim: SimulatorServer, http: requests.Session) -> None:
    response = _usersites(http, sim, login_body("payroll"))
    assert response.json() == [{"Key": "001", "Value": "Κεντρικό"}]
    other_bridge = _usersites(http, sim, {**login_body("esmaster"), "BridgeID": "Demo_003"})
    assert other_bridge.json() == [{"Key": "001", "Value": "Αθήνα"}]


def test_usersites_without_model_lists_the_service_user_branches(sim: SimulatorServer, http: requests.Session) -> None:
    assert _usersites(http, sim, dict(SUB)).json() == [{"Key": "001", "Value": "Κεντρικό"}]


USERSITES_ERRORS = [
    ("wrong-subscription-password", {**SUB, "SubscriptionPassword": "x", "Model": "esmaster"}, 401,
     "subscription-invalid-password"),
    ("unknown-bridge", {**SUB, "BridgeID": "Nope", "Model": "esmaster"}, 404, "bridge-not-found"),
    ("unknown-user", {**SUB, "Model": "ghost"}, 401, "login-invalid-user"),
    ("wrong-password", login_body("esmaster", Password="wrong"), 401, "login-invalid-password"),
    ("inactive-user", {**SUB, "Model": "former"}, 401, "login-inactive-user"),
    ("no-webapi-access", {**SUB, "Model": "backoffice"}, 403, "login-webapi-not-allowed"),
    ("other-tenant-user", {**OTHER_SUB, "Model": "esmaster"}, 401, "login-invalid-user"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "status", "message_id"), [c[1:] for c in USERSITES_ERRORS], ids=[c[0] for c in USERSITES_ERRORS]
)
def test_usersites_errors(
    sim: SimulatorServer, http: requests.Session, body: Any, status: int, message_id: str
) -> None:
    assert_error(_usersites(http, sim, body), status, message_id)


# ServerCapabilities and Logout ------------------------------------------------------------------------


def test_server_capabilities_needs_no_login(sim: SimulatorServer, http: requests.Session) -> None:
    for path in ("/api/Login/ServerCapabilities/", "/api/Login/ServerCapabilities"):
        response = http.get(sim.url + path, timeout=10)
        assert response.status_code == 200
        body = response.json()
        assert body["WebApiVersion"] == {"Major": 1, "Minor": 9, "Patch": 16}
        assert body["AllowInsecureHttp"] is True
        assert body["TokenLifetimeInSeconds"] == 3600
        assert body["RefreshTokenIfWithinRemainingPercentage"] == 50


def test_logout_invalidates_the_token(sim: SimulatorServer, http: requests.Session, token: Any) -> None:
    webapi_token = token(sim, "payroll")
    other_token = token(sim, "payroll")
    info = f"{sim.url}/api/rpc/FetchSessionInfo/"
    assert http.get(info, headers=bearer(webapi_token), timeout=10).status_code == 200
    response = http.post(f"{sim.url}/api/Login/Logout", headers=bearer(webapi_token), timeout=10)
    assert response.status_code == 200
    assert_error(http.get(info, headers=bearer(webapi_token), timeout=10), 401, "invalid-webapi-token")
    assert http.get(info, headers=bearer(other_token), timeout=10).status_code == 200  # only that session ends
    again = http.post(f"{sim.url}/api/Login/Logout", headers=bearer(webapi_token), timeout=10)
    assert_error(again, 401, "invalid-webapi-token")


def test_logout_needs_a_token(sim: SimulatorServer, http: requests.Session) -> None:
    assert_error(http.post(f"{sim.url}/api/Login/Logout", timeout=10), 401, "invalid-webapi-token")
