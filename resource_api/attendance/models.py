"""Clock punches as received from agents, with their delivery state towards the bridge's payroll."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from resource_api.extensions import db

ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements only INTEGER keys


class AttendanceDevice(db.Model):  # type: ignore[name-defined]
    """A time clock registered for a subscription: its payroll device code and its time zone."""

    __tablename__ = "attendance_devices"
    __table_args__ = (UniqueConstraint("subscription_id", "serial"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    subscription_id: Mapped[str] = mapped_column(String(50))
    serial: Mapped[str] = mapped_column(String(64))
    device_code: Mapped[str] = mapped_column(String(64))
    timezone: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PunchBatch(db.Model):  # type: ignore[name-defined]
    """One accepted upload: what it held and how many of its punches were new."""

    __tablename__ = "punch_batches"
    __table_args__ = (UniqueConstraint("subscription_id", "idempotency_key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    subscription_id: Mapped[str] = mapped_column(String(50), index=True)
    bridge_id: Mapped[str] = mapped_column(String(50))
    device_serial: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepted: Mapped[int] = mapped_column(Integer)
    duplicates: Mapped[int] = mapped_column(Integer)


class Punch(db.Model):  # type: ignore[name-defined]
    """A clock punch, stored once per device, employee and instant, and delivered once to payroll."""

    __tablename__ = "punches"
    __table_args__ = (
        UniqueConstraint("subscription_id", "device_serial", "employee_code", "punched_at"),
        # A device's undelivered punches in order, without walking the ones already delivered.
        Index(
            "ix_punches_pending",
            "subscription_id",
            "device_serial",
            "id",
            postgresql_where=text("state = 'pending'"),
            sqlite_where=text("state = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("punch_batches.id"), index=True)
    subscription_id: Mapped[str] = mapped_column(String(50))
    bridge_id: Mapped[str] = mapped_column(String(50))
    device_serial: Mapped[str] = mapped_column(String(64))
    device_code: Mapped[str] = mapped_column(String(64))
    employee_code: Mapped[str] = mapped_column(String(64))
    punched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    local_time: Mapped[str] = mapped_column(String(40))
    direction: Mapped[str] = mapped_column(String(12))
    verify_mode: Mapped[int | None] = mapped_column(Integer)
    work_code: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PunchQueue(db.Model):  # type: ignore[name-defined]
    """A device's delivery queue: when the outbox should next look at its pending punches (none: idle).

    The worker reads this small table rather than every pending punch. `enqueued` counts the commits that
    added punches: the worker marks a queue idle only if none was added since it looked (`resource_api.outbox`).
    """

    __tablename__ = "punch_queues"

    subscription_id: Mapped[str] = mapped_column(String(50), primary_key=True)
    device_serial: Mapped[str] = mapped_column(String(64), primary_key=True)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    enqueued: Mapped[int] = mapped_column(BigInteger, default=0)
