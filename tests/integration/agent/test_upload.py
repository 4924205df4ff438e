"""The cloud side: batches, retries, and each answer of the punches contract, against the cloud double."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from cloudstore.agent.config import AgentConfig
from cloudstore.agent.runtime import Agent
from cloudstore.agent.spool import Spool
from cloudstore.agent.uploader import Uploader

from .conftest import SERIAL, UNLISTED_SERIAL
from .doubles import CloudDouble, Record, ZkDevice, records, wait_until


def _meta(agent: Agent) -> dict[str, str]:
    return agent.spool.meta()


def test_cloud_down_then_up_delivers_everything_exactly_once(clock: ZkDevice, cloud: CloudDouble, agent: Agent):
    cloud.stop()
    for day in range(3, 6):
        assert clock.post_attlog(records(10, start=f"2025-02-0{day} 08:00:00")).text == "OK: 10"
    wait_until(lambda: "ConnectionError calling" in _meta(agent).get("last_error", ""), what="a connection error")
    cloud.mode = "unavailable"
    cloud.start()
    wait_until(lambda: len(cloud.requests) >= 2, what="retries answered 503")
    assert agent.spool.counts()["pending"] == 30

    cloud.mode = "ok"

    assert len(cloud.wait_for(30)) == 30
    wait_until(lambda: agent.spool.counts()["pending"] == 0, what="the spool to drain")
    assert cloud.accepted_total() == 30
    assert agent.spool.counts() == {"pending": 0, "uploaded": 30, "rejected": 0}


def test_a_lost_answer_is_retried_with_the_same_idempotency_key(clock: ZkDevice, cloud: CloudDouble, agent: Agent):
    cloud.mode = "lose_answer"
    clock.post_attlog(records(4))
    wait_until(lambda: len(cloud.batches) >= 1, what="a committed batch")

    cloud.mode = "ok"

    wait_until(lambda: agent.spool.counts()["uploaded"] == 4, what="the retry to be acknowledged")
    first, *retries = cloud.batches
    assert first["answer"]["accepted"] == 4
    assert retries and all(b["idempotency_key"] == first["idempotency_key"] for b in retries)
    assert retries[-1]["answer"] == {**retries[-1]["answer"], "accepted": 0, "duplicates": 4}
    assert len(cloud.punches()) == 4


def test_batch_size_is_honoured_in_spool_order(start_agent: Callable[..., Agent], cloud: CloudDouble):
    agent = start_agent(batch_size=7)
    clock = ZkDevice(agent.url, SERIAL)
    sent = records(30)
    try:
        assert clock.post_attlog(sent).text == "OK: 30"
    finally:
        clock.close()

    cloud.wait_for(30)
    sizes = [len(b["body"]["punches"]) for b in cloud.batches]
    assert sizes == [7, 7, 7, 7, 2]
    uploaded = [p["timestamp"][:19].replace("T", " ") for b in cloud.batches for p in b["body"]["punches"]]
    assert uploaded == [r.time for r in sent]
    assert len({b["idempotency_key"] for b in cloud.batches}) == 5


def test_each_batch_carries_one_device(agent: Agent, cloud: CloudDouble):
    devices = [ZkDevice(agent.url, SERIAL), ZkDevice(agent.url, UNLISTED_SERIAL)]
    try:
        for device in devices:
            assert device.post_attlog(records(3)).text == "OK: 3"
    finally:
        for device in devices:
            device.close()

    cloud.wait_for(6)
    assert len(cloud.batches) == 2
    assert {b["body"]["deviceSerial"]: b["body"]["deviceCode"] for b in cloud.batches} == {
        SERIAL: "EL-1",
        UNLISTED_SERIAL: UNLISTED_SERIAL,
    }


def test_422_on_one_punch_rejects_it_and_delivers_the_rest(clock: ZkDevice, cloud: CloudDouble, agent: Agent):
    sent = records(5)
    bad = sent[2]
    cloud.reject.add((bad.pin, f"{bad.time.replace(' ', 'T')}+02:00"))

    assert clock.post_attlog(sent).text == "OK: 5"

    delivered = cloud.wait_for(4)
    wait_until(lambda: agent.spool.counts()["uploaded"] == 4, what="the rest to be acknowledged")
    assert bad.time.replace(" ", "T") not in {p["timestamp"][:19] for p in delivered}
    assert agent.spool.counts() == {"pending": 0, "uploaded": 4, "rejected": 1}
    [rejected] = agent.spool.rejected()
    assert (rejected.punch.employee_code, rejected.punch.local_time) == (bad.pin, bad.time)
    assert "Unknown employee" in rejected.error


def test_401_stops_uploading_keeps_spooling_and_never_logs_the_key(
    clock: ZkDevice, cloud: CloudDouble, agent: Agent, api_key: str, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    cloud.mode = "unauthorized"

    assert clock.post_attlog(records(3)).text == "OK: 3"
    wait_until(lambda: agent.uploader.halted, what="the uploader to stop")
    assert clock.post_attlog(records(2, start="2025-02-04 08:00:00")).text == "OK: 2"
    cloud.mode = "ok"
    agent.uploader.wake()
    time.sleep(0.3)  # room for an upload that must not happen

    assert len(cloud.requests) == 1, "no upload after the key was refused"
    assert agent.spool.counts()["pending"] == 5
    meta = _meta(agent)
    assert meta["halted"] == "1" and "HTTP 401" in meta["last_error"]
    assert "invalid_token" in meta["last_error"]
    assert api_key not in caplog.text and api_key not in str(meta)
    assert "refused the API key" in caplog.text and agent.config.api_key_fingerprint in caplog.text
    assert api_key not in repr(agent.config)


def test_a_new_punch_is_uploaded_at_once_not_after_the_interval(start_agent: Callable[..., Agent], cloud: CloudDouble):
    agent = start_agent(upload_interval=60)
    clock = ZkDevice(agent.url, SERIAL)
    try:
        clock.post_attlog([Record("1", "2025-02-03 08:00:00")])
        cloud.wait_for(1, timeout=5)
    finally:
        clock.close()


def test_backoff_doubles_with_jitter_up_to_the_cap_and_honours_retry_after(tmp_path: Path, config: AgentConfig):
    spool = Spool(tmp_path / "backoff")
    uploader = Uploader(spool=spool, config=replace(config, retry_initial=1.0, retry_max=8.0))
    try:
        for attempt, cap in [(0, 1.0), (1, 2.0), (2, 4.0), (3, 8.0), (10, 8.0)]:
            delays = {uploader.backoff(attempt) for _ in range(20)}
            assert all(cap / 2 <= d <= cap for d in delays) and len(delays) > 1
        assert uploader.backoff(0, retry_after=5) == 5
        assert uploader.backoff(0, retry_after=3600) == 8.0
    finally:
        uploader.session.close()
        spool.close()
