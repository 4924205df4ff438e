"""The application-insights API: intake with deduplication, validation, summaries, tenancy and scopes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from resource_api.extensions import db
from resource_api.insights.service import ingest_events, summarize_events

SCOPE = "insights:write"
SESSION_INFO = {"101": "4.0.36 - 2", "16": "BackOffice = 1, Retail = 0, Mobile = 6, Web = 0"}


@pytest.fixture
def key(mint) -> dict[str, str]:
    return mint.headers(scope=SCOPE)


def _event(event_type="RestartAppServer", triggered="2026-03-29T08:59:00+03:00", **extra):
    return {
        "eventType": event_type,
        "applicationServer": "EAS-01",
        "message": "Application server restarted",
        "triggeredOn": triggered,
        **extra,
    }


def _post(client, headers, *events, **body):
    return client.post("/v1/insights/events", json={"events": list(events), **body}, headers=headers)


def _stored(client, headers):
    return client.get("/v1/insights/events?limit=200", headers=headers).get_json()


def test_batch_is_committed_and_answered_202(test_client, key):
    usage = _event(
        "Usage",
        "2026-03-29T10:00:00+03:00",
        eventId="u-1",
        message="",
        product="EBS ERP",
        version="4.0.36",
        user="esmaster",
        properties=SESSION_INFO,
    )
    response = _post(test_client, key, _event(otherEvent=None), usage)
    assert response.status_code == 202
    assert response.get_json() == {"accepted": 2, "duplicates": 0}
    latest = _stored(test_client, key)
    assert [e["eventType"] for e in latest] == ["Usage", "RestartAppServer"]
    assert latest[0] == {
        **{k: usage[k] for k in ("eventId", "eventType", "applicationServer", "message", "product", "version")},
        "otherEvent": None,
        "user": "esmaster",
        "properties": SESSION_INFO,
        "triggeredOn": "2026-03-29T07:00:00+00:00",
        "receivedAt": latest[0]["receivedAt"],
    }
    assert latest[1]["eventId"] is None and latest[1]["properties"] is None


def test_repeated_event_ids_are_counted_not_stored_twice(test_client, key):
    first = _post(test_client, key, _event(eventId="a"), _event(eventId="b"), _event(), _event())
    assert first.get_json() == {"accepted": 4, "duplicates": 0}, "events without an id are never merged"
    again = _post(test_client, key, _event(eventId="a"), _event(eventId="c"), _event(eventId="c"), _event())
    assert again.status_code == 202
    assert again.get_json() == {"accepted": 2, "duplicates": 2}
    assert sorted(e["eventId"] or "-" for e in _stored(test_client, key)) == ["-", "-", "-", "a", "b", "c"]


def test_event_ids_are_not_shared_across_subscriptions(test_client, mint, key):
    _post(test_client, key, _event(eventId="same"))
    other = mint.headers(scope=SCOPE, subscription_id="globex")
    assert _post(test_client, other, _event(eventId="same")).get_json() == {"accepted": 1, "duplicates": 0}
    assert len(_stored(test_client, other)) == 1 and len(_stored(test_client, key)) == 1


def test_reads_are_limited_to_the_keys_subscription_and_bridge(test_client, mint, key):
    _post(test_client, key, _event(eventId="ours"))
    for claims in ({"subscription_id": "globex"}, {"bridge_id": "Branch2"}):
        stranger = mint.headers(scope=SCOPE, **claims)
        assert _stored(test_client, stranger) == []
        assert test_client.get("/v1/insights/summary", headers=stranger).get_json()["total"] == 0


def test_latest_events_filter_by_type_and_limit(test_client, key):
    events = [_event("Usage", f"2026-03-29T08:0{n}:00+00:00", eventId=str(n)) for n in range(5)]
    _post(test_client, key, *events, _event("UpgradeErr"))
    listed = test_client.get("/v1/insights/events?type=Usage&limit=2", headers=key).get_json()
    assert [e["eventId"] for e in listed] == ["4", "3"]


def test_summary_over_the_api_counts_todays_events(test_client, key):
    today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    old = (today - timedelta(days=40)).isoformat()
    _post(
        test_client,
        key,
        _event("Usage", today.isoformat(), product="EBS ERP", properties={"101": "4.0.40 - 1"}),
        _event("Usage", today.isoformat(), product="EBS ERP"),
        _event("UpgradeEnd", old, version="4.0.36"),
    )
    summary = test_client.get("/v1/insights/summary?days=7", headers=key).get_json()
    assert summary["total"] == 2
    assert summary["byType"] == {"Usage": 2}
    assert summary["byProduct"] == {"EBS ERP": 2}
    assert summary["latestVersions"] == {"EAS-01": "4.0.40 - 1"}
    assert len(summary["byDay"]) == 7 and summary["byDay"][-1] == {"day": today.date().isoformat(), "count": 2}
    assert summary["from"].startswith((today - timedelta(days=6)).date().isoformat())
    assert test_client.get("/v1/insights/summary", headers=key).get_json()["total"] == 2
    assert test_client.get("/v1/insights/summary?days=60", headers=key).get_json()["total"] == 3


def test_summary_arithmetic_for_a_fixed_day(app):
    def at(text):
        return datetime.fromisoformat(text)

    events = [
        # 23:30 in Athens on the 28th is 21:30 UTC: counted on the 28th (days are UTC days).
        _event("Usage", at("2026-03-28T23:30:00+02:00"), product="ERP", version="4.0.1", applicationServer="A"),
        _event("Usage", at("2026-03-29T04:00:00+03:00"), product="ERP", version="4.0.2", applicationServer="A"),
        _event("UpgradeEnd", at("2026-03-30T09:00:00+00:00"), version="4.0.3", applicationServer="A"),
        _event("Usage", at("2026-03-30T10:00:00+00:00"), product="Retail", applicationServer="A"),
        _event("AppServerStart", at("2026-03-30T11:00:00+00:00"), properties={"101": "5.1"}, applicationServer="B"),
        _event("Usage", at("2026-03-20T10:00:00+00:00"), product="ERP", version="3.9", applicationServer="C"),
    ]
    ingest_events(session=db.session, subscription_id="acme", bridge_id="Main", events=events)
    ingest_events(
        session=db.session, subscription_id="acme", bridge_id="Other", events=[_event("Other", at("2026-03-30T12:00Z"))]
    )
    ingest_events(session=db.session, subscription_id="globex", bridge_id="Main", events=events)

    summary = summarize_events(
        session=db.session, subscription_id="acme", bridge_id="Main", days=3, now=at("2026-03-30T15:00:00+00:00")
    )
    assert summary["from"] == at("2026-03-28T00:00:00+00:00") and summary["to"] == at("2026-03-31T00:00:00+00:00")
    assert summary["total"] == 5
    assert summary["byType"] == {"AppServerStart": 1, "UpgradeEnd": 1, "Usage": 3}
    assert summary["byDay"] == [
        {"day": "2026-03-28", "count": 1},
        {"day": "2026-03-29", "count": 1},
        {"day": "2026-03-30", "count": 3},
    ]
    assert summary["byProduct"] == {"ERP": 2, "Retail": 1}
    assert summary["latestVersions"] == {"A": "4.0.3", "B": "5.1"}

    everywhere = summarize_events(
        session=db.session, subscription_id="acme", days=3, now=at("2026-03-30T15:00:00+00:00")
    )
    assert everywhere["total"] == 6 and everywhere["byType"]["Other"] == 1


def _many_properties():
    return {str(n): "x" for n in range(51)}


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"events": [_event(triggered="2026-03-29T08:59:00")]}, ["events", "0", "triggeredOn"]),
        ({"events": [_event(triggered="yesterday")]}, ["events", "0", "triggeredOn"]),
        ({"events": [_event(triggered="0001-01-01T00:00:00+01:00")]}, ["events", "0", "triggeredOn"]),
        ({"events": [_event(triggered="9999-12-31T23:59:59-01:00")]}, ["events", "0", "triggeredOn"]),
        ({"events": [_event(triggered="1999-12-31T23:59:59+00:00")]}, ["events", "0", "triggeredOn"]),
        (
            {"events": [_event(triggered=(datetime.now(UTC) + timedelta(days=2)).isoformat())]},
            ["events", "0", "triggeredOn"],
        ),
        ({"events": [_event(message="a\x00b")]}, ["events", "0", "message"]),
        ({"events": [_event(applicationServer="EAS-\ud800")]}, ["events", "0", "applicationServer"]),
        ({"events": [_event(properties={"1\x00": "x"})]}, ["events", "0", "properties", "1\x00", "key"]),
        ({"events": [_event(properties={"16": "\udfff"})]}, ["events", "0", "properties", "16", "value"]),
        ({"events": [_event(), _event("Reboot")]}, ["events", "1", "eventType"]),
        ({"events": [_event(message="m" * 2001)]}, ["events", "0", "message"]),
        ({"events": [_event(message=None)]}, ["events", "0", "message"]),
        (
            {"events": [{k: v for k, v in _event().items() if k != "applicationServer"}]},
            ["events", "0", "applicationServer"],
        ),
        ({"events": [_event(eventId="")]}, ["events", "0", "eventId"]),
        ({"events": [_event(eventId=7)]}, ["events", "0", "eventId"]),
        ({"events": [_event(properties=_many_properties())]}, ["events", "0", "properties"]),
        ({"events": [_event(properties={"16": 6})]}, ["events", "0", "properties", "16", "value"]),
        ({"events": [_event(properties=["101"])]}, ["events", "0", "properties"]),
        ({"events": [_event(SystemEventType="Other")]}, ["events", "0", "SystemEventType"]),
        ({"events": [_event()], "subscription_id": "globex"}, ["subscription_id"]),
        ({"events": []}, ["events"]),
        ({"events": [_event() for _ in range(1001)]}, ["events"]),
        ({"events": {"0": _event()}}, ["events"]),
        ({}, ["events"]),
    ],
)
def test_invalid_events_are_named_and_nothing_is_stored(test_client, key, body, path):
    response = test_client.post("/v1/insights/events", json=body, headers=key)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]
    for step in path:
        errors = errors[step]
    assert _stored(test_client, key) == []


@pytest.mark.parametrize(
    ("data", "content_type", "error"),
    [
        (b"{not json", "application/json", "Invalid JSON body"),
        (b'{"events": [\xff\xfe]}', "application/json", "Invalid JSON body"),
        (b'{"events": [{"eventType": "Usage", "message": 1' + b"1" * 5000 + b"}]}", "application/json", "Invalid JSON"),
        (b'{"events": ' + b"[" * 100_000, "application/json", "Invalid JSON body"),
        (b"[1, 2]", "application/json", "Invalid input type"),
        (b'"events"', "application/json", "Invalid input type"),
        (b"null", "application/json", "Invalid input type"),
        (b'{"events": []}', "text/plain", "Missing data"),
        (b"", "application/json", "Missing data"),
    ],
)
def test_malformed_bodies_are_4xx_problems(test_client, key, data, content_type, error):
    response = test_client.post("/v1/insights/events", data=data, content_type=content_type, headers=key)
    assert 400 <= response.status_code < 500
    assert response.mimetype == "application/problem+json"
    assert error in json.dumps(response.get_json()["errors"])
    assert _stored(test_client, key) == []


def test_oversized_body_is_refused(test_client, key):
    response = test_client.post(
        "/v1/insights/events", data=b"x" * 3_000_000, content_type="application/json", headers=key
    )
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/v1/insights/summary?days=0", "days"),
        ("/v1/insights/summary?days=367", "days"),
        ("/v1/insights/summary?days=ten", "days"),
        ("/v1/insights/summary?dayz=3", "dayz"),
        ("/v1/insights/events?limit=0", "limit"),
        ("/v1/insights/events?limit=201", "limit"),
        ("/v1/insights/events?type=Reboot", "type"),
        ("/v1/insights/events?subscription_id=globex", "subscription_id"),
    ],
)
def test_bad_query_parameters_are_422(test_client, key, url, field):
    response = test_client.get(url, headers=key)
    assert response.status_code == 422 and field in response.get_json()["errors"]


@pytest.mark.parametrize("scope", ["attendance:write", "surveys:write surveys:read", ""])
@pytest.mark.parametrize(
    ("method", "url"),
    [("post", "/v1/insights/events"), ("get", "/v1/insights/events"), ("get", "/v1/insights/summary")],
)
def test_other_endpoint_tokens_lack_the_scope(test_client, mint, key, scope, method, url):
    response = getattr(test_client, method)(url, json={"events": [_event()]}, headers=mint.headers(scope=scope))
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert _stored(test_client, key) == []


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer not.a.jwt"}, {"Authorization": "Basic abc"}], ids=["none", "bad", "basic"]
)
def test_credentials_are_checked_before_the_body(test_client, headers):
    response = test_client.post("/v1/insights/events", json={"events": "nonsense"}, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_token_without_tenant_is_forbidden(test_client, mint):
    response = _post(test_client, mint.headers(scope=SCOPE, bridge_id=None), _event())
    assert response.status_code == 403


def test_openapi_describes_the_insights_api(test_client):
    spec = test_client.get("/openapi.json").get_json()
    post = spec["paths"]["/v1/insights/events"]["post"]
    assert post["tags"] == ["insights"] and "202" in post["responses"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/EventBatch")
    assert {"get"} <= set(spec["paths"]["/v1/insights/summary"])
    event = spec["components"]["schemas"]["Event"]
    assert "Usage" in event["properties"]["eventType"]["enum"]
    assert event["properties"]["triggeredOn"]["format"] == "date-time"
    assert {"insights", "surveys", "attendance"} <= {tag["name"] for tag in spec["tags"]}
