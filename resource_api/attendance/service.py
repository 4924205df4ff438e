"""Attendance: device registration, durable intake of punch batches, and their delivery state."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from resource_api.attendance.models import AttendanceDevice, Punch, PunchBatch
from shared.errors import NotFound, ValidationProblem

__all__ = ["batch_with_punches", "device_zone", "ingest_punches", "register_device"]


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


def _insert(session: Session):  # type: ignore[no-untyped-def]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(Punch).on_conflict_do_nothing(
        index_elements=["subscription_id", "device_serial", "employee_code", "punched_at"]
    )


def _existing_batch(session: Session, subscription_id: str, key: str | None) -> PunchBatch | None:
    if key is None:
        return None
    return session.execute(
        select(PunchBatch).where(PunchBatch.subscription_id == subscription_id, PunchBatch.idempotency_key == key)
    ).scalar_one_or_none()


def ingest_punches(
    *,
    session: Session,
    subscription_id: str,
    bridge_id: str,
    device_serial: str,
    device_code: str,
    punches: list[dict[str, Any]],
    idempotency_key: str | None = None,
) -> tuple[PunchBatch, bool]:
    """Commit a batch durably, each punch at most once; return it and whether it is new.

    A repeated Idempotency-Key returns the batch it first created; a punch already stored (same device,
    employee and instant) counts as a duplicate.
    """
    if (earlier := _existing_batch(session, subscription_id, idempotency_key)) is not None:
        return earlier, False
    now = datetime.now(UTC)
    batch = PunchBatch(
        id=uuid.uuid4().hex,
        subscription_id=subscription_id,
        bridge_id=bridge_id,
        device_serial=device_serial,
        idempotency_key=idempotency_key,
        received_at=now,
        accepted=0,
        duplicates=0,
    )
    session.add(batch)
    session.flush()
    rows = {}
    for punch in punches:
        moment: datetime = punch["timestamp"]
        key = (punch["employeeCode"], moment.astimezone(UTC))
        rows.setdefault(
            key,
            {
                "batch_id": batch.id,
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
    inserted = session.execute(_insert(session).returning(Punch.id), list(rows.values())).all()
    batch.accepted = len(inserted)
    batch.duplicates = len(punches) - len(inserted)
    try:
        session.commit()
    except IntegrityError:  # the same Idempotency-Key committed concurrently
        session.rollback()
        if (earlier := _existing_batch(session, subscription_id, idempotency_key)) is not None:
            return earlier, False
        raise
    return batch, True


def batch_with_punches(*, session: Session, subscription_id: str, batch_id: str) -> dict[str, Any]:
    """A batch of this subscription and the punches it added, in order."""
    batch = session.get(PunchBatch, batch_id)
    if batch is None or batch.subscription_id != subscription_id:
        raise NotFound("No such batch.")
    punches = session.execute(select(Punch).where(Punch.batch_id == batch_id).order_by(Punch.id)).scalars().all()
    return {
        **{c: getattr(batch, c) for c in ("id", "device_serial", "received_at", "accepted", "duplicates")},
        "punches": punches,
    }
