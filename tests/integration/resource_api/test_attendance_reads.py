"""Following a batch: the hand-written answer equals BatchSchema's dump, and API calls open no cookie session."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import session
from sqlalchemy import update

from resource_api.attendance.models import Punch
from resource_api.attendance.schemas import BatchSchema, batch_document
from resource_api.attendance.service import batch_with_punches, ingest_punches
from resource_api.extensions import db
from shared.errors import NotFound


def _punch(employee: str, timestamp: str = "2026-03-29T08:59:00+03:00") -> dict:
    return {"employeeCode": employee, "timestamp": datetime.fromisoformat(timestamp), "direction": "in"}


def _ingest(*punches: dict, subscription_id: str = "acme") -> str:
    receipt, _ = ingest_punches(
        session=db.session,
        subscription_id=subscription_id,
        bridge_id="Main",
        device_serial="SN1",
        device_code="EL-1",
        punches=list(punches),
    )
    return receipt.id


def _read(batch_id: str, subscription_id: str = "acme") -> dict:
    return batch_with_punches(engine=db.engine, subscription_id=subscription_id, batch_id=batch_id)


def test_the_answer_is_what_the_schema_dumps(app, test_client, mint):
    batch_id = _ingest(_punch("1001"), _punch("1002", "2026-03-29T05:59:00.250000+00:00"), _punch("1003"))
    db.session.execute(
        update(Punch)
        .where(Punch.employee_code == "1001")
        .values(state="delivered", attempts=1, delivered_at=datetime(2026, 3, 29, 6, 0, 1, 5, tzinfo=UTC))
    )
    db.session.execute(
        update(Punch).where(Punch.employee_code == "1002").values(state="rejected", attempts=3, last_error="unknown")
    )
    db.session.commit()
    batch = _read(batch_id)
    document = batch_document(batch)
    assert document == BatchSchema().dump(batch)
    assert [(p["employeeCode"], p["state"], p["deliveredAt"], p["lastError"]) for p in document["punches"]] == [
        ("1001", "delivered", "2026-03-29T06:00:01.000005+00:00", None),
        ("1002", "rejected", None, "unknown"),
        ("1003", "pending", None, None),
    ]
    answer = test_client.get(f"/v1/attendance/batches/{batch_id}", headers=mint.headers())
    assert answer.status_code == 200 and answer.get_json() == document
    assert document["receivedAt"].endswith("+00:00") and document["batchId"] == batch_id


def test_a_batch_of_duplicates_has_no_punches(app, test_client, mint):
    _ingest(_punch("1001"))
    batch_id = _ingest(_punch("1001"))
    batch = _read(batch_id)
    assert (batch["accepted"], batch["duplicates"], batch["punches"]) == (0, 1, [])
    assert batch_document(batch) == BatchSchema().dump(batch)
    answer = test_client.get(f"/v1/attendance/batches/{batch_id}", headers=mint.headers()).get_json()
    assert (answer["accepted"], answer["duplicates"], answer["punches"]) == (0, 1, [])


def test_another_tenants_batch_and_an_unknown_one_are_not_found(app):
    batch_id = _ingest(_punch("1001"))
    for subscription_id, wanted in (("globex", batch_id), ("acme", "0" * 32)):
        with pytest.raises(NotFound):
            _read(wanted, subscription_id)


@pytest.mark.parametrize(
    ("path", "opened"),
    [
        ("/v1/attendance/batches/abc", False),
        ("/v1/attendance/punches", False),
        ("/openapi.json", False),
        ("/apps/time-attendance/", True),
        ("/apps/time-attendance/callback", True),
    ],
)
def test_cookie_sessions_open_only_where_the_cookie_is_sent(app, path, opened):
    assert app.config["SESSION_COOKIE_PATH"] == "/apps/"
    with app.test_request_context(path):
        assert (not app.session_interface.is_null_session(session)) is opened
        if not opened:
            assert dict(session) == {}
            with pytest.raises(RuntimeError):
                session["written"] = True  # outside the pages a write fails loudly instead of being lost


def test_api_answers_set_no_cookie(test_client, mint):
    batch_id = test_client.post(
        "/v1/attendance/punches",
        json={
            "deviceSerial": "SN1",
            "deviceCode": "EL-1",
            "punches": [{**_punch("1"), "timestamp": "2026-03-29T08:59:00Z"}],
        },
        headers=mint.headers(),
    ).get_json()["batchId"]
    test_client.set_cookie("cloudstore_apps", "not-a-session", path="/")
    answer = test_client.get(f"/v1/attendance/batches/{batch_id}", headers=mint.headers())
    assert answer.status_code == 200 and "Set-Cookie" not in answer.headers
