"""The clock agents' API: validation, durable intake, deduplication, ATTLOG, tenancy, token errors."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from resource_api.extensions import db


def _batch(*punches, serial="SN1", code="EL-1"):
    return {"deviceSerial": serial, "deviceCode": code, "punches": list(punches)}


def _punch(employee="1001", timestamp="2026-03-29T08:59:00+03:00", direction="in", **extra):
    return {"employeeCode": employee, "timestamp": timestamp, "direction": direction, **extra}


def test_batch_is_committed_and_answered_202_with_its_id(test_client, mint):
    response = test_client.post(
        "/v1/attendance/punches", json=_batch(_punch(), _punch("1002", direction="out")), headers=mint.headers()
    )
    assert response.status_code == 202
    body = response.get_json()
    assert body["accepted"] == 2 and body["duplicates"] == 0
    batch = test_client.get(response.headers["Location"], headers=mint.headers()).get_json()
    assert batch["batchId"] == body["batchId"]
    assert [(p["employeeCode"], p["direction"], p["state"]) for p in batch["punches"]] == [
        ("1001", "in", "pending"),
        ("1002", "out", "pending"),
    ]
    assert batch["punches"][0]["timestamp"] == "2026-03-29T08:59:00+03:00"


def test_same_instant_in_another_offset_is_a_duplicate(test_client, mint):
    test_client.post("/v1/attendance/punches", json=_batch(_punch()), headers=mint.headers())
    again = _batch(_punch(timestamp="2026-03-29T05:59:00+00:00"), _punch("1003"), _punch("1003"))
    body = test_client.post("/v1/attendance/punches", json=again, headers=mint.headers()).get_json()
    assert (body["accepted"], body["duplicates"]) == (1, 2)


def test_a_batch_keeps_its_order_and_a_repeat_inside_it_is_a_duplicate(test_client, mint):
    codes = [f"E{n:02d}" for n in range(40, 0, -1)]  # stored in the order sent, not sorted
    punches = [_punch(code) for code in codes] + [_punch(codes[7])]
    response = test_client.post("/v1/attendance/punches", json=_batch(*punches), headers=mint.headers())
    assert (response.get_json()["accepted"], response.get_json()["duplicates"]) == (40, 1)
    batch = test_client.get(response.headers["Location"], headers=mint.headers()).get_json()
    assert [p["employeeCode"] for p in batch["punches"]] == codes
    again = test_client.post(
        "/v1/attendance/punches", json=_batch(_punch("E99"), _punch("E01")), headers=mint.headers()
    )
    assert (again.get_json()["accepted"], again.get_json()["duplicates"]) == (1, 1)
    later = test_client.get(again.headers["Location"], headers=mint.headers()).get_json()
    assert [p["employeeCode"] for p in later["punches"]] == ["E99"]


def test_a_large_batch_repeating_stored_punches_counts_them_as_duplicates(test_client, mint):
    """Large enough for PostgreSQL's COPY path, which first inserts as if every punch were new."""
    first = [_punch(f"E{n:02d}") for n in range(20)]
    assert test_client.post("/v1/attendance/punches", json=_batch(*first), headers=mint.headers()).status_code == 202
    codes = [f"E{n:02d}" for n in range(30, 10, -1)]  # E11..E19 already stored
    response = test_client.post(
        "/v1/attendance/punches", json=_batch(*(_punch(code) for code in codes)), headers=mint.headers()
    )
    assert (response.get_json()["accepted"], response.get_json()["duplicates"]) == (11, 9)
    batch = test_client.get(response.headers["Location"], headers=mint.headers()).get_json()
    assert [p["employeeCode"] for p in batch["punches"]] == codes[:11]


def test_repeated_idempotency_key_returns_the_first_batch(test_client, mint):
    headers = {**mint.headers(), "Idempotency-Key": "agent-batch-42"}
    first = test_client.post("/v1/attendance/punches", json=_batch(_punch()), headers=headers).get_json()
    second = test_client.post("/v1/attendance/punches", json=_batch(_punch("9")), headers=headers)
    assert second.status_code == 202 and second.get_json() == first


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (_batch(_punch(timestamp="2026-03-29T08:59:00")), ["punches", "0", "timestamp"]),
        (_batch(_punch(direction="sideways")), ["punches", "0", "direction"]),
        (_batch(_punch(), _punch(employee="")), ["punches", "1", "employeeCode"]),
        (_batch(_punch(extra_field=1)), ["punches", "0", "extra_field"]),
        (_batch(_punch(verifyMode="x")), ["punches", "0", "verifyMode"]),
        ({"deviceSerial": "SN1", "punches": [_punch()]}, ["deviceCode"]),
        (_batch(), ["punches"]),
        (_batch(*[_punch(str(i)) for i in range(1001)]), ["punches"]),
        ({**_batch(_punch()), "subscription_id": "someone-else"}, ["subscription_id"]),
    ],
)
def test_invalid_items_are_named_and_nothing_is_stored(test_client, mint, body, path):
    response = test_client.post("/v1/attendance/punches", json=body, headers=mint.headers())
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]
    for step in path:
        errors = errors[step]
    ok = test_client.post("/v1/attendance/punches", json=_batch(_punch()), headers=mint.headers()).get_json()
    assert ok["accepted"] == 1, "the refused batch must not have stored anything"


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"\xff\xfe\x00", "application/json"),
        (b"[1, 2]", "application/json"),
        (b"\xff\xfe", "text/plain"),
    ],
)
def test_malformed_bodies_are_4xx_problems(test_client, mint, data, content_type):
    response = test_client.post(
        "/v1/attendance/punches?deviceSerial=SN1", data=data, content_type=content_type, headers=mint.headers()
    )
    assert 400 <= response.status_code < 500
    assert response.mimetype == "application/problem+json"


def test_oversized_body_is_refused(test_client, mint):
    response = test_client.post(
        "/v1/attendance/punches", data=b"x" * 3_000_000, content_type="application/json", headers=mint.headers()
    )
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"


def test_attlog_uses_the_registered_device_zone(test_client, mint):
    registered = test_client.put(
        "/v1/attendance/devices/ZK-77",
        json={"deviceCode": "EL-1", "timezone": "Europe/Athens"},
        headers=mint.headers(),
    )
    assert registered.status_code == 200 and registered.get_json()["deviceCode"] == "EL-1"
    attlog = (
        "1001\t2026-03-29 02:30:00\t0\t1\t0\t0\n"
        "1002\t2026-03-29 04:30:00\t1\t15\t\n"
        "1003\t2026-07-01 12:00:00\t3\t1\t7\n"
    )
    response = test_client.post(
        "/v1/attendance/punches?deviceSerial=ZK-77", data=attlog, content_type="text/plain", headers=mint.headers()
    )
    assert response.status_code == 202, response.get_json()
    punches = test_client.get(response.headers["Location"], headers=mint.headers()).get_json()["punches"]
    # Athens moves from +02:00 to +03:00 at 03:00 local time on 2026-03-29.
    assert [p["timestamp"] for p in punches] == [
        "2026-03-29T02:30:00+02:00",
        "2026-03-29T04:30:00+03:00",
        "2026-07-01T12:00:00+03:00",
    ]
    assert [p["direction"] for p in punches] == ["in", "out", "break_in"]


@pytest.mark.parametrize(
    ("query", "body", "field"),
    [
        ("deviceSerial=UNKNOWN", "1\t2026-01-01 08:00:00\t0\t1\t0\n", "deviceSerial"),
        ("", "1\t2026-01-01 08:00:00\t0\t1\t0\n", "deviceSerial"),
        ("deviceSerial=ZK-77", "1\t2026-13-01 08:00:00\t0\t1\t0\n", "lines"),
        ("deviceSerial=ZK-77", "just-a-pin\n", "lines"),
        ("deviceSerial=ZK-77", "1\t2026-01-01 08:00:00\t0\t99999999999\t0\n", "lines"),
        ("deviceSerial=ZK-77", "1\t2026-01-01 08:00:00\t0\t\u00b2\t0\n", "lines"),
        ("deviceSerial=ZK-77", "1\t2026-01-01 08:00:00\t0\t" + "1" * 5000 + "\t0\n", "lines"),
        ("deviceSerial=ZK-77", "1\x00\t2026-01-01 08:00:00\t0\t1\t0\n", "lines"),
        ("deviceSerial=ZK-77", "1\t2026-01-01 08:00:00\t0\t1\tW\x00\n", "lines"),
    ],
)
def test_bad_attlog_is_refused_with_the_line(test_client, mint, query, body, field):
    test_client.put(
        "/v1/attendance/devices/ZK-77", json={"deviceCode": "EL-1", "timezone": "Europe/Athens"}, headers=mint.headers()
    )
    response = test_client.post(
        f"/v1/attendance/punches?{query}", data=body, content_type="text/plain", headers=mint.headers()
    )
    assert response.status_code == 422 and field in response.get_json()["errors"]


def test_unknown_time_zone_is_refused(test_client, mint):
    response = test_client.put(
        "/v1/attendance/devices/ZK-1", json={"deviceCode": "X", "timezone": "Mars/Olympus"}, headers=mint.headers()
    )
    assert response.status_code == 422 and "timezone" in response.get_json()["errors"]


def test_tenants_never_see_each_others_batches(test_client, mint):
    created = test_client.post("/v1/attendance/punches", json=_batch(_punch()), headers=mint.headers())
    other = mint.headers(subscription_id="globex")
    assert test_client.get(created.headers["Location"], headers=other).status_code == 404
    # The same punch in another subscription is not a duplicate of ours.
    body = test_client.post("/v1/attendance/punches", json=_batch(_punch()), headers=other).get_json()
    assert body["accepted"] == 1


@pytest.mark.parametrize(
    ("headers", "status", "challenge"),
    [
        ({}, 401, 'Bearer realm="resource_api"'),
        ({"Authorization": "Basic abc"}, 401, 'Bearer realm="resource_api"'),
        ({"Authorization": "Bearer not.a.jwt"}, 401, 'error="invalid_token"'),
    ],
)
def test_missing_or_bad_credentials_get_rfc6750_errors(test_client, headers, status, challenge, mint):
    response = test_client.post("/v1/attendance/punches", json=_batch(_punch()), headers=headers)
    assert response.status_code == status
    assert challenge in response.headers["WWW-Authenticate"]


def test_expired_token_and_wrong_scope_are_refused(test_client, mint):
    expired = test_client.post("/v1/attendance/punches", json=_batch(_punch()), headers=mint.headers(lifetime=-120))
    assert expired.status_code == 401 and 'error="invalid_token"' in expired.headers["WWW-Authenticate"]
    insights_key = mint.headers(scope="insights:write")
    refused = test_client.post("/v1/attendance/punches", json=_batch(_punch()), headers=insights_key)
    assert refused.status_code == 403 and 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]


def test_token_without_tenant_is_forbidden(test_client, mint):
    response = test_client.post(
        "/v1/attendance/punches", json=_batch(_punch()), headers=mint.headers(subscription_id=None)
    )
    assert response.status_code == 403


def test_openapi_document_and_docs_page_are_served(test_client):
    spec = test_client.get("/openapi.json").get_json()
    assert "/v1/attendance/punches" in spec["paths"]
    assert "PunchBatch" in spec["components"]["schemas"]
    page = test_client.get("/docs")
    assert page.status_code == 200 and b"/_swagger-ui/swagger-ui-bundle.js" in page.data
    asset = test_client.get("/_swagger-ui/swagger-ui-bundle.js")
    assert asset.status_code == 200
    asset.close()


def test_sqlite_commits_reach_the_disk_before_the_202(app):
    """On SQLite, `synchronous=FULL`: a commit a 202 follows survives a power loss, not only a crash of the app."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("a SQLite setting")
        assert db.session.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
