"""Gapless sequences: a counter row incremented inside the caller's transaction.

`INSERT … ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value` takes the row's lock (PostgreSQL)
or the database's write lock (SQLite) until the caller commits or rolls back, so concurrent transactions get
consecutive numbers and a rolled-back one gives its number back: no gaps, no duplicates.
"""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from authserver.store.models import Counter

__all__ = ["next_value"]


def next_value(*, session: Session, name: str) -> int:
    """The next value of counter `name` (1 for a new counter), held until the caller's transaction ends."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Counter).values(name=name, value=1)
    statement = statement.on_conflict_do_update(
        index_elements=[Counter.name], set_={"value": Counter.value + 1}
    ).returning(Counter.value)
    return int(session.execute(statement).scalar_one())
