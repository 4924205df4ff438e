"""Three `cloudstore worker` processes share one PostgreSQL outbox: every punch reaches the simulator's payroll,
through the real gateway, exactly once and in order per device."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text

from authserver import create_app as create_authserver
from resource_api import create_app as create_resource_api
from resource_api.attendance.service import ingest_punches
from resource_api.extensions import db as resource_db
from resource_api.outbox.gateway import IMPORT_PUNCHES
from shared.db import upgrade_db
from shared.secrets import Encryptor, random_token
from shared.service_auth import ServiceTokenClient
from tests.integration.bridge_gateway.gw_helpers import bridge_body
from tests.stack import LateApp, bootstrap_auth_server, dispose, running_simulator, served, served_gateway

pytestmark = pytest.mark.e2e

WORKERS = 3
DEVICES = 4
EMPLOYEES = ("1001", "1002", "1003", "1004")  # payroll's employees of the demo bridge (config/simulator.toml)
START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
DELIVERED = re.compile(r"outbox: delivered (\d+), rejected (\d+), deferred (\d+)")


@pytest.fixture
def postgres(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip(
            "several workers need PostgreSQL (advisory locks per device); SQLite serialises writers and runs one "
            "worker — set DATABASE_URL to a PostgreSQL server to run this test"
        )
    return database_url


@pytest.fixture
def services(postgres: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The auth server, the gateway and the simulator on free ports; the demo bridge registered."""
    late = LateApp()
    with ExitStack() as parts:
        simulator = parts.enter_context(running_simulator(tmp_path / "sim", control=False))
        simulator.set_faults(latency_ms=20)  # slow enough that the workers' passes overlap
        auth_url = parts.enter_context(served(late))
        auth_settings = {
            "DATABASE_URL": postgres,
            "ISSUER": auth_url,
            "SECRET_KEY": random_token(),
            "ENCRYPTION_KEYS": Encryptor.generate_key(),
        }
        portal, outbox = bootstrap_auth_server(
            auth_settings,
            ("authserver (internal)", "gateway:bridges", "bridge_gateway"),
            ("resource_api (internal)", "gateway:relay", "bridge_gateway"),
        )
        late.app = auth_app = create_authserver(auth_settings)
        parts.callback(dispose, auth_app)
        gateway_settings = {
            "DATABASE_URL": postgres,
            "AUTH_SERVER_URL": auth_url,
            "ENCRYPTION_KEYS": Encryptor.generate_key(),
            "ALLOWED_NETWORKS": ["127.0.0.1/32"],
            "RETRIES": 0,
        }
        _, gateway_url = parts.enter_context(served_gateway(gateway_settings))
        token_url = f"{auth_url}/oauth/token"
        bridges = ServiceTokenClient(
            token_url, portal.client.client_id, portal.client_secret, "gateway:bridges", "bridge_gateway"
        )
        parts.callback(bridges.close)
        relay = ServiceTokenClient(
            token_url, outbox.client.client_id, outbox.client_secret, "gateway:relay", "bridge_gateway"
        )
        parts.callback(relay.close)
        registered = requests.post(
            f"{gateway_url}/v1/bridges", json=bridge_body(simulator.url), auth=bridges, timeout=10
        )
        assert registered.status_code == 201, registered.text
        yield {
            "auth_url": auth_url,
            "gateway_url": gateway_url,
            "client_id": outbox.client.client_id,
            "client_secret": outbox.client_secret,
            "relay": relay,
        }


def _ingest(app: Any, device: int, first: int, count: int) -> None:
    """Commit `count` punches of one clock, as the attendance API does once it answers 202."""
    punches = [
        {
            "employeeCode": EMPLOYEES[n % len(EMPLOYEES)],
            "timestamp": START + timedelta(minutes=n),
            "direction": "in" if n % 2 == 0 else "out",
        }
        for n in range(first, first + count)
    ]
    with app.app_context():
        ingest_punches(
            session=resource_db.session,
            subscription_id="demo",
            bridge_id="Demo_002",
            device_serial=f"ZK-{device}",
            device_code=f"EL-{device}",
            punches=punches,
        )
        resource_db.session.remove()


def _start_worker(index: int, env: dict[str, str], logs: Path) -> tuple[subprocess.Popen[bytes], Path]:
    log = logs / f"worker-{index}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(  # noqa: S603 - our own command
            [sys.executable, "-m", "cloudstore.cli", "worker"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process, log


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_three_workers_deliver_every_punch_once_in_order(postgres, services, tmp_path):
    resource_app = create_resource_api({"DATABASE_URL": postgres, "AUTH_SERVER_URL": services["auth_url"]})
    with resource_app.app_context():
        upgrade_db()
    for device in range(DEVICES):
        _ingest(resource_app, device, 0, 60)

    env = {
        **os.environ,
        "CLOUDSTORE_VAR_DIR": str(tmp_path / "var"),
        "RESOURCE_API_DATABASE_URL": postgres,
        "RESOURCE_API_AUTH_SERVER_URL": services["auth_url"],
        "RESOURCE_API_GATEWAY_URL": services["gateway_url"],
        "RESOURCE_API_CLIENT_ID": services["client_id"],
        "RESOURCE_API_CLIENT_SECRET": services["client_secret"],
        "RESOURCE_API_OUTBOX_BATCH_SIZE": "7",  # many small passes, so that the workers interleave on each device
        "RESOURCE_API_OUTBOX_IDLE_SECONDS": "0.1",
    }
    env.pop("DATABASE_URL", None)
    workers = [_start_worker(n, env, tmp_path) for n in range(WORKERS)]
    engine = create_engine(postgres)
    try:
        for device in range(DEVICES):  # more punches arrive while the workers run
            _ingest(resource_app, device, 60, 25)
        total = DEVICES * 85
        deadline = time.monotonic() + 120
        while True:
            with engine.connect() as connection:
                states = dict(connection.execute(text("SELECT state, count(*) FROM punches GROUP BY state")).all())
            if states.get("delivered") == total or time.monotonic() > deadline:
                break
            assert all(process.poll() is None for process, _ in workers), "a worker died"
            time.sleep(0.3)
        assert states == {"delivered": total}, states
    finally:
        for process, _ in workers:
            _stop(process)
        with resource_app.app_context():
            resource_db.engine.dispose()

    with engine.connect() as connection:
        ours = connection.execute(text("SELECT device_code, employee_code, local_time FROM punches ORDER BY id")).all()
    engine.dispose()

    arrived = requests.post(
        f"{services['gateway_url']}/v1/bridges/demo/Demo_002/relay/{IMPORT_PUNCHES.replace('Import', 'List')}",
        json={},
        auth=services["relay"],
        timeout=10,
    )
    assert arrived.status_code == 200, arrived.text
    payroll = arrived.json()["Punches"]
    ids = Counter(p["PunchID"] for p in payroll)
    assert len(payroll) == total and max(ids.values()) == 1, "every punch arrived, each once"
    for device in range(DEVICES):
        code = f"EL-{device}"
        sent = [(e, t) for c, e, t in ours if c == code]
        received = [(p["EmployeeCode"], p["Timestamp"]) for p in payroll if p["DeviceCode"] == code]
        assert received == sent, f"{code} arrived out of order"

    # The workers' own reports: together they delivered each punch once (a punch sent twice would count twice,
    # answered `duplicate` by payroll), and the work was shared.
    per_worker = [sum(int(m[1]) for m in DELIVERED.finditer(log.read_text())) for _, log in workers]
    assert sum(per_worker) == total, per_worker
    assert sum(1 for count in per_worker if count) >= 2, f"one worker did everything: {per_worker}"
