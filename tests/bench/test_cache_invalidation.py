"""The hot-path caches of a running stack let go in time when another process changes what they hold.

`cloudstore up` runs every service with a worker per core, and each worker caches clients and signing keys
for a few seconds (CLIENT_CACHE_SECONDS, SIGNING_KEY_CACHE_SECONDS: 5 by default) and the resource API keeps
the auth server's key set. A change made by the command line reaches no worker's memory directly, so these
tests check the bound itself: a rotated or deleted client is refused by every worker within it, and after a
key rotation new tokens carry the new key and the resource API fetches it on sight of its id.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest
import requests

from bench.stack.up import Up

pytestmark = pytest.mark.e2e

CACHE_SECONDS = 5.0
SLACK = 3.0  # process start-up of the command and scheduling on a busy machine
REPEATS = 12  # enough requests to reach each of the two workers of a service


@pytest.fixture(scope="module")
def stack(tmp_path_factory, module_database_url) -> Iterator[Up]:
    """One `cloudstore up` for the module; each test makes its own client."""
    up = Up(tmp_path_factory.mktemp("stack") / "var", database_url=module_database_url, workers=2)
    try:
        up.start()
        yield up
    finally:
        up.stop()


def _command(up: Up, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", *args], env=up.environment(), capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _client(up: Up) -> tuple[str, str]:
    created = json.loads(_command(up, "bench.stack.provision"))
    return created["client_id"], created["client_secret"]


def _token(up: Up, client_id: str, secret: str) -> requests.Response:
    return requests.post(
        up.urls["authserver"] + "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        timeout=5,
    )


def _kid(token: str) -> str:
    header = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]


def _within(seconds: float, check: Callable[[], bool]) -> float:
    """Poll `check` until it holds; answer how long that took, or fail after `seconds`."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, f"still not true after {seconds} s"
        time.sleep(0.1)
    return time.monotonic() - started


def _all(check: Callable[[], bool]) -> bool:
    return all(check() for _ in range(REPEATS))


def test_rotated_and_deleted_clients_are_refused_by_every_worker_within_the_cache_bound(stack):
    client_id, old_secret = _client(stack)
    assert _all(lambda: _token(stack, client_id, old_secret).status_code == 200)  # cached in both workers

    rotated = json.loads(_command(stack, "cloudstore.cli", "clients", "rotate-secret", client_id, "--json"))
    new_secret = rotated["client_secret"]
    _within(CACHE_SECONDS + SLACK, lambda: _all(lambda: _token(stack, client_id, old_secret).status_code == 401))
    _within(CACHE_SECONDS + SLACK, lambda: _all(lambda: _token(stack, client_id, new_secret).status_code == 200))
    refused = _token(stack, client_id, old_secret)
    assert refused.json()["error"] == "invalid_client"

    _command(stack, "cloudstore.cli", "clients", "delete", client_id)
    _within(CACHE_SECONDS + SLACK, lambda: _all(lambda: _token(stack, client_id, new_secret).status_code == 401))


def test_rotated_signing_key_signs_new_tokens_and_the_resource_api_fetches_it(stack):
    client_id, secret = _client(stack)
    first = _token(stack, client_id, secret).json()["access_token"]
    punch = {"employeeCode": "e1", "timestamp": "2026-11-20T08:00:00+02:00", "direction": "in"}
    body = {"deviceSerial": "CACHE-1", "deviceCode": "001", "punches": [punch]}
    posted = requests.post(
        stack.urls["resource_api"] + "/v1/attendance/punches",
        json=body,
        headers={"Authorization": f"Bearer {first}"},
        timeout=5,
    )
    assert posted.status_code == 202, posted.text  # the resource API now holds the first key set
    batch = stack.urls["resource_api"] + posted.headers["Location"]

    _command(stack, "cloudstore.cli", "keys", "rotate", "--alg", "ES256")
    fresh: list[str] = []

    def new_key_everywhere() -> bool:
        tokens = [_token(stack, client_id, secret).json()["access_token"] for _ in range(REPEATS)]
        fresh[:] = tokens
        return all(_kid(token) != _kid(first) for token in tokens)

    _within(CACHE_SECONDS + SLACK, new_key_everywhere)
    # The resource API has never seen the new key id: it refetches the key set (at most once per 5 s) and
    # accepts the token; tokens signed with the retired key stay valid until they expire.
    for token in (fresh[0], first):
        _within(
            CACHE_SECONDS + SLACK,
            lambda token=token: requests.get(batch, headers={"Authorization": f"Bearer {token}"}, timeout=5).ok,
        )


def _api_key(up: Up) -> dict[str, str]:
    """A new endpoint token made by another process, as Add Token → Allow makes one (`bench.stack.api_key`);
    it revokes the previous one of its type, as EBS keeps one key per type."""
    simulator_port = up.urls["simulator"].rsplit(":", 1)[1]
    env = {**up.authserver_environment(), "BENCH_SIMULATOR_PORT": simulator_port}
    done = subprocess.run(
        [sys.executable, "-m", "bench.stack.api_key"], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_a_key_revoked_by_another_process_is_refused_by_every_resource_api_worker_within_5_seconds(stack):
    batch = stack.urls["resource_api"] + "/v1/attendance/batches/00000000-0000-0000-0000-000000000000"

    def authenticated(key: str) -> bool:  # 404: the key was accepted, the batch is not its tenant's (nor anyone's)
        status = requests.get(batch, headers={"Authorization": f"Bearer {key}"}, timeout=5).status_code
        assert status in (401, 404), status
        return status == 404

    first = _api_key(stack)["api_key"]
    assert _all(lambda: authenticated(first))  # now cached by both resource API workers and both auth workers
    second = _api_key(stack)["api_key"]  # revokes the first in the database; no worker's cache was told
    # ENDPOINT_TOKEN_CACHE_SECONDS (1) at the auth server plus INTROSPECTION_CACHE_SECONDS (4) at the resource API.
    took = _within(5.0 + SLACK, lambda: _all(lambda: not authenticated(first)))
    assert took <= 5.0 + SLACK
    assert _all(lambda: authenticated(second))
