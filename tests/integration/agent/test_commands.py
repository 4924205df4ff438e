"""`cloudstore agent import | devices | status | rejected`, run as a user would."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from cloudstore.agent.runtime import Agent

from .conftest import SERIAL, UNLISTED_SERIAL
from .doubles import CloudDouble, Record, ZkDevice, records, wait_until

ATTLOG = "".join(
    r.line() + "\n" for r in [Record("12", "2025-03-30 02:30:00", 0), Record("12", "2025-03-30 17:05:00", 1, 15)]
)
CSV = """employeeCode,timestamp,direction,deviceSerial
12,2025-07-01 08:00:00,in,CQZ7233360001
12,2025-07-01T17:00:00,1,CQZ7233360001
30,2025-07-01 09:00:00+00:00,break_out,BOCK200960123
"""


def test_import_attlog_spools_then_uploads(
    tmp_path: Path, cli: Callable[..., Result], cloud: CloudDouble, api_key: str
):
    path = tmp_path / "1_attlog.dat"
    path.write_text(ATTLOG)

    spooled = cli("import", str(path), "--device", SERIAL)
    again = cli("import", str(path), "--device", SERIAL, "--upload", env={"CLOUDSTORE_AGENT_API_KEY": api_key})

    assert spooled.exit_code == 0 and "spooled 2 new punch(es)" in spooled.output
    assert again.exit_code == 0, again.output
    assert "spooled 0 new punch(es) from 1_attlog.dat; 2 already held" in again.output
    assert "uploaded; 0 pending" in again.output
    assert sorted((p["timestamp"], p["direction"], p["verifyMode"]) for p in cloud.punches()) == [
        ("2025-03-30T02:30:00+02:00", "in", 1),
        ("2025-03-30T17:05:00+03:00", "out", 15),
    ]


def test_import_csv_uses_each_rows_device(tmp_path: Path, cli: Callable[..., Result], cloud: CloudDouble, api_key: str):
    path = tmp_path / "punches.csv"
    path.write_text(CSV)

    result = cli("import", str(path), "--upload", env={"CLOUDSTORE_AGENT_API_KEY": api_key})

    assert result.exit_code == 0, result.output
    assert "spooled 3 new punch(es)" in result.output
    got = sorted((p["deviceCode"], p["employeeCode"], p["timestamp"], p["direction"]) for p in cloud.punches())
    assert got == [
        (UNLISTED_SERIAL, "30", "2025-07-01T09:00:00+00:00", "break_out"),
        ("EL-1", "12", "2025-07-01T08:00:00+03:00", "in"),
        ("EL-1", "12", "2025-07-01T17:00:00+03:00", "out"),
    ]


def test_import_of_a_bad_file_imports_nothing(tmp_path: Path, cli: Callable[..., Result]):
    path = tmp_path / "bad.csv"
    path.write_text(
        "employeeCode,timestamp,direction\n1,2025-07-01 08:00:00,in\n2,not a time,in\n3,2025-07-01 08:00:00,sideways\n"
    )

    result = cli("import", str(path), "--device", SERIAL)

    assert result.exit_code == 1
    assert "line 3: bad timestamp" in result.output and "line 4: bad direction" in result.output
    assert "2 unreadable line(s); nothing imported" in result.output
    assert "pending:      0" in cli("status").output


def test_import_attlog_needs_a_device(tmp_path: Path, cli: Callable[..., Result]):
    path = tmp_path / "attlog.txt"
    path.write_text(ATTLOG)

    result = cli("import", str(path))

    assert result.exit_code == 2 and "--device SERIAL" in result.output


def test_devices_lists_the_clocks_seen(agent: Agent, cloud: CloudDouble, cli: Callable[..., Result]):
    cloud.stop()  # keep the punches pending
    listed, unlisted = ZkDevice(agent.url, SERIAL), ZkDevice(agent.url, UNLISTED_SERIAL)
    try:
        listed.handshake()
        listed.post_attlog(records(4))
        unlisted.poll()
    finally:
        listed.close()
        unlisted.close()

    result = cli("devices")

    assert result.exit_code == 0
    header, *rows = result.output.splitlines()
    assert header.split() == ["SERIAL", "CODE", "IP", "LAST", "SEEN", "(UTC)", "RECEIVED", "PENDING"]
    assert rows[0].split()[:3] == [UNLISTED_SERIAL, UNLISTED_SERIAL, "127.0.0.1"]
    assert rows[0].split()[-2:] == ["0", "0"]
    assert rows[1].split()[:3] == [SERIAL, "EL-1", "127.0.0.1"]
    assert rows[1].split()[-2:] == ["4", "4"]


def test_status_and_rejected_show_the_spool(agent: Agent, cloud: CloudDouble, cli: Callable[..., Result]):
    sent = records(3)
    cloud.reject.add((sent[1].pin, sent[1].time.replace(" ", "T") + "+02:00"))
    clock = ZkDevice(agent.url, SERIAL)
    try:
        clock.post_attlog(sent)
    finally:
        clock.close()
    cloud.wait_for(2)
    wait_until(lambda: agent.spool.counts()["uploaded"] == 2, what="uploads acknowledged")

    status = cli("status").output
    rejected = cli("rejected").output

    assert "pending:      0\nuploaded:     2\nrejected:     1\n" in status
    assert "last upload:  20" in status and "HTTP 422: 1 punch(es)" in status
    assert rejected.splitlines()[0].split() == ["ID", "DEVICE", "EMPLOYEE", "TIMESTAMP", "DIRECTION", "REASON"]
    assert f"{SERIAL}  {sent[1].pin}" in rejected and "Unknown employee" in rejected
    assert cli("rejected", "--requeue").output == "requeued 1 punch(es)\n"
    assert "no rejected punches" in cli("rejected").output


def test_status_of_a_new_spool(cli: Callable[..., Result]):
    result = cli("status")

    assert result.exit_code == 0
    assert "pending:      0" in result.output and "last upload:  never" in result.output
    assert cli("devices").output == "no devices seen yet\n"
