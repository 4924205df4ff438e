"""A throw-away database for one benchmark run: a SQLite file, or a new database on the given PostgreSQL server.

Each run generates its own development secrets (in its temporary var folder), so it must not meet the
encrypted keys an earlier run left in a database; a fresh database also keeps seeded rows out of the next run.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

__all__ = ["fresh_database"]


@contextmanager
def fresh_database(server_url: str | None) -> Iterator[str | None]:
    """Yield the URL of a new, empty PostgreSQL database on `server_url`'s server, dropped afterwards; or None
    (the stack's default SQLite files) when no PostgreSQL server is named."""
    if not server_url or not server_url.startswith("postgres"):
        yield None
        return
    admin_url = make_url(server_url).set(drivername="postgresql+psycopg")
    name = f"cloudstore_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
