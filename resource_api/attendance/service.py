"""Attendance: device registration, durable intake of punch batches, and their delivery state."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from resource_api.attendance.models import AttendanceDevice, Punch, PunchBatch
from shared.errors import NotFound, ValidationProblem
from shared.hot_reads import HotRead

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
_UNIQUE_PUNCH = ("subscription_id", "device_serial", "employee_code", "punched_at")
_COLUMNS = (
    "batch_id",
    "subscription_id",
    "bridge_id",
    "device_serial",
    "device_code",
    "employee_code",
    "punched_at",
    "local_time",
    "direction",
    "verify_mode",
    "work_code",
    "state",
    "attempts",
    "next_attempt_at",
)


# The punches go to the driver as plain tuples. Through SQLAlchemy's executemany every row became a parameter dict
# run through its type processors, and on PostgreSQL its multi-row INSERT of 14,000 placeholders was too long for
# psycopg's statement cache, so psycopg parsed it again on every batch: together more than the databases' own work.
# Each punch is one INSERT (executemany sums the rows inserted into `rowcount`; a conflict skipped by DO
# NOTHING inserts none). SQLite's instants are formatted by SQLAlchemy's own DateTime processor, so they are stored
# exactly as SQLAlchemy stores, reads and compares them; psycopg takes them as they are.
_DRIVER_INSERTS = {
    driver: (
        f"INSERT INTO {_PUNCHES.name} ({', '.join(_COLUMNS)}) "  # noqa: S608 - module constants only; values are bound
        f"VALUES ({', '.join([placeholder] * len(_COLUMNS))}) ON CONFLICT ({', '.join(_UNIQUE_PUNCH)}) DO NOTHING"
    )
    for driver, placeholder in ((("sqlite", "pysqlite"), "?"), (("postgresql", "psycopg"), "%s"))
}
_SQLITE_INSTANT = _PUNCHES.c.punched_at.type.dialect_impl(sqlite.dialect()).bind_processor(sqlite.dialect())
# On PostgreSQL, larger batches are copied (COPY) into the connection's own temporary table, emptied at every
# commit, and inserted from it by one statement, in the batch's order. psycopg's pipelined executemany of one
# INSERT per punch cost the service about 27 CPU ms per 1,000 punches, COPY about 10; for a few punches, the two
# statements more that COPY takes cost more than they save.
_COPY_FROM = 16
_STAGE = "punches_in"
_PG_STAGE = (
    f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} ON COMMIT DELETE ROWS AS "  # noqa: S608 - module constants only
    f"SELECT 0 AS ordinal, {', '.join(_COLUMNS)} FROM {_PUNCHES.name} WITH NO DATA"
)
_PG_COPY = f"COPY {_STAGE} (ordinal, {', '.join(_COLUMNS)}) FROM STDIN"
_PG_INSERT = (
    f"INSERT INTO {_PUNCHES.name} ({', '.join(_COLUMNS)}) "  # noqa: S608 - module constants only
    f"SELECT {', '.join(_COLUMNS)} FROM {_STAGE} ORDER BY ordinal "
    f"ON CONFLICT ({', '.join(_UNIQUE_PUNCH)}) DO NOTHING"
)
_CORE_INSERTS = {  # any other driver: SQLAlchemy's statement, counting what it returns
    dialect.__name__.rsplit(".", 1)[-1]: dialect.insert(_PUNCHES)
    .on_conflict_do_nothing(index_elements=list(_UNIQUE_PUNCH))
    .returning(_PUNCHES.c.id)
    for dialect in (postgresql, sqlite)
}


def _stamp_for(connection: Connection) -> Callable[[datetime], Any]:
    """How an instant is passed on: formatted for SQLite's text columns, as is otherwise."""
    dialect = connection.dialect
    return _SQLITE_INSTANT if (dialect.name, dialect.driver) == ("sqlite", "pysqlite") else _as_is


def _as_is(moment: datetime) -> datetime:
    return moment


def _write_punches(connection: Connection, rows: list[tuple[Any, ...]]) -> int:
    """Insert the rows (made with `_stamp_for(connection)`), skipping punches already stored; answer how many."""
    if not rows:
        return 0
    driver = (connection.dialect.name, connection.dialect.driver)
    if driver == ("postgresql", "psycopg") and len(rows) >= _COPY_FROM:
        return _copy_punches(connection, rows)
    if (statement := _DRIVER_INSERTS.get(driver)) is not None:
        return connection.exec_driver_sql(statement, rows).rowcount
    core = _CORE_INSERTS["postgresql" if driver[0] == "postgresql" else "sqlite"]
    return len(connection.execute(core, [dict(zip(_COLUMNS, row, strict=True)) for row in rows]).all())


def _copy_punches(connection: Connection, rows: list[tuple[Any, ...]]) -> int:
    """PostgreSQL: COPY into the staging table, then one INSERT from it (in the connection's transaction)."""
    with connection.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(_PG_STAGE)
        with cursor.copy(_PG_COPY) as copy:
            for ordinal, row in enumerate(rows):
                copy.write_row((ordinal, *row))
        cursor.execute(_PG_INSERT)
        return int(cursor.rowcount)


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
    stamp: Callable[[datetime], Any],
) -> list[tuple[Any, ...]]:
    """The batch's rows in `_COLUMNS` order, once per employee and instant (the first of repeats wins)."""
    due = stamp(now)
    rows: dict[tuple[str, datetime], tuple[Any, ...]] = {}
    for punch in punches:
        moment: datetime = punch["timestamp"]
        code = punch["employeeCode"]
        key = (code, moment.astimezone(UTC))
        if key not in rows:
            rows[key] = (
                batch_id,
                subscription_id,
                bridge_id,
                device_serial,
                device_code,
                code,
                stamp(key[1]),
                moment.isoformat(),
                punch["direction"],
                punch.get("verifyMode"),
                punch.get("workCode"),
                "pending",
                0,
                due,
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
    connection = session.connection()
    rows = _punch_rows(
        punches,
        batch_id=batch_id,
        subscription_id=subscription_id,
        bridge_id=bridge_id,
        device_serial=device_serial,
        device_code=device_code,
        now=now,
        stamp=_stamp_for(connection),
    )
    try:
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
        accepted = _write_punches(connection, rows)
        duplicates = len(punches) - accepted
        connection.execute(_COUNT_BATCH, {"batch_id": batch_id, "n_accepted": accepted, "n_duplicates": duplicates})
        session.commit()
    except IntegrityError:  # the same Idempotency-Key committed concurrently
        session.rollback()
        if (earlier := _existing_batch(session, subscription_id, idempotency_key)) is not None:
            return earlier, False
        raise
    return BatchReceipt(id=batch_id, accepted=accepted, duplicates=duplicates), True


# One statement for the batch and its punches (a batch whose punches were all duplicates has a row of NULLs).
_PUNCH_STATE = (
    _PUNCHES.c.employee_code,
    _PUNCHES.c.local_time,
    _PUNCHES.c.direction,
    _PUNCHES.c.state,
    _PUNCHES.c.attempts,
    _PUNCHES.c.last_error,
    _PUNCHES.c.delivered_at,
)
_BATCH_WITH_PUNCHES = HotRead(
    select(
        _BATCHES.c.id,
        _BATCHES.c.device_serial,
        _BATCHES.c.received_at,
        _BATCHES.c.accepted,
        _BATCHES.c.duplicates,
        _PUNCHES.c.id.label("punch_id"),
        *_PUNCH_STATE,
    )
    .select_from(_BATCHES.outerjoin(_PUNCHES, _PUNCHES.c.batch_id == _BATCHES.c.id))
    .where(_BATCHES.c.id == bindparam("batch_id"), _BATCHES.c.subscription_id == bindparam("subscription_id"))
    .order_by(_PUNCHES.c.id)
)


def batch_with_punches(*, engine: Engine, subscription_id: str, batch_id: str) -> dict[str, Any]:
    """A batch of this subscription and the punches it added, in order, read as plain rows in one statement.

    Another subscription's batch is not found, exactly like a batch that does not exist. A hot read on the
    driver (`shared.hot_reads`), not the ORM session: a clock agent polls it, and the session's transaction
    bookkeeping and SQLAlchemy's execution were half of the request.
    """
    rows = _BATCH_WITH_PUNCHES.all(engine, {"batch_id": batch_id, "subscription_id": subscription_id})
    if not rows:
        raise NotFound("No such batch.")
    batch = rows[0]  # each row also names its punch's columns, as PunchStateSchema reads them
    return {
        "id": batch.id,
        "device_serial": batch.device_serial,
        "received_at": batch.received_at,
        "accepted": batch.accepted,
        "duplicates": batch.duplicates,
        "punches": rows if batch.punch_id is not None else [],
    }
