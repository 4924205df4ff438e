"""Every call is audited without secrets; metrics in the Prometheus text format, per bridge."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, func, select

from bridge_gateway.audit import AuditRecord, AuditWriter
from bridge_gateway.extensions import db
from bridge_gateway.runtime import Gateway
from tests.integration.bridge_gateway.conftest import BRIDGE
from tests.integration.bridge_gateway.gw_helpers import DEMO_PASSWORD

SAMPLE = re.compile(r'^([a-z_]+)(\{(?:[a-z_]+="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+]+|\+Inf)$')


def _records(gw: Gateway) -> list[AuditRecord]:
    gw.audit.flush()  # rows are written behind the answers
    db.session.expire_all()
    return list(db.session.execute(select(AuditRecord).order_by(AuditRecord.id)).scalars())


def test_every_call_is_recorded_without_secrets(
    test_client: FlaskClient, headers: dict[str, str], bridge: dict[str, Any], gw: Gateway
) -> None:
    ok = test_client.post(
        f"{BRIDGE}/credentials/check",
        json={"userId": "esmaster", "password": "Esmaster#2024"},
        headers={**headers, "X-Request-ID": "trace-1"},
    )
    refused = test_client.post(
        f"{BRIDGE}/credentials/check", json={"userId": "esmaster", "password": "Wrong#2024"}, headers=headers
    )
    relayed = test_client.get(f"{BRIDGE}/relay/api/rpc/FetchCompanyParam/Nope?x=1", headers=headers)
    anonymous = test_client.get(BRIDGE)
    assert (ok.status_code, refused.status_code, relayed.status_code, anonymous.status_code) == (200, 422, 404, 401)

    records = _records(gw)
    assert [(r.operation, r.status, r.outcome) for r in records] == [
        ("register_bridge", 201, "ok"),
        ("check_credentials", 200, "ok"),
        ("check_credentials", 422, "ebs-rejected/login-invalid-password"),
        ("relay", 404, "ebs/company-parameter-not-found"),
        ("get_bridge", 401, "invalid_token"),
    ]
    assert records[1].request_id == "trace-1" and records[2].request_id == refused.headers["X-Request-ID"]
    assert {r.caller for r in records[:4]} == {"authserver"} and records[4].caller == "-"
    assert {(r.subscription_id, r.bridge_id) for r in records} == {("demo", "Demo_002")}
    assert records[3].target == "GET api/rpc/FetchCompanyParam/Nope"  # no query string
    assert all(r.duration_ms >= 0 for r in records)

    service_token = gw.upstream._channels[("demo", "demo_002")]._token
    secrets = ["Esmaster#2024", "Wrong#2024", DEMO_PASSWORD, headers["Authorization"].split()[1]]
    secrets += [service_token.value] if service_token else []
    for record in records:
        row = " ".join(str(getattr(record, column.key)) for column in AuditRecord.__table__.columns)
        assert not any(secret in row for secret in secrets), row


def test_metrics_in_prometheus_text_format(
    test_client: FlaskClient, headers: dict[str, str], bridge: dict[str, Any]
) -> None:
    for _ in range(3):
        test_client.get(f"{BRIDGE}/relay/api/rpc/FetchSessionInfo/", headers=headers)
    test_client.get("/v1/bridges/stranger/Random_1")  # no token: adds no series for made-up ids
    response = test_client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = response.get_data(as_text=True)
    for line in text.splitlines():
        assert line.startswith("# ") or SAMPLE.match(line), line
    assert "stranger" not in text
    labels = 'subscription="demo",bridge="Demo_002"'
    assert f'bridge_gateway_calls_total{{{labels},operation="relay",status="200"}} 3' in text
    assert f'bridge_gateway_upstream_requests_total{{{labels},outcome="200"}} 4' in text  # a login and 3 calls
    assert f"bridge_gateway_circuit_state{{{labels}}} 0" in text
    assert f"bridge_gateway_upstream_in_flight{{{labels}}} 0" in text
    buckets = [
        int(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(f'bridge_gateway_call_duration_seconds_bucket{{{labels},operation="relay"')
    ]
    assert buckets == sorted(buckets) and buckets[-1] == 3
    assert f'bridge_gateway_call_duration_seconds_count{{{labels},operation="relay"}} 3' in text
    assert "# TYPE bridge_gateway_upstream_duration_seconds histogram" in text


def test_metrics_token(make_app: Callable[..., Flask]) -> None:
    client = make_app(METRICS_TOKEN="scrape-secret").test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"}).status_code == 200


def test_audit_rows_wait_out_a_database_outage(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'audit.db'}")
    writer = AuditWriter(engine, flush_seconds=60, max_pending=3)
    row = {
        "occurred_at": datetime.now(UTC),
        "request_id": "r",
        "caller": "c",
        "subscription_id": "demo",
        "bridge_id": "Demo_002",
        "operation": "relay",
        "target": None,
        "status": 200,
        "outcome": "ok",
        "duration_ms": 1,
    }
    for _ in range(2):
        writer.submit(row)
    writer.flush()  # no table yet: the store is "down", the rows stay queued
    for _ in range(2):
        writer.submit(row)  # one fits, one is dropped and counted
    assert writer.dropped == 1
    AuditRecord.__table__.create(engine)
    writer.close()
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(AuditRecord.__table__)).scalar_one() == 3
    engine.dispose()
