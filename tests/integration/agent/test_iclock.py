"""The clock side: the ADMS push protocol as a ZKTeco clock speaks it, over real HTTP."""

from __future__ import annotations

import pytest
import requests

from cloudstore.agent.runtime import Agent

from .conftest import SERIAL, UNLISTED_SERIAL
from .doubles import CloudDouble, Record, ZkDevice, records, wait_until


def test_handshake_answers_the_options_a_clock_expects(clock: ZkDevice):
    response = clock.handshake()

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert lines[0] == f"GET OPTION FROM: {SERIAL}"
    options = clock.options()
    assert options["ATTLOGStamp"] == "None"
    assert options["TransFlag"] == "1111000000"
    assert options["Realtime"] == "1" and options["Encrypt"] == "0"
    assert options["ErrorDelay"] == "30" and options["Delay"] == "10" and options["TransInterval"] == "1"
    assert options["TransTimes"] == "00:00;14:05"
    assert options["TimeZone"] in ("2", "3")  # Athens, winter or summer
    assert {"OPERLOGStamp", "ATTPHOTOStamp"} <= options.keys()


def test_handshake_returns_the_last_stamp_stored(clock: ZkDevice):
    clock.post_attlog(records(2))
    clock.post_attlog(records(1, start="2025-02-04 08:00:00"))

    assert clock.options()["ATTLOGStamp"] == "2"


def test_attlog_post_is_acknowledged_then_uploaded_with_direction_and_offset(clock: ZkDevice, cloud: CloudDouble):
    statuses = [Record("7", f"2025-02-03 08:0{s}:00", status=s, verify=15 if s else 1) for s in range(6)]
    oddities = [Record("7", "2025-02-03 09:00:00", status=9), Record("0042", "2025-02-03 09:01:00", workcode="12")]

    response = clock.post_attlog(statuses + oddities)

    assert response.status_code == 200
    assert response.text == "OK: 8"
    punches = sorted(cloud.wait_for(8), key=lambda p: p["timestamp"])
    assert [p["direction"] for p in punches] == ["in", "out", "break_out", "break_in", "in", "out", "unknown", "in"]
    assert punches[0] == {
        "deviceSerial": SERIAL,
        "deviceCode": "EL-1",
        "employeeCode": "7",
        "timestamp": "2025-02-03T08:00:00+02:00",
        "direction": "in",
        "verifyMode": 1,
        "workCode": None,
    }
    assert punches[1]["verifyMode"] == 15
    assert punches[-1]["employeeCode"] == "0042" and punches[-1]["workCode"] == "12"


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("2025-01-15 08:00:00", "2025-01-15T08:00:00+02:00"),
        ("2025-07-15 08:00:00", "2025-07-15T08:00:00+03:00"),
        ("2025-03-30 02:59:59", "2025-03-30T02:59:59+02:00"),  # last second of winter time
        ("2025-03-30 04:00:00", "2025-03-30T04:00:00+03:00"),  # 03:00 became 04:00
        ("2025-10-26 02:59:59", "2025-10-26T02:59:59+03:00"),
        ("2025-10-26 03:30:00", "2025-10-26T03:30:00+03:00"),  # the hour that happens twice: the first one
        ("2025-10-26 04:00:00", "2025-10-26T04:00:00+02:00"),
    ],
)
def test_local_time_gets_the_offset_of_the_clocks_zone_across_dst(
    clock: ZkDevice, cloud: CloudDouble, local: str, expected: str
):
    assert clock.post_attlog([Record("1", local)]).text == "OK: 1"

    assert cloud.wait_for(1)[0]["timestamp"] == expected


def test_unlisted_clock_uses_its_serial_and_the_default_zone(agent: Agent, cloud: CloudDouble):
    device = ZkDevice(agent.url, UNLISTED_SERIAL)
    try:
        assert device.post_attlog([Record("5", "2025-07-01 12:00:00")]).text == "OK: 1"
    finally:
        device.close()

    [punch] = cloud.wait_for(1)
    assert punch["deviceSerial"] == punch["deviceCode"] == UNLISTED_SERIAL
    assert punch["timestamp"] == "2025-07-01T12:00:00+00:00"


def test_resent_records_are_not_duplicated(clock: ZkDevice, cloud: CloudDouble, agent: Agent):
    batch = records(5)
    assert clock.post_attlog(batch).text == "OK: 5"
    cloud.wait_for(5)

    assert clock.post_attlog(batch + records(1, start="2025-02-03 12:00:00")).text == "OK: 6"

    cloud.wait_for(6)
    wait_until(lambda: agent.spool.counts()["uploaded"] == 6, what="the uploads to be acknowledged")
    assert agent.spool.counts() == {"pending": 0, "uploaded": 6, "rejected": 0}
    sent = [p for b in cloud.batches for p in b["body"]["punches"]]
    assert len(sent) == 6, "a re-sent record must not be uploaded again"
    assert agent.spool.devices()[0].punches_received == 6


def test_unreadable_lines_are_skipped_and_not_counted(clock: ZkDevice, cloud: CloudDouble):
    body = "1\t2025-02-03 08:00:00\t0\t1\t0\nrubbish\n2\tyesterday\t0\t1\t0\n\n"

    response = clock.post_table("ATTLOG", body)

    assert response.text == "OK: 1"
    assert len(cloud.wait_for(1)) == 1


def test_polling_other_tables_and_command_reports_answer_ok(clock: ZkDevice, agent: Agent):
    assert clock.poll().text == "OK"
    assert clock.post_table("OPERLOG", "OPLOG 4\t0\t2025-02-03 08:00:00\t0\t0\t0\t0\n").text == "OK"
    assert clock.post_table("ATTPHOTO", "PIN=1\nSN=x\nsize=3\nCMD=uploadphoto\n").text == "OK"
    assert clock.report_command().text == "OK"

    [device] = agent.spool.devices()
    assert (device.serial, device.ip, device.punches_received) == (SERIAL, "127.0.0.1", 0)
    assert device.last_seen is not None


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/iclock/cdata", 400),  # no SN
        ("/iclock/cdata?SN=bad%20serial", 400),
        ("/iclock/nothing?SN=X1", 404),
    ],
)
def test_requests_a_clock_would_not_send_are_refused(agent: Agent, path: str, status: int):
    assert requests.get(agent.url + path, timeout=5).status_code == status
    assert agent.spool.devices() == []


def test_legacy_aspx_paths_work(agent: Agent):
    response = requests.get(f"{agent.url}/iclock/getrequest.aspx", params={"SN": "OLD1"}, timeout=5)

    assert response.text == "OK"
    assert [d.serial for d in agent.spool.devices()] == ["OLD1"]
