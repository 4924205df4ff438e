"""Payroll: ImportPunches deduplicates by PunchID and answers per punch; ListPunches reads them back."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests

from bridge_gateway.simulator.server import SimulatorServer
from tests.integration.simulator.sim_helpers import OTHER_SUB, assert_error, bearer

IMPORT = "/api/rpc/EbsService/ESPayroll/Entersoft.Payroll/TimeAttendance/ImportPunches"
LIST = "/api/rpc/EbsService/ESPayroll/Entersoft.Payroll/TimeAttendance/ListPunches"


def _punch(employee: str = "1001", **changes: Any) -> dict[str, Any]:
    punch = {
        "PunchID": f"EL-1:{employee}:{uuid.uuid4()}",
        "EmployeeCode": employee,
        "Timestamp": "2024-09-02T08:59:31+03:00",
        "Direction": "in",
        "VerifyMode": 1,
        "WorkCode": "0",
    }
    punch.update(changes)
    return punch


def _import(
    http: requests.Session, server: SimulatorServer, token: str, punches: list[Any], device: Any = "EL-1"
) -> requests.Response:
    body = {"DeviceCode": device, "Punches": punches}
    return http.post(server.url + IMPORT, json=body, headers=bearer(token), timeout=10)


def _list(http: requests.Session, server: SimulatorServer, token: str, **filters: str) -> list[dict[str, Any]]:
    response = http.post(server.url + LIST, json=filters, headers=bearer(token), timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["Punches"]


def test_import_accepts_and_stores(sim: SimulatorServer, http: requests.Session, token: Callable[..., str]) -> None:
    value = token(sim, "payroll")
    punches = [_punch("1001"), _punch("1002", Direction="out", Timestamp="2024-09-02T17:01:00Z")]
    response = _import(http, sim, value, punches, device="EL-ACCEPT")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["Results"] == [{"PunchID": p["PunchID"], "Status": "accepted"} for p in punches]
    assert (body["Accepted"], body["Duplicates"], body["Rejected"]) == (2, 0, 0)
    stored = _list(http, sim, value, DeviceCode="EL-ACCEPT")
    assert [p["PunchID"] for p in stored] == [p["PunchID"] for p in punches]
    assert stored[0]["EmployeeName"] == "Γεώργιος Παπαδόπουλος"
    assert stored[0]["Timestamp"] == "2024-09-02T08:59:31+03:00"
    assert stored[0]["VerifyMode"] == "1" and stored[1]["Direction"] == "out"


def test_a_punch_delivered_twice_is_stored_once(
    sim: SimulatorServer, http: requests.Session, token: Callable[..., str]
) -> None:
    value = token(sim, "payroll")
    punch = _punch()
    assert _import(http, sim, value, [punch], device="EL-DUP").json()["Results"][0]["Status"] == "accepted"
    again = _import(http, sim, value, [punch, punch], device="EL-DUP").json()
    assert [r["Status"] for r in again["Results"]] == ["duplicate", "duplicate"]
    assert again["Duplicates"] == 2
    assert len(_list(http, sim, value, DeviceCode="EL-DUP")) == 1


def test_duplicates_within_one_batch(sim: SimulatorServer, http: requests.Session, token: Callable[..., str]) -> None:
    value = token(sim, "payroll")
    punch = _punch()
    body = _import(http, sim, value, [punch, dict(punch)], device="EL-BATCH").json()
    assert [r["Status"] for r in body["Results"]] == ["accepted", "duplicate"]


def test_concurrent_deliveries_store_one_punch(
    sim: SimulatorServer, token: Callable[..., str], http: requests.Session
) -> None:
    value = token(sim, "payroll")
    punch = _punch()
    statuses: list[str] = []
    lock = threading.Lock()

    def deliver() -> None:
        with requests.Session() as own:
            result = _import(own, sim, value, [punch], device="EL-RACE").json()["Results"][0]["Status"]
        with lock:
            statuses.append(result)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == ["accepted"] + ["duplicate"] * 7
    assert len(_list(http, sim, value, DeviceCode="EL-RACE")) == 1


def test_rejected_punches_are_answered_per_punch(
    sim: SimulatorServer, http: requests.Session, token: Callable[..., str]
) -> None:
    value = token(sim, "payroll")
    good = _punch()
    cases = [
        (_punch("9999"), "payroll-unknown-employee"),
        (_punch("2001"), "payroll-unknown-employee"),  # an employee of another tenant
        (_punch(Timestamp="2024-09-02T08:59:31"), "payroll-invalid-timestamp"),  # no offset
        (_punch(Timestamp="yesterday"), "payroll-invalid-timestamp"),
        (_punch(Direction="sideways"), "payroll-invalid-direction"),
        (_punch(PunchID=""), "payroll-invalid-punch"),
        (_punch(PunchID=None), "payroll-invalid-punch"),
        ("not an object", "payroll-invalid-punch"),
    ]
    body = _import(http, sim, value, [good] + [c[0] for c in cases], device="EL-REJECT").json()
    results = body["Results"]
    assert results[0] == {"PunchID": good["PunchID"], "Status": "accepted"}
    for result, (_, message_id) in zip(results[1:], cases, strict=True):
        assert result["Status"] == "rejected"
        assert result["MessageID"] == message_id
        assert result["UserMessage"]
    assert (body["Accepted"], body["Rejected"]) == (1, len(cases))
    assert [p["PunchID"] for p in _list(http, sim, value, DeviceCode="EL-REJECT")] == [good["PunchID"]]


def test_a_rejected_punch_can_be_fixed_and_resent(
    sim: SimulatorServer, http: requests.Session, token: Callable[..., str]
) -> None:
    value = token(sim, "payroll")
    punch = _punch(Direction="sideways")
    assert _import(http, sim, value, [punch]).json()["Results"][0]["Status"] == "rejected"
    punch["Direction"] = "out"
    assert _import(http, sim, value, [punch]).json()["Results"][0]["Status"] == "accepted"


def test_punches_are_per_bridge(sim: SimulatorServer, http: requests.Session, token: Callable[..., str]) -> None:
    demo = token(sim, "payroll")
    other = token(sim, "othersvc", sub=OTHER_SUB)
    punch = _punch("2001")
    assert _import(http, sim, other, [punch], device="EL-TENANT").json()["Results"][0]["Status"] == "accepted"
    assert _list(http, sim, demo, DeviceCode="EL-TENANT") == []
    same_id = dict(punch, EmployeeCode="1001")  # the same PunchID on another bridge is another punch
    assert _import(http, sim, demo, [same_id], device="EL-TENANT").json()["Results"][0]["Status"] == "accepted"


def test_list_filters_by_employee(sim: SimulatorServer, http: requests.Session, token: Callable[..., str]) -> None:
    value = token(sim, "payroll")
    _import(http, sim, value, [_punch("1001"), _punch("1002")], device="EL-FILTER")
    assert {p["EmployeeCode"] for p in _list(http, sim, value, DeviceCode="EL-FILTER", EmployeeCode="1002")} == {"1002"}


IMPORT_ERRORS = [
    ("not-in-payroll", "clerk", {"DeviceCode": "EL-1", "Punches": []}, 403, "payroll-user-not-allowed"),
    ("no-device", "payroll", {"Punches": []}, 400, "invalid-params"),
    ("blank-device", "payroll", {"DeviceCode": " ", "Punches": []}, 400, "invalid-params"),
    ("punches-not-list", "payroll", {"DeviceCode": "EL-1", "Punches": {"a": 1}}, 400, "invalid-params"),
    ("too-many", "payroll", {"DeviceCode": "EL-1", "Punches": [{}] * 1001}, 400, "invalid-params"),
]


@pytest.mark.parametrize(
    ("user", "body", "status", "message_id"), [c[1:] for c in IMPORT_ERRORS], ids=[c[0] for c in IMPORT_ERRORS]
)
def test_import_errors(
    sim: SimulatorServer,
    http: requests.Session,
    token: Callable[..., str],
    user: str,
    body: dict[str, Any],
    status: int,
    message_id: str,
) -> None:
    response = http.post(sim.url + IMPORT, json=body, headers=bearer(token(sim, user)), timeout=10)
    assert_error(response, status, message_id)


def test_listing_needs_a_payroll_user(sim: SimulatorServer, http: requests.Session, token: Callable[..., str]) -> None:
    response = http.post(sim.url + LIST, json={}, headers=bearer(token(sim, "clerk")), timeout=10)
    assert_error(response, 403, "payroll-user-not-allowed")
