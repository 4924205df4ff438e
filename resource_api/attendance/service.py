"""Attendance: device registration, durable intake of punch batches, and their delivery state."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from resource_api.attendance.models import AttendanceDevice, Punch, PunchBatch
from shared.errors import NotFound, ValidationProblem

__all__ = ["BatchReceipt", "batch_with_punches", "device_zone", "ingest_punches", "register_device"]

_BATCHES = PunchBatch.__table__
_PUNCHES = Punch.__table__


@dataclass(frozen=True)
class BatchReceipt:
    """What the intake answers about a committed batch."""

    id: str
    accepted: int
    duplicates: int


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationProblem({"timezone": [f"Unknown time zone {name!r}; use an IANA name."]}) from None


def register_device(
    *, session: Session, subscription_id: str, serial: str, device_code: str, timezone: str
) -> AttendanceDevice:
    """Create or update a clock's registration."""
    _zone(timezone)
    device = session.execute(
        select(AttendanceDevice).where(
            AttendanceDevice.subscription_id == subscription_id, AttendanceDevice.serial == serial
        )
    ).scalar_one_or_none()
    if device is None:
        device = AttendanceDevice(subscription_id=subscription_id, serial=serial)
        session.add(device)
    device.device_code = device_code
    device.timezone = timezone
    device.updated_at = datetime.now(UTC)
    session.commit()
    return device


def device_zone(*, session: Session, subscription_id: str, serial: str) -> tuple[str, ZoneInfo]:
    """The registered device code and time zone of a clock (ATTLOG carries local times only)."""
    device = session.execute(
        select(AttendanceDevice).where(
            AttendanceDevice.subscription_id == subscription_id, AttendanceDevice.serial == serial
        )
    ).scalar_one_or_none()
    if device is None:
        raise ValidationProblem(
            {"deviceSerial": [f"Device {serial!r} is not registered; PUT /v1/attendance/devices/{serial} first."]}
        )
    return device.device_code, _zone(device.timezone)


# Built once: composing statements per request (coercing every value) cost more than executing them.
_INSERT_BATCH = insert(_BATCHES)
_COUNT_BATCH = (
    update(_BATCHES)
    .where(_BATCHES.c.id == bindparam("batch_id"))
    .values(accepted=bindparam("n_accepted"), duplicates=bindparam("n_duplicates"))
)
_INSERT_PUNCHES = {
    dialect.__name__.rsplit(".", 1)[-1]: dialect.insert(_PUNCHES)
    .on_conflict_do_nothing(index_elements=["subscription_id", "device_serial", "employee_code", "punched_at"])
    .returning(_PUNCHES.c.id)
    for dialect in (postgresql, sqlite)
}


def _insert_punches(connection: Connection):  # type: ignore[no-untyped-def]
    return _INSERT_PUNCHES["postgresql" if connection.dialect.name == "postgresql" else "sqlite"]


def _existing_batch(session: Session, subscription_id: str, key: str | None) -> BatchReceipt | None:
    if key is None:
        return None
    row = session.execute(
        select(PunchBatch.id, PunchBatch.accepted, PunchBatch.duplicates).where(
            PunchBatch.subscription_id == subscription_id, PunchBatch.idempotency_key == key
        )
    ).first()
    return BatchReceipt(id=row.id, accepted=row.accepted, duplicates=row.duplicates) if row is not None else None


def _punch_rows(
    punches: list[dict[str, Any]],
    *,
    batch_id: str,
    subscription_id: str,
    bridge_id: str,
    device_serial: str,
    device_code: str,
    now: datetime,
) -> list[dict[str, Any]]:
    rows: dict[tuple[str, datetime], dict[str, Any]] = {}
    for punch in punches:
        moment: datetime = punch["timestamp"]
        key = (punch["employeeCode"], moment.astimezone(UTC))
        rows.setdefault(
            key,
            {
                "batch_id": batch_id,
                "subscription_id": subscription_id,
                "bridge_id": bridge_id,
                "device_serial": device_serial,
                "device_code": device_code,
                "employee_code": punch["employeeCode"],
                "punched_at": key[1],
                "local_time": moment.isoformat(),
                "direction": punch["direction"],
                "verify_mode": punch.get("verifyMode"),
                "work_code": punch.get("workCode"),
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": now,
            },
        )
    return list(rows.values())


def ingest_punches(
    *,
    session: Session,
    subscription_id: str,
    bridge_id: str,
    device_serial: str,
    device_code: str,
    punches: list[dict[str, Any]],
    idempotency_key: str | None = None,
) -> tuple[BatchReceipt, bool]:
    """Commit a batch durably, each punch at most once; return what to answer and whether it is new.

    A repeated Idempotency-Key returns the batch it first created; a punch already stored (same device,
    employee and instant) counts as a duplicate. The rows are written with Core statements and the answer
    is built from what was written: the ORM's unit of work and its reload of the batch after the commit
    cost a third of a single-punch request, and the answer is still given only once the commit returned.
    """
    if (earlier := _existing_batch(session, subscription_id, idempotency_key)) is not None:
        return earlier, False
    now = datetime.now(UTC)
    batch_id = uuid.uuid4().hex
    rows = _punch_rows(
        punches,
        batch_id=batch_id,
        subscription_id=subscription_id,
        bridge_id=bridge_id,
        device_serial=device_serial,
        device_code=device_code,
        now=now,
    )
    try:
        connection = session.connection()
        connection.execute(
            _INSERT_BATCH,
            {
                "id": batch_id,
                "subscription_id": subscription_id,
                "bridge_id": bridge_id,
                "device_serial": device_serial,
                "idempotency_key": idempotency_key,
                "received_at": now,
                "accepted": 0,
                "duplicates": 0,
            },
        )
        accepted = len(connection.execute(_insert_punches(connection), rows).all())
        duplicates = len(punches) - accepted
        connection.execute(_COUNT_BATCH, {"batch_id": batch_id, "n_accepted": accepted, "n_duplicates": duplicates})
        session.commit()
    except IntegrityError:  # the same Idempotency-Key committed concurrently
        session.rollback()
        if (earlier := _existing_batch(session, subscription_id, idempotency_key)) is not None:
            return earlier, False
        raise
    return BatchReceipt(id=batch_id, accepted=accepted, duplicates=duplicates), True


_BATCH = select(
    _BATCHES.c.id,
    _BATCHES.c.subscription_id,
    _BATCHES.c.device_serial,
    _BATCHES.c.received_at,
    _BATCHES.c.accepted,
    _BATCHES.c.duplicates,
).where(_BATCHES.c.id == bindparam("batch_id"))
_BATCH_PUNCHES = (
    select(
        _PUNCHES.c.employee_code,
        _PUNCHES.c.local_time,
        _PUNCHES.c.direction,
        _PUNCHES.c.state,
        _PUNCHES.c.attempts,
        _PUNCHES.c.last_error,
        _PUNCHES.c.delivered_at,
    )
    .where(_PUNCHES.c.batch_id == bindparam("batch_id"))
    .order_by(_PUNCHES.c.id)
)


def batch_with_punches(*, session: Session, subscription_id: str, batch_id: str) -> dict[str, Any]:
    """A batch of this subscription and the punches it added, in order (read as plain rows, not ORM objects)."""
    connection = session.connection()
    batch = connection.execute(_BATCH, {"batch_id": batch_id}).mappings().first()
    if batch is None or batch["subscription_id"] != subscription_id:
        raise NotFound("No such batch.")
    punches = connection.execute(_BATCH_PUNCHES, {"batch_id": batch_id}).mappings().all()
    return {
        **{c: batch[c] for c in ("id", "device_serial", "received_at", "accepted", "duplicates")},
        "punches": punches,
    }
