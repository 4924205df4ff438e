"""The scenarios of the stack benchmark: what each sends, to which service, and what a request is worth."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from urllib.parse import urlencode

import requests

from bench.stack.up import Up
from bench.stack.wrk import Request

__all__ = ["Context", "Scenario", "prepare", "scenarios"]

BATCH = 1000
ACTIVE = '"active":%s*true'  # an introspection answer that says the token works (200 also says inactive)
CALL = "api/rpc/FetchSessionInfo/"
DEMO_BRIDGE = {
    "subscriptionId": "demo",
    "bridgeId": "Demo_002",
    "subscriptionGid": "3f2b8c1e-0000-4000-8000-000000000001",
    "subscriptionPassword": "DemoSub#2024",
    "scheme": "http",
    "host": "127.0.0.1",
    "databaseId": "DEMO",
    "companyId": "002",
}

# Each request posts punches no earlier request posted (employee codes unique per run, wrk start, thread and
# request), so every one is committed rather than counted as a duplicate.
_PUNCHES_LUA = """
counter = 0
started = nil
function request()
  if started == nil then started = os.time() end
  counter = counter + 1
  local parts = {}
  for i = 1, %(batch)d do
    parts[i] = string.format('{"employeeCode":"%(run)s-%%d-%%d-%%d-%%d","timestamp":"2026-11-20T08:00:00+02:00",' ..
      '"direction":"in"}', started, tid, counter, i)
  end
  local body = '{"deviceSerial":"BENCH-1","deviceCode":"001","punches":[' .. table.concat(parts, ",") .. ']}'
  return wrk.format("POST", nil, nil, body)
end
"""


@dataclass(frozen=True)
class Context:
    """Credentials and ids the scenarios use, taken from the running stack."""

    up: Up
    client_id: str
    client_secret: str
    introspector: tuple[str, str]
    jwt: str
    batch_id: str
    gateway_token: str
    simulator_token: str
    api_key: str | None = None  # a Time Attendance endpoint token's key (`bench.stack.api_key`)
    api_key_batch_id: str | None = None  # a batch the key posted, read back by the API-key row

    def key(self) -> str:
        """The endpoint token's key; the API-key rows cannot run without one."""
        if not self.api_key:
            raise RuntimeError("no endpoint token was provisioned for the API-key rows")
        return self.api_key


@dataclass(frozen=True)
class Scenario:
    """One row of the table: `services` are the processes whose CPU it counts, `units` how many items one
    request carries (punches per batch)."""

    name: str
    build: Callable[[Context], Request] | None
    services: tuple[str, ...] = ("authserver",)
    connections: int = 16
    units: int = 1
    unit_name: str = "req"
    pending: str = ""
    min_seconds: float = 1.0  # long enough for several requests even in a quick run


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def _form(url: str, auth: str, fields: dict[str, str], expect: str = "") -> Request:
    headers = {"Authorization": auth, "Content-Type": "application/x-www-form-urlencoded"}
    return Request(url, method="POST", headers=headers, body=urlencode(fields), expect=expect)


def _token(ctx: Context) -> Request:
    url = ctx.up.urls["authserver"] + "/oauth/token"
    return _form(url, _basic(ctx.client_id, ctx.client_secret), {"grant_type": "client_credentials"})


def _introspect_jwt(ctx: Context) -> Request:
    url = ctx.up.urls["authserver"] + "/oauth/introspect"
    return _form(url, _basic(*ctx.introspector), {"token": ctx.jwt, "token_type_hint": "access_token"}, ACTIVE)


def _introspect_api_key(ctx: Context) -> Request:
    url = ctx.up.urls["authserver"] + "/oauth/introspect"
    return _form(url, _basic(*ctx.introspector), {"token": ctx.key(), "token_type_hint": "api_key"}, ACTIVE)


def _resource_jwt(ctx: Context) -> Request:
    url = f"{ctx.up.urls['resource_api']}/v1/attendance/batches/{ctx.batch_id}"
    return Request(url, headers={"Authorization": f"Bearer {ctx.jwt}"})


def _resource_api_key(ctx: Context) -> Request:
    """The JWT row's route (read back a one-punch batch), authenticated by the key as a clock agent sends it."""
    url = f"{ctx.up.urls['resource_api']}/v1/attendance/batches/{ctx.api_key_batch_id}"
    return Request(url, headers={"Authorization": f"Bearer {ctx.key()}"})


def _punches(batch: int) -> Callable[[Context], Request]:
    def build(ctx: Context) -> Request:
        headers = {"Authorization": f"Bearer {ctx.jwt}", "Content-Type": "application/json"}
        lua = _PUNCHES_LUA % {"batch": batch, "run": uuid.uuid4().hex[:8]}
        return Request(f"{ctx.up.urls['resource_api']}/v1/attendance/punches", "POST", headers, lua=lua)

    return build


def _paced(build: Callable[[Context], Request], *, pause_ms: int) -> Callable[[Context], Request]:
    """The same requests, each connection pausing `pause_ms` after every answer (wrk's `delay()`): the latency
    at a given load rather than at saturation, where every row's p99 is queueing on two shared cores."""

    def paced(ctx: Context) -> Request:
        return replace(build(ctx), lua=f"function delay() return {pause_ms} end\n")

    return paced


def _direct(ctx: Context) -> Request:
    """`GET api/rpc/FetchSessionInfo/` on the simulator, with a WebApiToken of the bridge's service user."""
    return Request(f"{ctx.up.urls['simulator']}/{CALL}", headers={"Authorization": f"Bearer {ctx.simulator_token}"})


def _relay(ctx: Context) -> Request:
    """The same EBS call through the gateway's relay, as the services make it (a gateway:relay service token)."""
    url = f"{ctx.up.urls['bridge_gateway']}/v1/bridges/demo/Demo_002/relay/{CALL}"
    return Request(url, headers={"Authorization": f"Bearer {ctx.gateway_token}"})


def scenarios() -> list[Scenario]:
    """Every row, in the order of the table."""
    return [
        Scenario("client credentials (JWT)", _token),
        # The target is 4,000 grants/s with p99 <= 20 ms: 64 connections, each pausing 15 ms after an answer,
        # offer about 4,000/s while an answer takes about a millisecond (the row prints the rate reached).
        Scenario("client credentials, paced", _paced(_token, pause_ms=15), connections=64),
        Scenario("introspect API key", _introspect_api_key),
        Scenario("resource call, API key", _resource_api_key, ("resource_api",)),
        Scenario("introspect JWT", _introspect_jwt),
        Scenario("resource call, JWT", _resource_jwt, ("resource_api",)),
        # The EBS rows measure the latency the gateway adds to an EBS call (≤ 1 ms p50, ≤ 5 ms p99), so they run
        # at one connection, where the simulator (one threaded process) is never saturated: relay minus direct is
        # then the gateway's own time. At 16 connections the simulator was the bottleneck, and the difference
        # mostly measured queueing behind it on two cores shared with wrk. Same call, path and headers as before.
        Scenario("EBS call, direct", _direct, ("simulator",), connections=1),
        Scenario("EBS call, gateway relay", _relay, ("bridge_gateway", "simulator"), connections=1),
        Scenario("punches, 1 per request", _punches(1), ("resource_api",), unit_name="punch"),
        Scenario(
            "punches, 1,000 per batch",
            _punches(BATCH),
            ("resource_api",),
            connections=4,
            units=BATCH,
            unit_name="punch",
            min_seconds=3.0,
        ),
    ]


def _client_token(token_url: str, client_id: str, secret: str, **fields: str) -> str:
    response = requests.post(
        token_url, data={"grant_type": "client_credentials", **fields}, auth=(client_id, secret), timeout=10
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def _one_punch_batch(up: Up, bearer: str) -> str:
    """Post a batch of one punch with this credential and answer its id (committed: answered 202)."""
    punch = {"employeeCode": "bench", "timestamp": "2026-11-20T08:00:00+02:00", "direction": "in"}
    batch = {"deviceSerial": "BENCH-1", "deviceCode": "001", "punches": [punch]}
    headers = {"Authorization": f"Bearer {bearer}"}
    answer = requests.post(f"{up.urls['resource_api']}/v1/attendance/punches", json=batch, headers=headers, timeout=10)
    answer.raise_for_status()
    return str(answer.json()["batchId"])


def prepare(up: Up, client_id: str, client_secret: str, api_key: str | None = None) -> Context:
    """Fresh tokens, a committed batch to read back (one per credential: each reads its own tenant's), and the
    demo bridge registered at the gateway."""
    token_url = up.urls["authserver"] + "/oauth/token"
    jwt = _client_token(token_url, client_id, client_secret)
    batch_id = _one_punch_batch(up, jwt)
    api_key_batch_id = _one_punch_batch(up, api_key) if api_key else None
    gateway_token = _client_token(token_url, *up.internal_client("authserver"))
    bridge = {**DEMO_BRIDGE, "port": int(up.urls["simulator"].rsplit(":", 1)[1])}
    registered = requests.post(
        f"{up.urls['bridge_gateway']}/v1/bridges",
        json=bridge,
        headers={"Authorization": f"Bearer {gateway_token}"},
        timeout=10,
    )
    if registered.status_code not in (200, 201, 409):
        registered.raise_for_status()
    login = {
        "SubscriptionID": "demo",
        "SubscriptionPassword": DEMO_BRIDGE["subscriptionPassword"],
        "BridgeID": "Demo_002",
    }
    session = requests.post(f"{up.urls['simulator']}/api/Login/Login", json=login, timeout=10)
    session.raise_for_status()
    return Context(
        up=up,
        client_id=client_id,
        client_secret=client_secret,
        introspector=up.internal_client("resource_api"),
        jwt=jwt,
        batch_id=batch_id,
        gateway_token=gateway_token,
        simulator_token=str(session.json()["Model"]["WebApiToken"]),
        api_key=api_key,
        api_key_batch_id=api_key_batch_id,
    )
