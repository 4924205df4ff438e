"""The read lane answers every public read exactly as the view does, and leaves everything else to Flask.

Which door answered is told by Flask's `request_started` signal, which only the full app sends; the full
app's own answer is taken with the lane stepped over (`app.wsgi_app.wsgi_app`)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from resource_api.fast_reads import PREFIX, reads
from shared.fast_lane import FastLane
from tests.integration.resource_api.surveys.builders import BOTH, CAMPAIGN, GID, answers_with, campaign_body, respond
from tests.integration.resource_api.tokens import TokenMint

_VARYING = {"Date", "Content-Length", "X-Request-ID"}


def _full(app: Flask, path: str, headers: dict[str, str]) -> Any:
    """The full app's answer: the same request with the lane stepped over."""
    lane = app.wsgi_app
    assert isinstance(lane, FastLane)
    app.wsgi_app = lane.wsgi_app  # type: ignore[method-assign]
    try:
        return app.test_client().get(path, headers=headers)
    finally:
        app.wsgi_app = lane  # type: ignore[method-assign]


@pytest.fixture
def every_read(test_client: FlaskClient, mint: TokenMint) -> list[tuple[str, dict[str, str]]]:
    """One request for each public read, with data to show: (path, headers)."""
    attendance = mint.headers(scope="attendance:write")
    punches = {
        "deviceSerial": "SN1",
        "deviceCode": "EL-1",
        "punches": [{"employeeCode": "1001", "timestamp": "2026-03-29T08:59:00+03:00", "direction": "in"}],
    }
    batch = test_client.post("/v1/attendance/punches", json=punches, headers=attendance)
    assert batch.status_code == 202, batch.get_json()
    insights = mint.headers(scope="insights:write")
    events = [
        {"eventType": kind, "applicationServer": "EAS-01", "message": kind, "triggeredOn": "2026-03-29T08:59:00+03:00"}
        for kind in ("RestartAppServer", "UpgradeStart")
    ]
    assert test_client.post("/v1/insights/events", json={"events": events}, headers=insights).status_code == 202
    surveys = mint.headers(scope=BOTH)
    assert test_client.put(CAMPAIGN, json=campaign_body(), headers=surveys).status_code == 201
    answer = respond(test_client, surveys, answers_with())
    assert answer.status_code == 201, answer.get_json()
    return [
        (batch.headers["Location"], attendance),
        ("/v1/insights/events", insights),
        ("/v1/insights/events?type=UpgradeStart&limit=5", insights),
        ("/v1/insights/summary?days=7", insights),
        ("/v1/surveys/campaigns?limit=10", surveys),
        (CAMPAIGN, surveys),
        (answer.headers["Location"], surveys),
        (f"{CAMPAIGN}/results", surveys),
    ]


def test_every_public_read_goes_through_the_lane(app: Flask) -> None:
    public_reads = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(PREFIX) and "GET" in (rule.methods or ())
    }
    assert public_reads == reads().keys()


def test_each_read_answers_from_the_lane_what_the_view_answers(app, test_client, every_read, doors):
    for path, headers in every_read:
        fast = test_client.get(path, headers=headers)
        assert doors == [], path
        full = _full(app, path, headers)
        assert doors == [path.partition("?")[0]], path
        doors.clear()
        assert fast.status_code == full.status_code == 200, (path, full.get_json())
        assert fast.get_data() == full.get_data(), path
        assert {k: v for k, v in fast.headers if k not in _VARYING} == {
            k: v for k, v in full.headers if k not in _VARYING
        }, path
        assert fast.headers["X-Request-ID"]


def test_the_callers_request_id_comes_back(test_client, every_read, doors):
    path, headers = every_read[0]
    response = test_client.get(path, headers={**headers, "X-Request-ID": "clock-42.7"})
    assert response.status_code == 200 and doors == []
    assert response.headers["X-Request-ID"] == "clock-42.7"


def _refusals(mint: TokenMint, every_read: list[tuple[str, dict[str, str]]]) -> list[tuple[str, dict[str, str], int]]:
    batch, attendance = every_read[0]
    surveys = every_read[-1][1]
    return [
        (batch, {}, 401),  # no token
        (batch, {"Authorization": "Basic a2V5OnNlY3JldA=="}, 401),  # not a bearer token
        (batch, {"Authorization": "Bearer not.a.jwt"}, 401),
        (batch, mint.headers(scope="insights:write"), 403),  # the wrong scope
        (batch, mint.headers(lifetime=-60), 401),  # expired
        (batch, mint.headers(subscription_id=None), 403),  # bound to no subscription
        (batch, mint.headers(subscription_id="other"), 404),  # another tenant's batch
        ("/v1/attendance/batches/no-such-batch", attendance, 404),
        ("/v1/insights/events?limit=0", every_read[1][1], 422),
        ("/v1/insights/events?limit=5&limit=6", every_read[1][1], 200),  # a repeated field: Flask decides
        ("/v1/insights/events?colour=red", every_read[1][1], 422),
        ("/v1/surveys/campaigns/6f1c1a52-7b0e-4f43-9d0e-000000000000", surveys, 404),
        (f"/v1/surveys/campaigns/{GID}/responses/none", surveys, 404),
    ]


def test_anything_but_a_valid_read_is_answered_by_flask(app, test_client, mint, every_read, doors):
    for path, headers, status in _refusals(mint, every_read):
        response = test_client.get(path, headers=headers)
        assert response.status_code == status, (path, response.get_json())
        assert doors == [path.partition("?")[0]], path
        doors.clear()
        if status in (401, 403) and response.get_json().get("error"):
            assert response.headers["WWW-Authenticate"].startswith("Bearer ")


def test_head_and_writes_go_to_flask(test_client, every_read, doors):
    path, headers = every_read[0]
    assert test_client.head(path, headers=headers).status_code == 200
    assert test_client.delete(path, headers=headers).status_code == 405
    assert doors == [path, path]
