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
from resource_api.outbox.queues import mark_due
from shared.db import write_turn
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
# A punch's row is its batch's columns, the same for every punch of it, then the punch's own, then its delivery.
_BATCH_COLUMNS = ("batch_id", "subscription_id", "bridge_id", "device_serial", "device_code")
_PUNCH_COLUMNS = ("employee_code", "punched_at", "local_time", "direction", "verify_mode", "work_code")
_DELIVERY_COLUMNS = ("state", "attempts", "next_attempt_at")
_COLUMNS = _BATCH_COLUMNS + _PUNCH_COLUMNS + _DELIVERY_COLUMNS


@dataclass(frozen=True)
class _Rows:
    """A batch's rows for the driver: the values every punch shares, and each new punch's own, in order."""

    shared: tuple[Any, ...]  # `_BATCH_COLUMNS`
    delivery: tuple[Any, ...]  # `_DELIVERY_COLUMNS`
    punches: list[tuple[Any, ...]]  # `_PUNCH_COLUMNS`

    def whole(self) -> list[tuple[Any, ...]]:
        """Every punch's full row, in `_COLUMNS` order."""
        return [self.shared + punch + self.delivery for punch in self.punches]


# The punches go to the driver as plain tuples. Through SQLAlchemy's executemany every row became a parameter dict
# run through its type processors, and on PostgreSQL its multi-row INSERT of 14,000 placeholders was too long for
# psycopg's statement cache, so psycopg parsed it again on every batch: together more than the databases' own work.
# Each punch is one INSERT (executemany sums the rows inserted into `rowcount`; a conflict skipped by DO
# NOTHING inserts none).
_DRIVER_INSERTS = {
    driver: (
        f"INSERT INTO {_PUNCHES.name} ({', '.join(_COLUMNS)}) "  # noqa: S608 - module constants only; values are bound
        f"VALUES ({', '.join([placeholder] * len(_COLUMNS))}) ON CONFLICT ({', '.join(_UNIQUE_PUNCH)}) DO NOTHING"
    )
    for driver, placeholder in ((("sqlite", "pysqlite"), "?"), (("postgresql", "psycopg"), "%s"))
}
# On PostgreSQL, larger batches are copied (binary COPY) into the connection's own temporary table, emptied at
# every commit, and inserted from it by one statement, in the batch's order, the shared values bound once. psycopg's
# pipelined executemany of one INSERT per punch cost the service about 27 CPU ms per 1,000 punches, a text COPY of
# whole rows about 8, a binary COPY of the punches' own columns about 1; for a few punches, the two statements
# more that COPY takes cost more than they save.
_COPY_FROM = 16
_STAGE = "punches_in"
_PG_STAGE = (
    f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} ON COMMIT DELETE ROWS AS "  # noqa: S608 - module constants only
    f"SELECT 0 AS ordinal, {', '.join(_PUNCH_COLUMNS)} FROM {_PUNCHES.name} WITH NO DATA"
)
_PG_COPY = f"COPY {_STAGE} (ordinal, {', '.join(_PUNCH_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
_PG_COPY_TYPES = ("int4", "varchar", "timestamptz", "varchar", "varchar", "int4", "varchar")  # as `_PG_STAGE` has them
# Checking every punch for a conflict to skip cost PostgreSQL about a third of the INSERT, for batches of new
# punches, the common case. So a batch is first inserted as if all were new; the rare one holding a punch
# already stored fails on the unique constraint, and is then written again, skipping those.
_PG_INSERT_NEW = (
    f"INSERT INTO {_PUNCHES.name} ({', '.join(_COLUMNS)}) "  # noqa: S608 - module constants only
    f"SELECT {', '.join(['%s'] * len(_BATCH_COLUMNS))}, {', '.join(_PUNCH_COLUMNS)}, %s, %s, %s::timestamptz "
    f"FROM {_STAGE} ORDER BY ordinal"
)
_PG_INSERT = f"{_PG_INSERT_NEW} ON CONFLICT ({', '.join(_UNIQUE_PUNCH)}) DO NOTHING"
_CORE_INSERTS = {  # any other driver: SQLAlchemy's statement, counting what it returns
    dialect.__name__.rsplit(".", 1)[-1]: dialect.insert(_PUNCHES)
    .on_conflict_do_nothing(index_elements=list(_UNIQUE_PUNCH))
    .returning(_PUNCHES.c.id)
    for dialect in (postgresql, sqlite)
}


def _sqlite_instant(moment: datetime) -> str:
    """An instant as SQLAlchemy's SQLite DateTime stores it (its UTC wall time, to the microsecond), so that
    SQLAlchemy reads and compares it alike; `datetime.isoformat` writes it in a tenth of the processor's time."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _stamp_for(connection: Connection) -> Callable[[datetime], Any]:
    """How an instant is passed on: formatted for SQLite's text columns, as is otherwise."""
    dialect = connection.dialect
    return _sqlite_instant if (dialect.name, dialect.driver) == ("sqlite", "pysqlite") else _as_is


def _as_is(moment: datetime) -> datetime:
    return moment


def _write_punches(connection: Connection, rows: _Rows, *, assume_new: bool) -> int:
    """Insert the rows (made with `_stamp_for(connection)`), skipping punches already stored; answer how many.
    `assume_new`: a punch already stored may instead fail the transaction with an IntegrityError."""
    if not rows.punches:
        return 0
    driver = (connection.dialect.name, connection.dialect.driver)
    if driver == ("postgresql", "psycopg") and len(rows.punches) >= _COPY_FROM:
        return _copy_punches(connection, rows, assume_new=assume_new)
    if (statement := _DRIVER_INSERTS.get(driver)) is not None:
        return connection.exec_driver_sql(statement, rows.whole()).rowcount
    core = _CORE_INSERTS["postgresql" if driver[0] == "postgresql" else "sqlite"]
    return len(connection.execute(core, [dict(zip(_COLUMNS, row, strict=True)) for row in rows.whole()]).all())


def _copy_punches(connection: Connection, rows: _Rows, *, assume_new: bool) -> int:
    """PostgreSQL: COPY into the staging table, then one INSERT from it (in the connection's transaction)."""
    with connection.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(_PG_STAGE)
        with cursor.copy(_PG_COPY) as copy:
            copy.set_types(_PG_COPY_TYPES)
            for ordinal, punch in enumerate(rows.punches):
                copy.write_row((ordinal, *punch))
        statement, values = _PG_INSERT_NEW if assume_new else _PG_INSERT, rows.shared + rows.delivery
        try:
            cursor.execute(statement, values)
        except connection.dialect.loaded_dbapi.IntegrityError as exc:  # as SQLAlchemy raises it for its statements
            raise IntegrityError(statement, values, exc) from exc
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
    punches: list[dict[str, Any]], *, shared: tuple[Any, ...], now: datetime, stamp: Callable[[datetime], Any]
) -> _Rows:
    """The batch's rows, once per employee and instant (the first of repeats wins)."""
    rows: dict[tuple[str, datetime], tuple[Any, ...]] = {}
    for punch in punches:
        moment: datetime = punch["timestamp"]
        code = punch["employeeCode"]
        key = (code, moment.astimezone(UTC))
        if key not in rows:
            rows[key] = (
                code,
                stamp(key[1]),
                moment.isoformat(),
                punch["direction"],
                punch.get("verifyMode"),
                punch.get("workCode"),
            )
    return _Rows(shared=shared, delivery=("pending", 0, stamp(now)), punches=list(rows.values()))


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
        shared=(batch_id, subscription_id, bridge_id, device_serial, device_code),
        now=now,
        stamp=_stamp_for(session.connection()),
    )
    batch = {
        "id": batch_id,
        "subscription_id": subscription_id,
        "bridge_id": bridge_id,
        "device_serial": device_serial,
        "idempotency_key": idempotency_key,
        "received_at": now,
        "accepted": 0,
        "duplicates": 0,
    }
    assume_new = True  # a batch of new punches is the common case (`_copy_punches`)
    while True:
        try:
            accepted = _write_batch(session, batch, rows, received=len(punches), now=now, assume_new=assume_new)
            return BatchReceipt(id=batch_id, accepted=accepted, duplicates=len(punches) - accepted), True
        except IntegrityError:  # the same Idempotency-Key committed concurrently, or a punch already stored
            session.rollback()
            if (earlier := _existing_batch(session, subscription_id, idempotency_key)) is not None:
                return earlier, False
            if not assume_new:
                raise
            assume_new = False


def _write_batch(
    session: Session, batch: dict[str, Any], rows: _Rows, *, received: int, now: datetime, assume_new: bool
) -> int:
    """Insert the batch, its new punches and its counts, mark its device's queue due, commit; answer how many
    punches were new."""
    connection = session.connection()
    with write_turn(connection.engine):
        connection.execute(_INSERT_BATCH, batch)
        accepted = _write_punches(connection, rows, assume_new=assume_new)
        if accepted:
            mark_due(connection, [(batch["subscription_id"], batch["device_serial"])], now)
        counts = {"batch_id": batch["id"], "n_accepted": accepted, "n_duplicates": received - accepted}
        connection.execute(_COUNT_BATCH, counts)
        session.commit()
    return accepted


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
