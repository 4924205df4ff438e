"""The outbox delivers committed punches to the simulator's payroll through the real gateway, exactly once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy.orm import Session

from bridge_gateway.simulator.server import SimulatorServer
from resource_api.attendance.models import Punch, PunchQueue
from resource_api.extensions import db
from resource_api.outbox.gateway import IMPORT_PUNCHES, PayrollGateway
from resource_api.outbox.queues import idle_unless_enqueued, mark_due, read_queue
from resource_api.outbox.service import deliver_due, rejected_punches, retry_rejected
from tests.integration.bridge_gateway.gw_helpers import TokenMint as GatewayMint
from tests.integration.bridge_gateway.gw_helpers import bridge_body
from tests.integration.resource_api.tokens import TokenMint
from tests.stack import loopback_gateway_settings, running_simulator, served, served_gateway

LATER = timedelta(hours=1)


@pytest.fixture
def simulator(tmp_path) -> Iterator[SimulatorServer]:
    with running_simulator(tmp_path / "sim") as server:
        yield server


@pytest.fixture
def gateway_url(database_url, simulator) -> Iterator[tuple[str, GatewayMint]]:
    """A real gateway on a real port, trusting service tokens from a test key, with the demo bridge."""
    mint = GatewayMint()
    with served(mint.wsgi) as issuer:
        mint.issuer = issuer
        settings = loopback_gateway_settings(database_url, issuer)
        with served_gateway(settings) as (_, url):
            registered = requests.post(
                f"{url}/v1/bridges", json=bridge_body(simulator.url), headers=mint.headers(), timeout=10
            )
            assert registered.status_code == 201, registered.text
            yield url, mint


@pytest.fixture
def payroll(gateway_url) -> PayrollGateway:
    url, mint = gateway_url
    return PayrollGateway(gateway_url=url, token=lambda: mint.token("gateway:relay", client_id="resource_api"))


@pytest.fixture
def ingest(test_client):
    mint = TokenMint()
    mint.install(test_client.application)

    def post(
        *punches: tuple[str, str, str], serial: str = "ZK-1", code: str = "EL-1", bridge: str = "Demo_002"
    ) -> dict:
        headers = mint.headers(subscription_id="demo", bridge_id=bridge)
        body = {
            "deviceSerial": serial,
            "deviceCode": code,
            "punches": [{"employeeCode": e, "timestamp": t, "direction": d} for e, t, d in punches],
        }
        response = test_client.post("/v1/attendance/punches", json=body, headers=headers)
        assert response.status_code == 202, response.get_json()
        return response.get_json()

    return post


def _payroll_punches(gateway_url) -> list[dict]:
    url, mint = gateway_url
    answer = requests.post(
        f"{url}/v1/bridges/demo/Demo_002/relay/{IMPORT_PUNCHES.replace('Import', 'List')}",
        json={},
        headers=mint.headers("gateway:relay"),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["Punches"]


def _states() -> list[str]:
    return [p.state for p in db.session.query(Punch).order_by(Punch.id)]


def test_punches_arrive_in_payroll_once(app, ingest, payroll, gateway_url):
    ingest(("1001", "2026-03-02T08:59:00+02:00", "in"), ("1002", "2026-03-02T09:01:00+02:00", "in"))
    report = deliver_due(session=db.session, gateway=payroll)
    assert (report.delivered, report.rejected, report.deferred) == (2, 0, 0)
    assert _states() == ["delivered", "delivered"]
    arrived = _payroll_punches(gateway_url)
    assert [(p["EmployeeCode"], p["Timestamp"], p["Direction"], p["DeviceCode"]) for p in arrived] == [
        ("1001", "2026-03-02T08:59:00+02:00", "in", "EL-1"),
        ("1002", "2026-03-02T09:01:00+02:00", "in", "EL-1"),
    ]
    assert deliver_due(session=db.session, gateway=payroll).delivered == 0
    assert len(_payroll_punches(gateway_url)) == 2


def test_outage_defers_then_everything_arrives_exactly_once(app, ingest, payroll, gateway_url, simulator):
    ingest(("1001", "2026-03-02T08:59:00+02:00", "in"))
    simulator.go_down()
    report = deliver_due(session=db.session, gateway=payroll)
    assert report.deferred == 1 and _states() == ["pending"]
    punch = db.session.query(Punch).one()
    assert punch.attempts == 1 and punch.last_error
    ingest(("1002", "2026-03-02T09:01:00+02:00", "out"))  # accepted while EBS is down
    simulator.come_up()
    assert deliver_due(session=db.session, gateway=payroll).delivered == 0, "backoff is respected"
    report = deliver_due(session=db.session, gateway=payroll, now=datetime.now(UTC) + LATER)
    assert report.delivered == 2
    assert [p["EmployeeCode"] for p in _payroll_punches(gateway_url)] == ["1001", "1002"]


def test_redelivery_after_a_lost_answer_counts_as_delivered(app, ingest, payroll, gateway_url):
    ingest(("1001", "2026-03-02T08:59:00+02:00", "in"))
    deliver_due(session=db.session, gateway=payroll)
    punch = db.session.query(Punch).one()
    punch.state = "pending"  # as if the worker died before recording the delivery (and its queue's next look)
    db.session.get(PunchQueue, ("demo", "ZK-1")).due_at = datetime.now(UTC)
    db.session.commit()
    assert deliver_due(session=db.session, gateway=payroll).delivered == 1
    assert len(_payroll_punches(gateway_url)) == 1


def test_rejected_punch_goes_to_dead_letters_and_can_be_retried(app, ingest, payroll, gateway_url):
    ingest(("9999", "2026-03-02T08:59:00+02:00", "in"), ("1001", "2026-03-02T09:00:00+02:00", "in"))
    report = deliver_due(session=db.session, gateway=payroll)
    assert (report.delivered, report.rejected) == (1, 1)
    dead = rejected_punches(session=db.session, subscription_id="demo")
    assert [p.employee_code for p in dead] == ["9999"] and "9999" in dead[0].last_error
    assert rejected_punches(session=db.session, subscription_id="another") == []
    assert retry_rejected(session=db.session, subscription_id="demo") == 1
    assert deliver_due(session=db.session, gateway=payroll).rejected == 1


def test_gateway_refusing_the_token_defers(app, ingest, gateway_url):
    url, _ = gateway_url
    ingest(("1001", "2026-03-02T08:59:00+02:00", "in"))
    report = deliver_due(session=db.session, gateway=PayrollGateway(gateway_url=url, token=lambda: "forged"))
    assert report.deferred == 1
    assert "401" in db.session.query(Punch).one().last_error


def _due_at(serial: str = "ZK-1") -> datetime | None:
    db.session.rollback()
    return db.session.get(PunchQueue, ("demo", serial)).due_at


def test_a_delivered_queue_goes_idle_and_new_punches_wake_it(app, ingest, payroll, gateway_url):
    ingest(("1001", "2026-03-02T08:59:00+02:00", "in"))
    assert _due_at() is not None
    assert deliver_due(session=db.session, gateway=payroll).delivered == 1
    assert _due_at() is None
    assert deliver_due(session=db.session, gateway=payroll).delivered == 0
    ingest(("1001", "2026-03-02T08:59:00+02:00", "in"))  # a duplicate adds nothing, so wakes nothing
    assert _due_at() is None
    ingest(("1002", "2026-03-02T09:01:00+02:00", "in"))
    assert _due_at() is not None
    assert deliver_due(session=db.session, gateway=payroll).delivered == 1


def test_devices_backing_off_do_not_hold_up_the_others(app, ingest, payroll, gateway_url):
    """Devices of a bridge the gateway does not know keep failing; each waits its backoff, the rest go on."""
    for n in range(25):
        ingest(("1001", "2026-03-02T08:59:00+02:00", "in"), serial=f"LOST-{n}", code="A", bridge="Gone")
        ingest(("1002", "2026-03-02T09:00:00+02:00", "in"), serial=f"LOST-{n}", code="B", bridge="Gone")
    ingest(("1001", "2026-03-02T08:59:00+02:00", "in"), serial="ZK-OK")
    delivered = sum(deliver_due(session=db.session, gateway=payroll, max_devices=10).delivered for _ in range(4))
    assert delivered == 1
    assert [p["EmployeeCode"] for p in _payroll_punches(gateway_url)] == ["1001"]
    now = datetime.now(UTC)
    assert all(_aware(_due_at(f"LOST-{n}")) > now for n in range(25)), "each waits for its first punch's backoff"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_a_queue_is_not_idled_past_punches_committed_meanwhile(app, ingest, payroll, gateway_url):
    """The worker saw nothing pending and idles the queue, while an ingest has added punches but not committed:
    the worker's update waits for the ingest's commit and then leaves the queue due."""
    ingest(("1001", "2026-03-02T08:59:00+02:00", "in"))
    deliver_due(session=db.session, gateway=payroll)
    queue = ("demo", "ZK-1")
    _, seen = read_queue(db.session, queue)
    db.session.rollback()
    with Session(db.engine) as adding:
        mark_due(adding.connection(), [queue], datetime.now(UTC))  # holds the queue's row (PostgreSQL) or the lock
        worker = threading.Thread(target=_idle, args=(app, queue, seen))
        worker.start()
        worker.join(0.5)
        adding.commit()
    worker.join(30)
    assert not worker.is_alive()
    assert _due_at() is not None


def _idle(app, queue, seen) -> None:
    with app.app_context():
        idle_unless_enqueued(db.session, queue, seen)
        db.session.commit()
        db.session.remove()
