"""`cloudstore agent run` as a real process: SIGKILL and restart, SIGTERM, and a refused key, with its output."""

from __future__ import annotations

import os
from collections.abc import Callable

from click.testing import Result

from .conftest import SERIAL, AgentProcess
from .doubles import CloudDouble, ZkDevice, records, wait_until


def test_killed_with_a_full_spool_and_restarted_delivers_everything_exactly_once(
    agent_process: Callable[..., AgentProcess], cloud: CloudDouble, cli: Callable[..., Result]
):
    sent = records(120)
    cloud.mode = "unavailable"
    first = agent_process(batch_size=25).start()
    clock = ZkDevice(first.url, SERIAL)
    try:
        for chunk in range(0, 120, 40):
            assert clock.post_attlog(sent[chunk : chunk + 40]).text == "OK: 40"
        first.kill()  # every record was acknowledged to the clock, none uploaded
        assert cloud.batches == []

        cloud.mode, cloud.answer_delay = "ok", 2.0
        second = agent_process(batch_size=25).start()
        wait_until(lambda: len(cloud.batches) == 1, what="a first committed batch")
        second.kill()  # the cloud committed, the agent never heard the answer
        lost_key = cloud.batches[0]["idempotency_key"]

        cloud.answer_delay = 0.0
        agent_process(batch_size=25).start()
        assert clock.post_attlog(sent[-10:]).text == "OK: 10"  # a clock re-sending its last records
        cloud.wait_for(120)
        wait_until(lambda: "pending:      0" in cli("status").output, what="an empty spool")
    finally:
        clock.close()

    assert len(cloud.punches()) == 120
    assert cloud.accepted_total() == 120, "each punch is accepted once"
    resent = [b for b in cloud.batches if b["idempotency_key"] == lost_key]
    assert len(resent) == 2 and resent[1]["answer"]["duplicates"] == 25
    assert "uploaded:     120" in cli("status").output


def test_sigterm_stops_cleanly(agent_process: Callable[..., AgentProcess], cloud: CloudDouble):
    process = agent_process().start()
    clock = ZkDevice(process.url, SERIAL)
    try:
        assert clock.post_attlog(records(3)).text == "OK: 3"
        cloud.wait_for(3)
    finally:
        clock.close()

    assert process.terminate() == 0
    assert "received SIGTERM, stopping" in process.output()
    assert "agent stopped" in process.output()


def test_a_refused_key_stops_uploads_and_never_appears_in_output(
    agent_process: Callable[..., AgentProcess], cloud: CloudDouble, cli: Callable[..., Result], api_key: str
):
    revoked = "csk_" + os.urandom(24).hex()
    process = agent_process(key=revoked).start()
    clock = ZkDevice(process.url, SERIAL)
    try:
        assert clock.post_attlog(records(4)).text == "OK: 4"
        wait_until(lambda: "STOPPED" in cli("status").output, what="status to show the stop")
        assert clock.post_attlog(records(2, start="2025-02-04 08:00:00")).text == "OK: 2"
        status = cli("status").output
        assert process.terminate() == 0
    finally:
        clock.close()

    output = process.output()
    assert len(cloud.requests) == 1 and cloud.punches() == []
    assert "pending:      6" in status and "HTTP 401" in status and 'error="invalid_token"' in status
    assert "refused the API key (sha256:" in output
    for text in (output, status, cli("devices").output, cli("rejected").output):
        assert revoked not in text and revoked[4:20] not in text
    assert api_key not in output
