"""Session info, event log, public queries, the read-only page and the health check."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from bridge_gateway.simulator import create_app
from bridge_gateway.simulator.server import SimulatorServer
from tests.integration.simulator.sim_helpers import OTHER_SUB, assert_error, bearer


def test_fetch_session_info(sim: SimulatorServer, http: requests.Session, token: Callable[..., str]) -> None:
    headers = bearer(token(sim, "esmaster", BranchID="ΑΘΗ"))
    response = http.get(f"{sim.url}/api/rpc/FetchSessionInfo/", headers=headers, timeout=10)
    assert response.status_code == 200
    props = response.json()["ESProperty"]
    assert all(set(p) == {"ID", "Description", "ValueS", "Type"} for p in props)
    values = {p["ID"]: p["ValueS"] for p in props}
    assert values[101] == "4.0.36 - 2"
    assert values[16].startswith("BackOffice = 0, Retail = 0, Mobile = 0, Web = ")
    assert values[1] == "esmaster" and values[6] == "ΑΘΗ"
    assert values[5] == "Δοκιμαστική Εταιρεία Α.Ε."


def test_event_log_is_stored_per_bridge(sim: SimulatorServer, http: requests.Session, token: Any) -> None:
    demo = token(sim, "payroll")
    other = token(sim, "othersvc", sub=OTHER_SUB)
    entry = {"ID": "CloudStore", "Description": "Endpoint «surveys» registered", "TypeID": 1}
    response = http.post(f"{sim.url}/api/rpc/EventLog/", json=entry, headers=bearer(demo), timeout=10)
    assert response.status_code == 200
    assert response.json()["Logged"] is True
    log = http.get(f"{sim.url}/api/rpc/EventLog/", headers=bearer(demo), timeout=10).json()["Entries"]
    mine = [e for e in log if e["Description"] == entry["Description"]]
    assert len(mine) == 1
    assert (mine[0]["ID"], mine[0]["TypeID"], mine[0]["UserID"]) == ("CloudStore", 1, "payroll")
    other_log = http.get(f"{sim.url}/api/rpc/EventLog/", headers=bearer(other), timeout=10).json()["Entries"]
    assert all(e["Description"] != entry["Description"] for e in other_log)


def test_event_log_accepts_query_parameters(sim: SimulatorServer, http: requests.Session, token: Any) -> None:
    value = token(sim, "payroll")
    params = {"ID": "Agent", "Description": "from the query string", "TypeID": "2"}
    assert http.post(f"{sim.url}/api/rpc/EventLog", params=params, headers=bearer(value), timeout=10).ok
    log = http.get(f"{sim.url}/api/rpc/EventLog", headers=bearer(value), timeout=10).json()["Entries"]
    assert any(e["Description"] == "from the query string" and e["TypeID"] == 2 for e in log)


@pytest.mark.parametrize(
    "entry",
    [{"Description": "no id"}, {"ID": "x", "TypeID": 7}, {"ID": "x", "TypeID": True}, {"ID": "x", "Description": 5}],
    ids=["missing-id", "bad-type", "bool-type", "description-not-string"],
)
def test_event_log_validation(sim: SimulatorServer, http: requests.Session, token: Any, entry: dict) -> None:
    response = http.post(f"{sim.url}/api/rpc/EventLog/", json=entry, headers=bearer(token(sim)), timeout=10)
    assert_error(response, 400, "invalid-params")


def test_public_query_without_paging(sim: SimulatorServer, http: requests.Session, token: Any) -> None:
    response = http.get(f"{sim.url}/api/rpc/PublicQuery/ESGOSites/Branches", headers=bearer(token(sim)), timeout=10)
    body = response.json()
    assert body["Table"] == "ESGOSites"
    assert body["Rows"][0] == {"Code": "001", "Description": "Κεντρικό"}
    assert (body["Count"], body["Page"], body["PageSize"]) == (3, -1, -1)


def test_public_query_with_paging(sim: SimulatorServer, http: requests.Session, token: Any) -> None:
    headers = {**bearer(token(sim)), "X-ESPQOptions": json.dumps({"Page": 2, "PageSize": 2, "WithCount": True})}
    body = http.post(f"{sim.url}/api/rpc/PublicQuery/ESGOSites/Branches", headers=headers, timeout=10).json()
    assert body["Rows"] == [{"Code": "ΑΘΗ", "Description": "Κεντρικά Entersoft"}]
    assert (body["Count"], body["Page"], body["PageSize"]) == (3, 2, 2)
    headers["X-ESPQOptions"] = json.dumps({"Page": 1, "PageSize": 1, "WithCount": False})
    body = http.get(f"{sim.url}/api/rpc/PublicQuery/ESPayroll/Employees", headers=headers, timeout=10).json()
    assert body["Rows"] == [{"Code": "1001", "Name": "Γεώργιος Παπαδόπουλος"}]
    assert body["Count"] == -1


def test_public_query_errors(sim: SimulatorServer, http: requests.Session, token: Any) -> None:
    value = token(sim)
    missing = http.get(f"{sim.url}/api/rpc/PublicQuery/Nope/Nope", headers=bearer(value), timeout=10)
    assert_error(missing, 404, "public-query-not-found")
    bad = {**bearer(value), "X-ESPQOptions": "{not json"}
    response = http.get(f"{sim.url}/api/rpc/PublicQuery/ESGOSites/Branches", headers=bad, timeout=10)
    assert_error(response, 400, "invalid-params")


def test_unknown_paths_and_methods_answer_ebs_errors(sim: SimulatorServer, http: requests.Session) -> None:
    assert_error(http.get(f"{sim.url}/api/rpc/NoSuchCall/", timeout=10), 404, "not-found")
    assert_error(http.get(f"{sim.url}/api/Login/Login", timeout=10), 405, "method-not-allowed")


def test_healthz(sim: SimulatorServer, http: requests.Session) -> None:
    response = http.get(f"{sim.url}/_sim/healthz", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.fixture
def fresh(config_file: Path, tmp_path: Path) -> Iterator[SimulatorServer]:
    """A simulator with an empty state, for the page test."""
    app = create_app({"SIMULATOR_CONFIG": str(config_file), "SIMULATOR_DATA_DIR": str(tmp_path)})
    with SimulatorServer(app, port=0, control=False) as server:
        yield server


def test_page_shows_what_the_cloud_did(fresh: SimulatorServer, http: requests.Session, token: Any) -> None:
    admin = token(fresh, "esmaster")
    api_key = "csk_live_0123456789abcdefWXYZ"
    register = "/api/rpc/EbsService/ESCloudStore/Entersoft.CloudStore/CompanyParams/Register"
    body = {"SubscriptionID": "demo", "SubscriptionGID": "gid-1", "EndpointType": "time-attendance", "ApiKey": api_key}
    assert http.post(fresh.url + register, json=body, headers=bearer(admin), timeout=10).ok
    punch = {"PunchID": "p-page-1", "EmployeeCode": "1002", "Timestamp": "2024-09-02T09:00:00+03:00", "Direction": "in"}
    punches = {"DeviceCode": "EL-PAGE", "Punches": [punch]}
    import_url = "/api/rpc/EbsService/ESPayroll/Entersoft.Payroll/TimeAttendance/ImportPunches"
    assert http.post(fresh.url + import_url, json=punches, headers=bearer(admin), timeout=10).ok
    event = {"ID": "CloudStore", "Description": "<script>alert(1)</script>", "TypeID": 2}
    assert http.post(f"{fresh.url}/api/rpc/EventLog/", json=event, headers=bearer(admin), timeout=10).ok
    (Path(fresh.app.extensions["ebs_simulator"].assets_dir) / "demo-Demo_002.txt").write_text("2161188")

    page = http.get(fresh.url + "/", timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    html = page.text
    assert api_key not in html  # masked but for the last 4 characters
    assert "••••••••WXYZ" in html
    assert "ESCloudStore.Endpoint.time-attendance" in html and "gid-1" in html
    assert "demo-Demo_002.txt" in html and "2161188" in html
    assert "p-page-1" in html and "Μαρία Κωνσταντίνου" in html
    assert "&lt;script&gt;" in html and "<script>alert" not in html  # escaped
    assert "Κεντρικό" in html
