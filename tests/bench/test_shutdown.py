"""Stopping `cloudstore up` loses nothing the gateway queued: production workers exit without atexit.

The gateway writes its audit rows in batches (AUDIT_FLUSH_SECONDS); granian's workers end with `os._exit`,
so the rows still queued at SIGTERM are written by a multiprocessing finalizer. A flush interval longer than
the test makes every row depend on that path.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import requests
from sqlalchemy import create_engine, text

from bench.stack.scenarios import CALL, prepare
from bench.stack.up import Up

pytestmark = pytest.mark.e2e

CALLS = 15


def test_queued_audit_rows_are_written_when_the_stack_stops(tmp_path, database_url):
    extra = {"BRIDGE_GATEWAY_AUDIT_FLUSH_SECONDS": "300", "BRIDGE_GATEWAY_ALLOWED_NETWORKS": '["127.0.0.1/32"]'}
    up = Up(tmp_path / "var", database_url=database_url, workers=2, extra_env=extra)
    try:
        up.start()
        provision = [sys.executable, "-m", "bench.stack.provision"]
        created = json.loads(subprocess.run(provision, env=up.environment(), capture_output=True, check=True).stdout)
        ctx = prepare(up, created["client_id"], created["client_secret"])  # registers the demo bridge: one row
        relay = f"{up.urls['bridge_gateway']}/v1/bridges/demo/Demo_002/relay/{CALL}"
        for _ in range(CALLS):
            answer = requests.get(relay, headers={"Authorization": f"Bearer {ctx.gateway_token}"}, timeout=5)
            assert answer.status_code == 200, answer.text
    finally:
        up.stop()
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            outcomes = connection.execute(text("SELECT outcome, COUNT(*) FROM gateway_audit GROUP BY outcome")).all()
    finally:
        engine.dispose()
    # The bridge's registration and every relayed call (the outbox worker's deliveries of the punch `prepare`
    # posted add rows of their own, for a bridge the gateway does not know).
    assert dict(outcomes).get("ok") == CALLS + 1, outcomes
