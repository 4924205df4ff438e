"""Database plumbing shared by the services: one SQLAlchemy instance each, Alembic migrations, readiness."""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from flask_migrate import Migrate
from flask_migrate import upgrade as _alembic_upgrade
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Engine, MetaData, event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase

__all__ = [
    "database_is_reachable",
    "write_turn",
    "init_database",
    "make_db",
    "ping_when_idle",
    "sqlalchemy_url",
    "upgrade_db",
]

_NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def make_db() -> SQLAlchemy:
    """A Flask-SQLAlchemy instance with its own metadata and stable constraint names."""

    class Base(DeclarativeBase):
        metadata = MetaData(naming_convention=_NAMING)

    return SQLAlchemy(model_class=Base)


# A pooled connection that sat idle this long is tested before use (a server restart or an idle timeout on the
# way may have closed it). A connection back in use sooner is not: under load that test was one more round trip
# per request. A connection that breaks while busy fails its statement once, and the pool then replaces every
# connection it holds (SQLAlchemy's invalidation on disconnect).
PING_WHEN_IDLE_SECONDS = 5.0


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    return {"pool_size": 5, "max_overflow": 10}


def ping_when_idle(engine: Engine, idle_seconds: float = PING_WHEN_IDLE_SECONDS) -> None:
    """Test a pooled connection at checkout when it has been idle `idle_seconds` or more; one that fails is
    replaced by a new connection before the caller sees it."""

    @event.listens_for(engine, "checkin")
    def _idle_from_now(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("a pooled connection was closed while idle") from exc  # the pool reconnects


_IDLE_SINCE = "cloudstore_idle_since"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # FULL: a commit is on disk when it returns, so an answer given after it (a 202 for clock punches, which the
    # agent then drops from its spool) survives a power loss too. NORMAL would lose the last commits then.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


@contextmanager
def write_turn(engine: Engine) -> Iterator[None]:
    """A write transaction's turn among the writers of a SQLite file, from before its first write to after its
    commit: an OS file lock beside the database (`<database>-writers`). Nothing on other databases.

    SQLite lets one writer in at a time, and one that finds the database locked sleeps and tries again (1, 2, 5,
    10 ms...), so the lock sat idle for milliseconds after each commit while the others slept: under concurrent
    punch batches, a fifth of the writing time. A writer waiting on the file lock is woken as it is released.
    Each turn opens the file anew, so threads and forked processes exclude each other alike.
    """
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        yield
        return
    with open(path + "-writers", "ab") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield  # closing the file releases the lock


def sqlalchemy_url(database_url: str) -> str:
    """DATABASE_URL as SQLAlchemy names it: `postgresql://` is served by psycopg 3."""
    if database_url.startswith("postgresql://"):
        return "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    return database_url


def init_database(app: Flask, db: SQLAlchemy, *, migrations: Path, version_table: str) -> None:
    """Bind `db` to the app's DATABASE_URL and register the service's Alembic migrations.

    Each service keeps its own version table, so several services may share one database.
    """
    url = sqlalchemy_url(app.config["DATABASE_URL"])
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", _engine_options(url))
    db.init_app(app)
    Migrate(app, db, directory=str(migrations), version_table=version_table, render_as_batch=True)
    with app.app_context():
        if url.startswith("sqlite"):
            event.listen(db.engine, "connect", _sqlite_pragmas)
        else:
            ping_when_idle(db.engine)


def upgrade_db() -> None:
    """Apply every migration of the current app (inside its app context)."""
    _alembic_upgrade()


def database_is_reachable(db: SQLAlchemy) -> bool:
    """True when a trivial query succeeds."""
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        return False
