"""The relay's fast lane answers a relayed call exactly as the full Flask view does, hands every call that fails a
check before EBS to Flask, and answers every call it has sent itself, failures included, so none is sent twice.

Which door answered is told by Flask's `request_started` signal, which only the full app sends; the full app
alone is reached through `app.wsgi_app.wsgi_app`, the Flask callable the lane wraps."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, request, request_started
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import Client, TestResponse
from werkzeug.wrappers import Request, Response

from bridge_gateway.audit import AuditRecord
from bridge_gateway.extensions import db
from bridge_gateway.relay import service as relay_service
from bridge_gateway.relay.fast_lane import ENDPOINT
from bridge_gateway.runtime import Gateway
from shared.fast_lane import FastLane
from tests.integration.bridge_gateway.conftest import BRIDGE
from tests.integration.bridge_gateway.gw_helpers import FakeEbs, bridge_body, serve

RELAY = f"{BRIDGE}/relay/"
PROBLEM = "https://cloudstore.dev/problems/"
_VARYING = {"Date", "Content-Length", "X-Request-ID"}


@pytest.fixture
def full(app: Flask) -> Client:
    """A client of the full Flask app alone, without the lane in front."""
    lane = app.wsgi_app
    assert isinstance(lane, FastLane)
    return Client(lane.wsgi_app, TestResponse)


def _headers(response: Any) -> list[tuple[str, str]]:
    return sorted((name, value) for name, value in response.headers.items() if name not in _VARYING)


def _same(fast: Any, slow: Any) -> None:
    """The same status, headers (but for Date, Content-Length and the request id's value) and body."""
    assert fast.status_code == slow.status_code, (fast.get_data(), slow.get_data())
    assert _headers(fast) == _headers(slow)
    assert fast.get_data() == slow.get_data()
    assert "X-Request-ID" in fast.headers and "X-Request-ID" in slow.headers


def _records(gw: Gateway) -> list[AuditRecord]:
    gw.audit.flush()
    db.session.expire_all()
    return list(db.session.execute(select(AuditRecord).order_by(AuditRecord.id)).scalars())


def _upstream_total(gw: Gateway) -> int:
    prefix = "bridge_gateway_upstream_requests_total{"
    lines = gw.metrics.render().splitlines()
    return sum(int(float(line.rsplit(" ", 1)[1])) for line in lines if line.startswith(prefix))


def _events(test_client: FlaskClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = test_client.get(RELAY + "api/rpc/EventLog/", headers=headers)
    assert response.status_code == 200
    return response.get_json()["Entries"]


def test_the_lane_is_the_outermost_wsgi_layer(app):
    assert isinstance(app.wsgi_app, FastLane) and set(app.wsgi_app.handlers) == {ENDPOINT}
    assert app.wsgi_app.wsgi_app == app.__class__.wsgi_app.__get__(app)  # Flask's own callable, nothing between


@pytest.mark.parametrize(
    ("path", "extra"),
    [
        ("api/rpc/FetchSessionInfo/", {}),
        ("api/rpc/PublicQuery/ESGOSites/Branches", {"X-ESPQOptions": '{"Page": 2, "PageSize": 1, "WithCount": true}'}),
        ("api/rpc/ParameterValue/CompanyTitle?x=1&x=2&empty=&Τ=Δ", {}),
        ("api/rpc/FetchCompanyParam/NoSuchParam", {}),  # EBS's 404, relayed filtered
        ("api/rpc/FetchCompanyParam/Τίτλος", {}),  # a path outside ASCII
    ],
)
def test_a_get_takes_the_lane_and_is_answered_as_the_full_app_answers_it(
    test_client, full, headers, bridge, doors, path, extra
):
    fast = test_client.get(RELAY + path, headers={**headers, **extra})
    assert doors == []
    slow = full.get(RELAY + path, headers={**headers, **extra})
    assert len(doors) == 1
    _same(fast, slow)
    assert fast.headers["Content-Type"] == "application/json"
    assert fast.headers["X-EBS-Status"] == str(fast.status_code)


def test_a_post_takes_the_lane_and_is_sent_once(test_client, full, headers, bridge, doors):
    event = {"ID": "CloudStore", "Description": "Γεια", "TypeID": 1}
    fast = test_client.post(RELAY + "api/rpc/EventLog/", json=event, headers=headers)
    assert doors == []
    slow = full.post(RELAY + "api/rpc/EventLog/", json=event, headers=headers)
    assert len(doors) == 1
    assert fast.status_code == slow.status_code == 200 and _headers(fast) == _headers(slow)
    first, second = fast.get_json(), slow.get_json()
    assert first == {"Logged": True, "SeqNum": first["SeqNum"]} and second["SeqNum"] == first["SeqNum"] + 1
    entries = _events(test_client, headers)
    assert [(e["Description"], e["UserID"]) for e in entries] == [("Γεια", "cloudsvc")] * 2


def _answers_of(test_client: FlaskClient, full: Client, doors: list[str], method: str, path: str, **kwargs: Any) -> Any:
    """The lane-fronted app's answer, checked to come from Flask and to equal the full app's."""
    fast = test_client.open(RELAY + path, method=method, **kwargs)
    assert doors == [(RELAY + path).split("?")[0]], "the lane answered a call it must pass on"
    slow = full.open(RELAY + path, method=method, **kwargs)
    _same(fast, slow)
    return fast


@pytest.mark.parametrize(
    ("token", "path", "kwargs", "status", "outcome"),
    [
        ("none", "api/rpc/FetchSessionInfo/", {}, 401, "invalid_token"),
        ("garbage", "api/rpc/FetchSessionInfo/", {}, 401, "invalid_token"),
        ("bridges-scope", "api/rpc/FetchSessionInfo/", {}, 403, "insufficient_scope"),
        ("user", "api/rpc/FetchSessionInfo/", {}, 401, "invalid_token"),
        ("other-tenant", "api/rpc/FetchSessionInfo/", {}, 403, "insufficient_scope"),
        ("own-tenant", "api/Login/Logout", {}, 400, "relay-refused"),
        ("service", "api/rpc/../Login/Logout", {}, 400, "relay-refused"),
        ("service", "api/rpc/FetchSessionInfo/?webapitoken=x", {}, 400, "relay-refused"),
        ("service", "api/rpc/FetchSessionInfo/?" + "&".join(f"q{n}=1" for n in range(51)), {}, 400, "relay-refused"),
        ("service", "api/rpc/FetchSessionInfo/", {"headers": {"X-ESPQOptions": "[1]"}}, 400, "relay-refused"),
        (
            "service",
            "api/rpc/EventLog/",
            {"data": "not json", "content_type": "application/json"},
            400,
            "relay-refused",
        ),
    ],
)
def test_calls_failing_a_check_go_to_flask_with_todays_answer(
    test_client, full, mint, bridge, doors, gw, token, path, kwargs, status, outcome
):
    authorization = {
        "none": {},
        "garbage": {"Authorization": "Bearer not-a-jwt"},
        "bridges-scope": mint.headers("gateway:bridges"),
        "user": {"Authorization": f"Bearer {mint.token(sub='esmaster@example.com')}"},
        "other-tenant": {"Authorization": f"Bearer {mint.token(subscription_id='other')}"},
        "own-tenant": {"Authorization": f"Bearer {mint.token(subscription_id='DEMO')}"},
        "service": mint.headers(),
    }[token]
    before = _upstream_total(gw)
    method = "POST" if "data" in kwargs else "GET"
    sent = {**authorization, **kwargs.pop("headers", {})}
    response = _answers_of(test_client, full, doors, method, path, headers=sent, **kwargs)
    assert response.status_code == status
    assert _upstream_total(gw) == before  # neither door reached EBS
    records = _records(gw)[-2:]  # one row per door
    assert [r.outcome for r in records] == [outcome, outcome]


def test_an_unknown_bridge_goes_to_flask(test_client, full, headers, doors):
    response = _answers_of(test_client, full, doors, "GET", "api/rpc/FetchSessionInfo/", headers=headers)
    assert response.status_code == 404 and response.get_json()["type"] == PROBLEM + "bridge-not-found"


@pytest.mark.parametrize(
    ("path", "kwargs"),
    [
        ("api/rpc/EventLog/", {"data": '{"ID": "form"}', "content_type": "application/x-www-form-urlencoded"}),
        ("api/rpc/EventLog/", {"data": '{"ID": "text"}', "content_type": "text/plain"}),
        ("api/rpc/EventLog/", {"json": {"ID": "big", "Description": "x" * 70_000}}),
        ("api/rpc/ParameterValue/CompanyTitle?name=%FF", {}),  # not UTF-8: Werkzeug keeps it percent-encoded
    ],
)
def test_unusual_calls_go_to_flask_which_relays_them_as_before(test_client, full, headers, bridge, doors, path, kwargs):
    method = "GET" if not kwargs else "POST"
    fast = test_client.open(RELAY + path, method=method, headers=headers, **kwargs)
    assert doors == [(RELAY + path).split("?")[0]]
    slow = full.open(RELAY + path, method=method, headers=headers, **kwargs)
    assert fast.status_code == slow.status_code and _headers(fast) == _headers(slow)
    if method == "POST":  # both doors relayed the JSON body (Flask does not look at its content type)
        assert fast.status_code == 200 and fast.get_json()["Logged"] is True
        assert len(_events(test_client, headers)) == 2
    else:
        assert fast.get_data() == slow.get_data()


@pytest.fixture
def one_shot(make_app: Callable[..., Flask]) -> Flask:
    """An app whose calls make one attempt, and whose breaker opens at the first failure for 30 s."""
    return make_app(RETRIES=0, BREAKER_FAILURE_THRESHOLD=1, BREAKER_RESET_SECONDS=30)


def _register(app: Flask, headers: dict[str, str], url: str) -> None:
    assert app.test_client().post("/v1/bridges", json=bridge_body(url), headers=headers).status_code == 201


def _both_doors(app: Flask, method: str, path: str, **kwargs: Any) -> tuple[Any, Any, list[str]]:
    seen: list[str] = []

    def record(sender: Flask, **_: Any) -> None:
        seen.append(request.path)

    request_started.connect(record, app)
    try:
        fast = app.test_client().open(RELAY + path, method=method, **kwargs)
        assert seen == [], "a call the lane sent went on to Flask"
        slow = Client(app.wsgi_app.wsgi_app, TestResponse).open(RELAY + path, method=method, **kwargs)
    finally:
        request_started.disconnect(record, app)
    return fast, slow, seen


def test_an_unreachable_server_is_answered_by_the_lane_as_flask_answers_it(make_app, headers, sim):
    app = make_app(RETRIES=0, BREAKER_FAILURE_THRESHOLD=100)
    _register(app, headers, sim.url)
    sim.go_down()
    fast, slow, seen = _both_doors(app, "GET", "api/rpc/FetchSessionInfo/", headers=headers)
    assert len(seen) == 1
    _same(fast, slow)
    assert fast.status_code == 502 and fast.headers["Content-Type"] == "application/problem+json"
    assert fast.get_json()["type"] == PROBLEM + "upstream-unreachable"
    sim.come_up()


def test_an_open_circuit_keeps_its_retry_after(one_shot, headers, sim):
    _register(one_shot, headers, sim.url)
    sim.go_down()
    assert one_shot.test_client().get(RELAY + "api/rpc/FetchSessionInfo/", headers=headers).status_code == 502
    fast, slow, seen = _both_doors(one_shot, "GET", "api/rpc/FetchSessionInfo/", headers=headers)
    _same(fast, slow)
    assert fast.status_code == 503 and fast.headers["Retry-After"] == "30"
    assert fast.get_json()["type"] == PROBLEM + "circuit-open"
    sim.come_up()


def test_a_slow_server_and_a_non_json_answer_are_answered_by_the_lane(make_app, headers, sim):
    app = make_app(RETRIES=0, BREAKER_FAILURE_THRESHOLD=100)
    _register(app, headers, sim.url)
    assets = sim.data_dir / "CSWebAssets"  # type: ignore[attr-defined]
    assets.mkdir(exist_ok=True)
    (assets / "page.txt").write_text("<script>alert(1)</script>")
    fast, slow, _ = _both_doors(app, "GET", "api/asset/?routeId=page.txt", headers=headers)
    _same(fast, slow)
    assert fast.status_code == 502 and fast.get_json()["type"] == PROBLEM + "upstream-invalid-response"

    assert app.test_client().get(RELAY + "api/rpc/FetchSessionInfo/", headers=headers).status_code == 200
    sim.set_faults(latency_ms=800)
    fast, slow, _ = _both_doors(app, "GET", "api/rpc/FetchSessionInfo/", headers=headers)
    _same(fast, slow)
    assert fast.status_code == 504 and fast.get_json()["type"] == PROBLEM + "upstream-timeout"
    sim.set_faults(latency_ms=0)


def test_a_post_that_fails_upstream_is_sent_once(make_app, headers, sim):
    app = make_app(RETRIES=0, BREAKER_FAILURE_THRESHOLD=100)
    gw = app.extensions["bridge_gateway"]
    client = app.test_client()
    _register(app, headers, sim.url)
    assert client.get(RELAY + "api/rpc/FetchSessionInfo/", headers=headers).status_code == 200  # logged in
    sim.set_faults(error_rate=1.0)
    before = _upstream_total(gw)
    failed = client.post(RELAY + "api/rpc/EventLog/", json={"ID": "x"}, headers=headers)
    assert failed.status_code in (500, 503) and failed.headers["X-EBS-Status"] == str(failed.status_code)
    assert _upstream_total(gw) - before == 1
    # A POST whose answer comes too late ran on the server: it must not run a second time.
    sim.set_faults(error_rate=0, latency_ms=700)
    timed_out = client.post(RELAY + "api/rpc/EventLog/", json={"ID": "late", "Description": "once"}, headers=headers)
    assert timed_out.status_code == 504
    sim.set_faults(latency_ms=0)
    time.sleep(0.4)  # the server finishes the call the gateway gave up on
    assert _upstream_total(gw) - before == 2
    records = _records(gw)[-2:]
    assert [r.outcome for r in records] == [f"ebs/{failed.get_json()['MessageID']}", "upstream-timeout"]
    events = client.get(RELAY + "api/rpc/EventLog/", headers=headers).get_json()["Entries"]
    assert [e["Description"] for e in events] == ["once"]


def test_an_unexpected_failure_after_the_call_is_a_logged_500(
    test_client, full, headers, bridge, doors, gw, monkeypatch, caplog
):
    def broken(body: Any) -> dict[str, Any]:
        raise RuntimeError("filter broke")

    monkeypatch.setattr(relay_service, "filtered_error_body", broken)  # a fault injected after EBS answered
    before = _upstream_total(gw)
    with caplog.at_level(logging.ERROR, logger="shared.errors"):
        fast = test_client.get(RELAY + "api/rpc/FetchCompanyParam/NoSuchParam", headers=headers)
    assert doors == [] and _upstream_total(gw) - before == 2  # the login and the call, once
    assert [r.getMessage() for r in caplog.records] == ["unhandled error"]
    assert "filter broke" in caplog.text
    slow = full.get(RELAY + "api/rpc/FetchCompanyParam/NoSuchParam", headers=headers)
    _same(fast, slow)
    assert fast.status_code == 500 and fast.headers["Content-Type"] == "application/problem+json"
    assert "filter broke" not in fast.get_data(as_text=True)
    assert [r.outcome for r in _records(gw)[-2:]] == ["internal server error"] * 2


def test_audit_rows_and_metrics_are_the_same_from_either_door(test_client, full, headers, bridge, doors, gw):
    calls = [("api/rpc/FetchSessionInfo/?a=1", 200), ("api/rpc/FetchCompanyParam/NoSuchParam", 404)]
    for path, status in calls:
        fast = test_client.get(RELAY + path, headers={**headers, "X-Request-ID": "lane-1"})
        slow = full.get(RELAY + path, headers={**headers, "X-Request-ID": "full-1"})
        assert fast.status_code == slow.status_code == status
    assert len(doors) == 2
    records = _records(gw)[1:]  # after the registration's row
    columns = ("caller", "subscription_id", "bridge_id", "operation", "target", "status", "outcome")
    rows = [tuple(getattr(r, column) for column in columns) for r in records]
    found = ("GET api/rpc/FetchSessionInfo/", 200, "ok")
    missing = ("GET api/rpc/FetchCompanyParam/NoSuchParam", 404, "ebs/company-parameter-not-found")
    tenant = ("authserver", "demo", "Demo_002", "relay")
    assert rows == [(*tenant, *found), (*tenant, *found), (*tenant, *missing), (*tenant, *missing)]
    assert [r.request_id for r in records] == ["lane-1", "full-1"] * 2
    assert all(r.duration_ms >= 0 for r in records)
    text = gw.metrics.render()
    labels = 'subscription="demo",bridge="Demo_002",operation="relay"'
    assert f'bridge_gateway_calls_total{{{labels},status="200"}} 2' in text
    assert f'bridge_gateway_calls_total{{{labels},status="404"}} 2' in text
    assert f"bridge_gateway_call_duration_seconds_count{{{labels}}} 4" in text


def test_the_request_id_reaches_ebs_and_comes_back(test_client, headers, doors, gw):
    fake = FakeEbs()
    with serve(fake.wsgi) as url:
        test_client.post("/v1/bridges", json=bridge_body(url), headers=headers)
        given = test_client.get(RELAY + "api/rpc/FetchSessionInfo/", headers={**headers, "X-Request-ID": "req-77"})
        made = test_client.get(RELAY + "api/rpc/FetchSessionInfo/", headers=headers)
    assert doors == ["/v1/bridges"]  # the registration; both relayed calls took the lane
    assert given.status_code == made.status_code == 200 and given.get_json() == {"ok": True}
    assert given.headers["X-Request-ID"] == "req-77"
    sent = [r["headers"].get("X-Request-Id") for r in fake.requests if r["path"] != "/api/Login/Login"]
    assert sent == ["req-77", made.headers["X-Request-ID"]] and len(sent[1]) == 32
    assert [r.request_id for r in _records(gw)[-2:]] == sent
    assert "Authorization" in fake.requests[-1]["headers"] and headers["Authorization"] not in json.dumps(fake.requests)


def test_the_query_reaches_ebs_as_flask_passes_it(test_client, full, headers, doors):
    def echo(request: Request) -> Response:
        if request.path == "/api/Login/Login":
            return FakeEbs.default(request)
        return Response(json.dumps(request.query_string.decode()), mimetype="application/json")

    fake = FakeEbs(echo)
    query = "b=1&a=2&b=3&empty=&%CE%A4=%CE%94&plus=x+y&sp=%20"
    with serve(fake.wsgi) as url:
        test_client.post("/v1/bridges", json=bridge_body(url), headers=headers)
        fast = test_client.get(f"{RELAY}api/rpc/Echo?{query}", headers=headers)
        slow = full.get(f"{RELAY}api/rpc/Echo?{query}", headers=headers)
    assert doors == ["/v1/bridges", f"{RELAY}api/rpc/Echo"]
    _same(fast, slow)
    assert fast.get_json() == "b=1&b=3&a=2&empty=&%CE%A4=%CE%94&plus=x+y&sp=+"  # Werkzeug's grouping, kept


@pytest.mark.parametrize(
    ("body", "relayed"),
    [
        (b"[" * 100_000 + b"]" * 100_000, {"MessageID": "unknown", "UserMessage": "", "Messages": []}),
        (
            b'{"MessageID": "bad-thing", "UserMessage": "a\\ud800b \\ud83d\\ude00", "Messages": ["\\udfff", "ok"]}',
            {"MessageID": "bad-thing", "UserMessage": "a b \U0001f600", "Messages": [" ", "ok"]},
        ),
    ],
)
def test_hostile_ebs_error_bodies_are_relayed_filtered_not_failed(test_client, headers, doors, body, relayed):
    def hostile(request: Request) -> Response:
        if request.path == "/api/Login/Login":
            return FakeEbs.default(request)
        return Response(body, 401, mimetype="application/json")  # 401: the relogin check reads it too

    fake = FakeEbs(hostile)
    with serve(fake.wsgi) as url:
        test_client.post("/v1/bridges", json=bridge_body(url), headers=headers)
        response = test_client.get(RELAY + "api/rpc/Anything", headers=headers)
    assert doors == ["/v1/bridges"]
    assert response.status_code == 401 and response.headers["X-EBS-Status"] == "401"
    assert response.get_json() == relayed
