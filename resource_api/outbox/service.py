"""The outbox: committed punches delivered to payroll in order per device, exactly once, with backoff.

Several workers may run against PostgreSQL: a transaction-scoped advisory lock per device lets one worker
own a device's queue at a time, so order holds and nothing is sent twice at once. If a worker dies after
payroll stored a batch but before it recorded that, the batch is sent again and payroll answers `duplicate`
for each punch (its PunchID is the idempotency key), which counts as delivered.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from resource_api.attendance.models import Punch
from resource_api.outbox.gateway import DeliveryError, PayrollGateway
from resource_api.outbox.queues import Queue, due_queues, idle_unless_enqueued, mark_due, read_queue, reschedule

__all__ = ["DeliveryReport", "backoff", "deliver_due", "punch_id", "rejected_punches", "retry_rejected"]

DELIVERED = ("accepted", "duplicate")
MAX_BACKOFF_SECONDS = 300


@dataclass
class DeliveryReport:
    """What one pass of the worker did."""

    delivered: int = 0
    rejected: int = 0
    deferred: int = 0


def punch_id(punch: Punch) -> str:
    """The punch's idempotency key at payroll: device, employee and UTC instant."""
    instant = punch.punched_at.astimezone(UTC) if punch.punched_at.tzinfo else punch.punched_at
    return f"{punch.device_serial}:{punch.employee_code}:{instant.strftime('%Y-%m-%dT%H:%M:%SZ')}"


def backoff(attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with full jitter: up to 2^attempts seconds, capped at five minutes."""
    ceiling = min(MAX_BACKOFF_SECONDS, 2 ** min(attempts, 16))
    return timedelta(seconds=max(1.0, (rng or random).uniform(ceiling / 2, ceiling)))


def _lock_device(session: Session, subscription_id: str, serial: str) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return True  # SQLite serialises writers; run one worker there
    key = int.from_bytes(hashlib.sha256(f"{subscription_id}\0{serial}".encode()).digest()[:8], "big", signed=True)
    return bool(session.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}).scalar())


def _pending(session: Session, queue: Queue, limit: int) -> list[Punch]:
    subscription_id, serial = queue
    return list(
        session.execute(
            select(Punch)
            .where(Punch.subscription_id == subscription_id, Punch.device_serial == serial, Punch.state == "pending")
            .order_by(Punch.id)
            .limit(limit)
        ).scalars()
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite returns UTC instants naive


def _deliver_device(
    session: Session, gateway: PayrollGateway, queue: Queue, now: datetime, batch_size: int
) -> DeliveryReport:
    report = DeliveryReport()
    if not _lock_device(session, *queue):
        return report
    queued = read_queue(session, queue)  # before the punches: a commit after this read is counted in `enqueued`
    if queued is None or queued[0] is None or _aware(queued[0]) > now:
        return report  # another worker got there first
    punches = _pending(session, queue, batch_size)
    if punches and _aware(punches[0].next_attempt_at) <= now:  # else an earlier punch is backing off: keep order
        _send(gateway, queue[0], punches, now, report)
        session.flush()
    head = _pending(session, queue, 1) if punches else []
    if head:
        reschedule(session, queue, head[0].next_attempt_at)
    else:
        idle_unless_enqueued(session, queue, queued[1])
    return report


def _send(
    gateway: PayrollGateway, subscription_id: str, punches: list[Punch], now: datetime, report: DeliveryReport
) -> None:
    """Send the punches to payroll, one call per bridge and device code in order; stop at the first that fails."""
    groups: dict[tuple[str, str], list[Punch]] = {}
    for punch in punches:
        groups.setdefault((punch.bridge_id, punch.device_code), []).append(punch)
    for (bridge_id, device_code), group in groups.items():
        payload = [
            {
                "PunchID": punch_id(p),
                "EmployeeCode": p.employee_code,
                "Timestamp": p.local_time,
                "Direction": p.direction,
                "VerifyMode": p.verify_mode,
                "WorkCode": p.work_code,
            }
            for p in group
        ]
        try:
            results = gateway.import_punches(
                subscription_id=subscription_id, bridge_id=bridge_id, device_code=device_code, punches=payload
            )
        except DeliveryError as exc:
            for p in group:
                p.attempts += 1
                p.last_error = str(exc)[:500]
                p.next_attempt_at = now + backoff(p.attempts)
            report.deferred += len(group)
            return  # later groups of this device wait for the failed one
        verdicts = {result.punch_id: result for result in results}
        for p in group:
            p.attempts += 1
            verdict = verdicts.get(punch_id(p))
            if verdict is not None and verdict.status in DELIVERED:
                p.state, p.delivered_at, p.last_error = "delivered", now, None
                report.delivered += 1
            elif verdict is not None and verdict.status == "rejected":
                p.state, p.last_error = "rejected", (verdict.message or "rejected by payroll")[:500]
                report.rejected += 1
            else:
                p.last_error = "payroll gave no answer for this punch"
                p.next_attempt_at = now + backoff(p.attempts)
                report.deferred += 1


def deliver_due(
    *,
    session: Session,
    gateway: PayrollGateway,
    now: datetime | None = None,
    batch_size: int = 500,
    max_devices: int = 20,
) -> DeliveryReport:
    """Deliver the due punches of up to `max_devices` devices, one transaction per device."""
    now = now or datetime.now(UTC)
    total = DeliveryReport()
    queues = due_queues(session, now, max_devices)
    session.rollback()
    for queue in queues:
        report = _deliver_device(session, gateway, queue, now, batch_size)
        session.commit()
        total.delivered += report.delivered
        total.rejected += report.rejected
        total.deferred += report.deferred
    return total


def rejected_punches(*, session: Session, subscription_id: str, limit: int = 500) -> list[Punch]:
    """The dead-letter list: punches payroll refused, newest first."""
    return list(
        session.execute(
            select(Punch)
            .where(Punch.subscription_id == subscription_id, Punch.state == "rejected")
            .order_by(Punch.id.desc())
            .limit(limit)
        ).scalars()
    )


def retry_rejected(*, session: Session, subscription_id: str, ids: list[int] | None = None) -> int:
    """Put rejected punches (all, or those in `ids`) back in the queue; return how many."""
    query = select(Punch).where(Punch.subscription_id == subscription_id, Punch.state == "rejected")
    if ids is not None:
        query = query.where(Punch.id.in_(ids))
    punches = session.execute(query).scalars().all()
    now = datetime.now(UTC)
    for punch in punches:
        punch.state, punch.next_attempt_at = "pending", now
    mark_due(session.connection(), {(subscription_id, p.device_serial) for p in punches}, now)
    session.commit()
    return len(punches)
