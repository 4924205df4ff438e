"""The portal's internal routes: service token with resource:admin only, tenant from the path, dead letters that
go back to the outbox and reach payroll once the cause is fixed, and the insights summary as JSON and SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
import requests

from resource_api.attendance.models import Punch
from resource_api.extensions import db
from resource_api.insights.service import ingest_events
from resource_api.outbox.gateway import IMPORT_PUNCHES, PayrollGateway
from resource_api.outbox.service import deliver_due
from shared.config import config_dir
from tests.integration.bridge_gateway.gw_helpers import TokenMint as GatewayMint
from tests.integration.bridge_gateway.gw_helpers import bridge_body
from tests.stack import loopback_gateway_settings, served, served_gateway, start_simulator

BASE = "/internal/v1/subscriptions"
PORTAL = "authserver-internal"


@pytest.fixture
def portal(mint) -> dict[str, str]:
    """The auth server's service token: client credentials, no tenant, scope resource:admin."""
    return mint.headers(subscription_id=None, bridge_id=None, scope="resource:admin", sub=PORTAL, client_id=PORTAL)


def _punch(subscription_id: str, employee: str, minute: int, *, state: str = "rejected", serial: str = "ZK-1") -> Punch:
    from resource_api.attendance.models import PunchBatch

    batch_id = f"b-{subscription_id}-{employee}-{minute}"
    now = datetime.now(UTC)
    db.session.add(
        PunchBatch(
            id=batch_id,
            subscription_id=subscription_id,
            bridge_id="Demo_002",
            device_serial=serial,
            received_at=now,
            accepted=1,
            duplicates=0,
        )
    )
    db.session.flush()
    punch = Punch(
        batch_id=batch_id,
        subscription_id=subscription_id,
        bridge_id="Demo_002",
        device_serial=serial,
        device_code="EL-1",
        employee_code=employee,
        punched_at=datetime(2026, 3, 2, 6, minute, tzinfo=UTC),
        local_time=f"2026-03-02T08:{minute:02d}:00+02:00",
        direction="in",
        state=state,
        attempts=1,
        next_attempt_at=now,
        last_error=f"Employee [{employee}] is not registered in Payroll" if state == "rejected" else None,
    )
    db.session.add(punch)
    db.session.commit()
    return punch


@pytest.mark.parametrize(
    ("claims", "status", "error"),
    [
        (None, 401, None),
        ({"scope": "attendance:write insights:write"}, 403, "insufficient_scope"),
        ({"scope": "resource:admin", "subscription_id": "demo", "bridge_id": "Demo_002"}, 401, "invalid_token"),
        ({"scope": "resource:admin", "subscription_id": None, "sub": "someone-else"}, 401, "invalid_token"),
        ({"scope": "resource:admin", "subscription_id": None, "aud": "bridge_gateway"}, 401, "invalid_token"),
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/demo/punches/rejected"),
        ("POST", "/demo/punches/rejected/retry"),
        ("POST", "/demo/punches/rejected/1/retry"),
        ("GET", "/demo/insights/summary"),
        ("GET", "/demo/insights/summary.svg"),
    ],
)
def test_only_the_portals_service_token_gets_in(app, test_client, mint, claims, status, error, method, path):
    punch = _punch("demo", "9999", 1)
    headers = {}
    if claims is not None:
        claims = {"sub": PORTAL, "client_id": PORTAL, "bridge_id": None, **claims}
        headers = mint.headers(**claims)
    response = test_client.open(BASE + path, method=method, headers=headers)
    assert response.status_code == status
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="resource_api"')
    if error:
        assert f'error="{error}"' in challenge
    db.session.refresh(punch)
    assert punch.state == "rejected", "nothing changed"


def test_the_routes_are_not_in_the_public_api_document(test_client):
    document = test_client.get("/openapi.json").get_json()
    assert document["paths"] and not [path for path in document["paths"] if path.startswith("/internal")]


def test_dead_letters_of_one_subscription_only(test_client, portal):
    _punch("demo", "9999", 1)
    _punch("demo", "1001", 2, state="delivered")
    newest = _punch("demo", "8888", 3, serial="ZK-2")
    other = _punch("globex", "7777", 4)
    answer = test_client.get(f"{BASE}/demo/punches/rejected", headers=portal)
    assert answer.status_code == 200
    punches = answer.get_json()["punches"]
    assert [p["employeeCode"] for p in punches] == ["8888", "9999"]
    assert punches[0] == {
        "id": newest.id,
        "bridgeId": "Demo_002",
        "deviceSerial": "ZK-2",
        "deviceCode": "EL-1",
        "employeeCode": "8888",
        "timestamp": "2026-03-02T08:03:00+02:00",
        "punchedAt": "2026-03-02T06:03:00+00:00",
        "direction": "in",
        "attempts": 1,
        "reason": "Employee [8888] is not registered in Payroll",
    }
    assert test_client.get(f"{BASE}/unknown/punches/rejected", headers=portal).get_json() == {"punches": []}
    # Another subscription's punch cannot be retried through this one's path.
    refused = test_client.post(f"{BASE}/demo/punches/rejected/{other.id}/retry", headers=portal)
    assert refused.status_code == 404 and refused.mimetype == "application/problem+json"
    many = test_client.post(f"{BASE}/demo/punches/rejected/retry", json={"ids": [other.id]}, headers=portal)
    assert many.get_json() == {"retried": 0}
    db.session.refresh(other)
    assert other.state == "rejected"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/demo/punches/rejected?limit=0", None),
        ("GET", "/demo/punches/rejected?limit=x", None),
        ("GET", "/demo/punches/rejected?other=1", None),
        ("POST", "/demo/punches/rejected/retry", {"ids": ["1"]}),
        ("POST", "/demo/punches/rejected/retry", {"ids": []}),
        ("POST", "/demo/punches/rejected/retry", {"ids": [2**63]}),
        ("POST", "/demo/punches/rejected/retry", {"every": True}),
        ("POST", "/demo/punches/rejected/retry", [1]),
        ("GET", "/demo/insights/summary?days=0", None),
        ("GET", "/demo/insights/summary?days=367", None),
        ("GET", "/demo/insights/summary.svg?days=abc", None),
        ("GET", "/demo/insights/summary?bridge=%00", None),
    ],
)
def test_bad_input_is_a_422_problem(test_client, portal, method, path, body):
    response = test_client.open(BASE + path, method=method, json=body, headers=portal)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["errors"]


def test_insights_summary_as_json_and_svg(test_client, portal):
    now = datetime.now(UTC)
    event = {"applicationServer": "EAS-01", "message": "m"}
    ingest_events(
        session=db.session,
        subscription_id="demo",
        bridge_id="Demo_002",
        events=[
            {**event, "eventType": "RestartAppServer", "triggeredOn": now},
            {**event, "eventType": "Usage", "triggeredOn": now - timedelta(days=1)},
        ],
    )
    ingest_events(
        session=db.session,
        subscription_id="globex",
        bridge_id="G_1",
        events=[{**event, "eventType": "UserLockedOut", "triggeredOn": now}],
    )
    answer = test_client.get(f"{BASE}/demo/insights/summary?days=7", headers=portal)
    assert answer.status_code == 200
    summary = answer.get_json()
    assert summary["total"] == 2 and summary["types"] == ["RestartAppServer", "Usage"]
    assert len(summary["byDay"]) == 7 and summary["byDay"][-1]["day"] == now.date().isoformat()
    assert summary["byDay"][-1]["byType"] == {"RestartAppServer": 1, "Usage": 0}
    assert "UserLockedOut" not in answer.get_data(as_text=True)
    chart = test_client.get(f"{BASE}/demo/insights/summary.svg?days=7", headers=portal)
    assert chart.status_code == 200 and chart.mimetype == "image/svg+xml"
    root = ET.fromstring(chart.get_data(as_text=True))  # noqa: S314 - our own chart
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    labels = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "RestartAppServer (1)" in labels and "Usage (1)" in labels
    assert not [label for label in labels if "UserLockedOut" in (label or "")]
    empty = test_client.get(f"{BASE}/globex/insights/summary?days=1&bridge=Other", headers=portal).get_json()
    assert empty["total"] == 0 and empty["byDay"][0]["total"] == 0


def test_retried_punch_reaches_payroll_once_the_employee_exists(tmp_path, database_url, test_client, mint, portal):
    config = tmp_path / "simulator.toml"
    original = (config_dir() / "simulator.toml").read_text()
    config.write_text(original)
    simulator = start_simulator(tmp_path / "sim", config=config, control=False)
    gateway_mint = GatewayMint()
    try:
        with served(gateway_mint.wsgi) as issuer:
            gateway_mint.issuer = issuer
            settings = loopback_gateway_settings(database_url, issuer, BRIDGE_CACHE_SECONDS=0)
            with served_gateway(settings) as (_, url):
                relay = gateway_mint.headers("gateway:relay")
                registered = requests.post(
                    f"{url}/v1/bridges", json=bridge_body(simulator.url), headers=gateway_mint.headers(), timeout=10
                )
                assert registered.status_code == 201, registered.text
                payroll = PayrollGateway(
                    gateway_url=url, token=lambda: gateway_mint.token("gateway:relay", client_id="resource_api")
                )
                body = {
                    "deviceSerial": "ZK-1",
                    "deviceCode": "EL-1",
                    "punches": [
                        {"employeeCode": "1005", "timestamp": "2026-03-02T08:59:00+02:00", "direction": "in"},
                        {"employeeCode": "1001", "timestamp": "2026-03-02T09:00:00+02:00", "direction": "in"},
                    ],
                }
                key = mint.headers(subscription_id="demo", bridge_id="Demo_002")
                assert test_client.post("/v1/attendance/punches", json=body, headers=key).status_code == 202
                assert deliver_due(session=db.session, gateway=payroll).rejected == 1
                [dead] = test_client.get(f"{BASE}/demo/punches/rejected", headers=portal).get_json()["punches"]
                assert dead["employeeCode"] == "1005" and "1005" in dead["reason"]

                # Payroll's administrator registers the employee (a new simulator on the same port and folder).
                port = simulator.port
                simulator.stop()
                config.write_text(original + '\n[[Subscriptions.Bridges.Employees]]\nCode = "1005"\nName = "N"\n')
                if "[[Subscriptions.Bridges.Employees]]" not in original:
                    pytest.skip("the simulator's config changed shape")
                simulator = start_simulator(tmp_path / "sim", config=config, port=port, control=False)

                retried = test_client.post(f"{BASE}/demo/punches/rejected/{dead['id']}/retry", headers=portal)
                assert retried.status_code == 200 and retried.get_json() == {"retried": 1}
                assert db.session.get(Punch, dead["id"]).state == "pending"
                assert test_client.get(f"{BASE}/demo/punches/rejected", headers=portal).get_json() == {"punches": []}
                assert deliver_due(session=db.session, gateway=payroll).delivered == 1
                again = test_client.post(f"{BASE}/demo/punches/rejected/{dead['id']}/retry", headers=portal)
                assert again.status_code == 404, "a delivered punch is not a dead letter"
                listed = requests.post(
                    f"{url}/v1/bridges/demo/Demo_002/relay/{IMPORT_PUNCHES.replace('Import', 'List')}",
                    json={},
                    headers=relay,
                    timeout=10,
                ).json()["Punches"]
                assert sorted(p["EmployeeCode"] for p in listed) == ["1001", "1005"], "each exactly once"
    finally:
        simulator.stop()
