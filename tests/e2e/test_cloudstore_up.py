"""`cloudstore up` as a real process: four healthy services, discovery, and a clean stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from tests.e2e.conftest import free_ports, processes_with_env, wait_until_healthy

pytestmark = pytest.mark.e2e


def test_up_serves_all_services_and_stops_cleanly(tmp_path, database_url):
    auth, resource, gateway, simulator = free_ports(4)
    var = tmp_path / "up-var"
    env = {**os.environ, "CLOUDSTORE_VAR_DIR": str(var), "DATABASE_URL": database_url}
    argv = [
        sys.executable,
        "-m",
        "cloudstore.cli",
        "up",
        "--workers",
        "2",
        "--auth-port",
        str(auth),
        "--resource-port",
        str(resource),
        "--gateway-port",
        str(gateway),
        "--simulator-port",
        str(simulator),
    ]
    with (tmp_path / "up.log").open("w") as log:
        process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        for port, path in (
            (auth, "/healthz"),
            (resource, "/healthz"),
            (gateway, "/healthz"),
            (simulator, "/_sim/healthz"),
        ):
            wait_until_healthy(f"http://127.0.0.1:{port}{path}")
        for port in (auth, resource, gateway):
            assert requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5).json() == {"status": "ready"}

        discovery = requests.get(f"http://127.0.0.1:{auth}/.well-known/openid-configuration", timeout=5).json()
        assert discovery["issuer"] == f"http://127.0.0.1:{auth}"
        jwks = requests.get(discovery["jwks_uri"], timeout=5).json()
        assert {key["alg"] for key in jwks["keys"]} == {"ES256", "RS256"}

        # The services' own clients were provisioned: the resource API can get a token for the gateway.
        credentials = json.loads((var / "secrets" / "internal-clients.json").read_text())["resource_api"]
        token = requests.post(
            f"http://127.0.0.1:{auth}/oauth/token",
            timeout=5,
            data={"grant_type": "client_credentials", "scope": "gateway:relay"},
            auth=(credentials["client_id"], credentials["client_secret"]),
        )
        assert token.status_code == 200, token.text
        relay = requests.get(
            f"http://127.0.0.1:{gateway}/v1/bridges/demo/Demo_002/relay/api/rpc/FetchSessionInfo/",
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            timeout=5,
        )
        assert relay.status_code == 404, relay.text  # authorised; the bridge is simply not registered yet

        deadline = time.monotonic() + 30
        while "Press Ctrl-C" not in (tmp_path / "up.log").read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        output = (tmp_path / "up.log").read_text()
        assert "Demo_002" in output and f"http://127.0.0.1:{simulator}" in output
        assert len(processes_with_env(str(var))) >= 5  # the command, 3 gunicorn masters + workers, simulator
    finally:
        process.send_signal(signal.SIGTERM)
        exit_code = process.wait(timeout=30)
    assert exit_code == 0, (tmp_path / "up.log").read_text()[-3000:]
    deadline = time.monotonic() + 10
    while processes_with_env(str(var)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_with_env(str(var)) == [], "processes left behind after stop"
    for port in (auth, resource, gateway, simulator):
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
