"""The punch intake's 422 answers, word for word: field paths and messages as clock agents read them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from resource_api.attendance.models import Punch
from resource_api.extensions import db

PUNCH = {"employeeCode": "1001", "timestamp": "2026-03-29T08:59:00+03:00", "direction": "in"}
LENGTH_64 = "Length must be between 1 and 64."
_REMOVE = object()


def _batch(*changes: dict, **top) -> dict:
    """A valid three-punch batch whose punches get `changes` (the value `_REMOVE` removes the field)."""
    punches = []
    for index in range(3):
        punch = {**PUNCH, "employeeCode": f"100{index}"}
        for name, value in (changes[index] if index < len(changes) else {}).items():
            if value is _REMOVE:
                punch.pop(name)
            else:
                punch[name] = value
        punches.append(punch)
    body = {"deviceSerial": "SN1", "deviceCode": "EL-1", "punches": punches}
    for name, value in top.items():
        if value is _REMOVE:
            body.pop(name)
        else:
            body[name] = value
    return body


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (_batch(deviceSerial=_REMOVE), {"deviceSerial": ["Missing data for required field."]}),
        (_batch(deviceSerial=12), {"deviceSerial": ["Not a valid string."]}),
        (_batch(deviceCode=None), {"deviceCode": ["Field may not be null."]}),
        (_batch(deviceCode="x" * 65), {"deviceCode": [LENGTH_64]}),
        (_batch(deviceSerial="SN\u0000"), {"deviceSerial": ["Text must be valid Unicode without NUL characters."]}),
        (_batch(punches="1001"), {"punches": ["Not a valid list."]}),
        (_batch(punches={"0": PUNCH}), {"punches": ["Not a valid list."]}),
        (_batch(punches=[PUNCH, 7]), {"punches": {"1": {"_schema": ["Invalid input type."]}}}),
        (_batch(punches=[None]), {"punches": {"0": ["Field may not be null."]}}),
        (_batch(punches=[PUNCH] * 1001), {"punches": ["Length must be between 1 and 1000."]}),
        (
            _batch({}, {}, {"employeeCode": _REMOVE}),
            {"punches": {"2": {"employeeCode": ["Missing data for required field."]}}},
        ),
        (_batch({"employeeCode": 1001}), {"punches": {"0": {"employeeCode": ["Not a valid string."]}}}),
        (_batch({}, {"employeeCode": "9" * 65}), {"punches": {"1": {"employeeCode": [LENGTH_64]}}}),
        (
            _batch({"timestamp": "2026-03-29T08:59:00"}),
            {"punches": {"0": {"timestamp": ["Not a valid aware datetime."]}}},
        ),
        (_batch({"timestamp": "29/03/2026 08:59"}), {"punches": {"0": {"timestamp": ["Not a valid datetime."]}}}),
        (_batch({"timestamp": 1711691940}), {"punches": {"0": {"timestamp": ["Not a valid datetime."]}}}),
        (
            _batch({"timestamp": "1999-12-31T23:59:59+00:00"}),
            {"punches": {"0": {"timestamp": ["Must lie between 2000-01-01 and 1 day(s) from now."]}}},
        ),
        (
            _batch({"timestamp": "2999-01-01T00:00:00+00:00"}),
            {"punches": {"0": {"timestamp": ["Must lie between 2000-01-01 and 1 day(s) from now."]}}},
        ),
        (
            _batch({"direction": "IN"}),
            {"punches": {"0": {"direction": ["Must be one of: in, out, break_in, break_out, unknown."]}}},
        ),
        (
            _batch({"verifyMode": 256}),
            {"punches": {"0": {"verifyMode": ["Must be greater than or equal to 0 and less than or equal to 255."]}}},
        ),
        (_batch({"verifyMode": True}), {"punches": {"0": {"verifyMode": ["Not a valid integer."]}}}),
        (_batch({"workCode": "w" * 33}), {"punches": {"0": {"workCode": ["Longer than maximum length 32."]}}}),
        (_batch({"punchedBy": "me"}), {"punches": {"0": {"punchedBy": ["Unknown field."]}}}),
        (
            _batch({"employeeCode": ""}, {}, {"direction": _REMOVE, "verifyMode": "x"}, tenant="acme"),
            {
                "tenant": ["Unknown field."],
                "punches": {
                    "0": {"employeeCode": [LENGTH_64]},
                    "2": {"direction": ["Missing data for required field."], "verifyMode": ["Not a valid integer."]},
                },
            },
        ),
    ],
)
def test_invalid_batches_are_answered_field_by_field(test_client, mint, body, errors):
    response = test_client.post("/v1/attendance/punches", json=body, headers=mint.headers())
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert (problem["title"], problem["detail"], problem["errors"]) == (
        "Validation failed",
        "The request has invalid fields.",
        errors,
    )
    stored = test_client.post("/v1/attendance/punches", json=_batch(), headers=mint.headers()).get_json()
    assert stored["accepted"] == 3, "the refused batch must not have stored anything"


def test_values_the_schema_converts_are_still_accepted(test_client, mint):
    body = _batch({"verifyMode": "7", "workCode": None}, {"verifyMode": 1.0, "timestamp": "2026-03-29T05:59:00Z"})
    response = test_client.post("/v1/attendance/punches", json=body, headers=mint.headers())
    assert response.status_code == 202
    punches = test_client.get(response.headers["Location"], headers=mint.headers()).get_json()["punches"]
    assert [p["timestamp"] for p in punches] == [
        "2026-03-29T08:59:00+03:00",
        "2026-03-29T05:59:00+00:00",
        "2026-03-29T08:59:00+03:00",
    ]


def test_a_full_batch_is_committed_before_the_202(test_client, mint, app):
    punches = [
        {**PUNCH, "employeeCode": f"E{i}", "verifyMode": i % 256, **({"workCode": f"W{i}"} if i % 2 else {})}
        for i in range(1000)
    ]
    response = test_client.post(
        "/v1/attendance/punches",
        json={"deviceSerial": "SN1", "deviceCode": "EL-1", "punches": punches},
        headers=mint.headers(),
    )
    assert response.status_code == 202 and response.get_json()["accepted"] == 1000
    again = test_client.post(
        "/v1/attendance/punches",
        json={"deviceSerial": "SN1", "deviceCode": "EL-1", "punches": punches[:10]},
        headers=mint.headers(),
    )
    assert (again.get_json()["accepted"], again.get_json()["duplicates"]) == (0, 10)
    # Stored as SQLAlchemy stores instants, so its comparisons (the outbox's due punches) find them.
    instant = datetime(2026, 3, 29, 5, 59, tzinfo=UTC)
    stored = db.session.execute(
        select(Punch.employee_code, Punch.local_time, Punch.verify_mode, Punch.work_code, Punch.state).where(
            Punch.employee_code.in_(("E7", "E8")), Punch.punched_at == instant
        )
    ).all()
    assert sorted(tuple(row) for row in stored) == [
        ("E7", "2026-03-29T08:59:00+03:00", 7, "W7", "pending"),
        ("E8", "2026-03-29T08:59:00+03:00", 8, None, "pending"),
    ]
    due = select(func.count()).where(Punch.next_attempt_at <= datetime.now(UTC), Punch.punched_at >= instant)
    assert db.session.execute(due).scalar_one() == 1000
