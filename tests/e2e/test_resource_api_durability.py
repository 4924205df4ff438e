"""A 202 means committed: SIGKILL the resource API in the middle of ingestion and find every acknowledged punch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import requests
from sqlalchemy import create_engine, text
from werkzeug.wrappers import Request, Response

from resource_api import create_app
from shared.db import upgrade_db
from tests.e2e.conftest import free_port, wait_until_healthy
from tests.integration.bridge_gateway.gw_helpers import serve
from tests.integration.resource_api.tokens import ISSUER, TokenMint

pytestmark = pytest.mark.e2e


def _start(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        "2",
        "--worker-class",
        "gthread",
        "--threads",
        "4",
        "--bind",
        f"127.0.0.1:{port}",
        "resource_api:create_app()",
    ]
    return subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def test_every_acknowledged_punch_survives_sigkill(tmp_path, database_url):
    mint = TokenMint()

    def jwks(environ, start_response):
        body = {"keys": [mint.jwk]} if Request(environ).path == "/.well-known/jwks.json" else {}
        return Response(__import__("json").dumps(body), mimetype="application/json")(environ, start_response)

    app = create_app({"DATABASE_URL": database_url, "AUTH_SERVER_URL": "http://127.0.0.1:9"})
    with app.app_context():
        upgrade_db()
        app.extensions["sqlalchemy"].engine.dispose()

    with serve(jwks) as jwks_url:
        port = free_port()
        env = {
            **os.environ,
            "CLOUDSTORE_VAR_DIR": str(tmp_path / "var"),
            "RESOURCE_API_DATABASE_URL": database_url,
            "RESOURCE_API_AUTH_SERVER_URL": jwks_url,
            "RESOURCE_API_AUTH_ISSUER": ISSUER,
        }
        server = _start(port, env)
        url = f"http://127.0.0.1:{port}"
        wait_until_healthy(f"{url}/healthz")
        headers = {"Authorization": f"Bearer {mint.token(lifetime=600)}"}
        acknowledged: list[str] = []
        stop = threading.Event()

        def send(worker: int) -> None:
            session = requests.Session()
            number = 0
            while not stop.is_set():
                codes = [f"w{worker}-{number}-{i}" for i in range(20)]
                number += 1
                body = {
                    "deviceSerial": "ZK-1",
                    "deviceCode": "EL-1",
                    "punches": [
                        {"employeeCode": code, "timestamp": "2026-03-02T08:59:00+02:00", "direction": "in"}
                        for code in codes
                    ],
                }
                try:
                    response = session.post(f"{url}/v1/attendance/punches", json=body, headers=headers, timeout=5)
                except requests.RequestException:
                    continue
                if response.status_code == 202:
                    acknowledged.extend(codes)

        senders = [threading.Thread(target=send, args=(n,)) for n in range(4)]
        for sender in senders:
            sender.start()
        deadline = time.monotonic() + 10
        while len(acknowledged) < 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(server.pid, signal.SIGKILL)  # the master and its workers, mid-request
        server.wait()
        stop.set()
        for sender in senders:
            sender.join()

    assert len(acknowledged) >= 200
    engine = create_engine(database_url)
    with engine.connect() as connection:
        stored = {row[0] for row in connection.execute(text("SELECT employee_code FROM punches"))}
    engine.dispose()
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} acknowledged punches were lost"
