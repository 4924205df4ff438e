"""The devices' delivery queues: which devices the outbox worker should look at, and when.

Ingestion marks a device's queue due in the transaction that adds its punches. The worker takes due queues
by `due_at` (one small indexed table, however many punches wait), and after each pass sets the queue's next
look: the time its first pending punch may be tried again, or idle when nothing is pending. A queue is made
idle only if no commit added punches since the worker read `enqueued`: PostgreSQL's upsert locks the queue's
row until the adding transaction commits, and the worker's conditional UPDATE then re-reads the row.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from resource_api.attendance.models import PunchQueue

__all__ = ["Queue", "due_queues", "idle_unless_enqueued", "mark_due", "read_queue", "reschedule"]

Queue = tuple[str, str]  # subscription_id, device_serial

_QUEUES = PunchQueue.__table__


def _mark_due_statement(dialect: Any) -> Any:
    statement = dialect.insert(_QUEUES).values(
        subscription_id=bindparam("subscription_id"),
        device_serial=bindparam("device_serial"),
        due_at=bindparam("due_at"),
        enqueued=1,
    )
    return statement.on_conflict_do_update(
        index_elements=[_QUEUES.c.subscription_id, _QUEUES.c.device_serial],
        # A queue backing off keeps its time: its first punch is still waiting, and order holds.
        set_={"enqueued": _QUEUES.c.enqueued + 1, "due_at": func.coalesce(_QUEUES.c.due_at, statement.excluded.due_at)},
    )


_MARK_DUE = {"postgresql": _mark_due_statement(postgresql), "sqlite": _mark_due_statement(sqlite)}
_KEY = and_(
    _QUEUES.c.subscription_id == bindparam("queue_subscription"), _QUEUES.c.device_serial == bindparam("queue_device")
)


def _key(queue: Queue) -> dict[str, str]:
    return {"queue_subscription": queue[0], "queue_device": queue[1]}


def mark_due(connection: Connection, queues: Iterable[Queue], now: datetime) -> None:
    """In the caller's transaction: these devices have new pending punches."""
    statement = _MARK_DUE[connection.dialect.name]
    for subscription_id, device_serial in queues:
        connection.execute(
            statement,
            {"subscription_id": subscription_id, "device_serial": device_serial, "due_at": now},
        )


def due_queues(session: Session, now: datetime, limit: int) -> list[Queue]:
    """The queues due by `now`, the longest waiting first."""
    rows = session.execute(
        select(_QUEUES.c.subscription_id, _QUEUES.c.device_serial)
        .where(_QUEUES.c.due_at <= now)
        .order_by(_QUEUES.c.due_at)
        .limit(limit)
    ).all()
    return [(row.subscription_id, row.device_serial) for row in rows]


def read_queue(session: Session, queue: Queue) -> tuple[datetime | None, int] | None:
    """The queue's next look and its count of commits that added punches (None: no such queue)."""
    row = session.execute(
        select(_QUEUES.c.due_at, _QUEUES.c.enqueued).where(_KEY),
        _key(queue),
    ).first()
    return None if row is None else (row.due_at, row.enqueued)


def reschedule(session: Session, queue: Queue, due_at: datetime) -> None:
    """The queue's first pending punch may be tried at `due_at`."""
    session.execute(
        update(_QUEUES).where(_KEY).values(due_at=due_at),
        _key(queue),
    )


def idle_unless_enqueued(session: Session, queue: Queue, enqueued: int) -> None:
    """Nothing pending was seen: idle, unless a commit added punches since `enqueued` was read."""
    session.execute(
        update(_QUEUES).where(_KEY, _QUEUES.c.enqueued == enqueued).values(due_at=None),
        _key(queue),
    )
