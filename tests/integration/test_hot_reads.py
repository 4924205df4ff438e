"""Hot reads on the driver give the rows SQLAlchemy gives, outside any transaction, on one connection per thread
that survives the server closing it, is closed by `Engine.dispose()`, and is never shared with a forked child."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    func,
    insert,
    or_,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from shared.db import sqlalchemy_url
from shared.hot_reads import HotRead

_METADATA = MetaData()
_THINGS = Table(
    "hot_things",
    _METADATA,
    Column("id", String(8), primary_key=True),
    Column("alias", String(8)),
    Column("count", Integer),
    Column("active", Boolean),
    Column("seen_at", DateTime(timezone=True)),
)
_BY_ID_OR_ALIAS = HotRead(
    select(_THINGS.c.id, _THINGS.c.count, _THINGS.c.active, _THINGS.c.seen_at.label("when"))
    .where(or_(_THINGS.c.id == bindparam("key"), _THINGS.c.alias == bindparam("key")))
    .order_by(_THINGS.c.id)
)
_NOW = datetime(2026, 11, 24, 9, 30, 15, 250000, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(sqlalchemy_url(database_url))
    _METADATA.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(_THINGS),
            [
                {"id": "a", "alias": "x", "count": 3, "active": True, "seen_at": _NOW},
                {"id": "b", "alias": "a", "count": None, "active": False, "seen_at": None},
            ],
        )
    yield engine
    engine.dispose()


@pytest.fixture
def opened(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The threads that opened a driver connection, in order."""
    seen: list[str] = []
    raw_connection = engine.raw_connection

    def counted() -> object:
        seen.append(threading.current_thread().name)
        return raw_connection()

    monkeypatch.setattr(engine, "raw_connection", counted)
    return seen


def _is_postgresql(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def test_rows_are_what_sqlalchemy_gives(engine):
    with engine.connect() as connection:
        expected = connection.execute(_BY_ID_OR_ALIAS.statement, {"key": "a"}).all()
    rows = _BY_ID_OR_ALIAS.all(engine, {"key": "a"})
    assert [tuple(row) for row in rows] == [tuple(row) for row in expected]
    first = rows[0]
    assert (first.id, first.count, first.active) == ("a", 3, True)
    assert first.when.replace(tzinfo=first.when.tzinfo or UTC) == _NOW  # a datetime, as SQLAlchemy types it
    assert rows[1]._asdict() == {"id": "b", "count": None, "active": False, "when": None}
    assert _BY_ID_OR_ALIAS.first(engine, {"key": "nothing"}) is None


def test_a_read_sees_what_was_committed_since_and_holds_no_transaction(engine):
    assert _BY_ID_OR_ALIAS.first(engine, {"key": "c"}) is None
    with engine.begin() as connection:
        connection.execute(insert(_THINGS), {"id": "c", "count": 1, "active": True})
    assert _BY_ID_OR_ALIAS.first(engine, {"key": "c"}).count == 1
    if _is_postgresql(engine):
        with engine.connect() as connection:
            states = connection.execute(
                text(
                    "SELECT state FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalars()
            assert "idle in transaction" not in list(states)


def test_each_thread_keeps_one_connection(engine, opened):
    for _ in range(5):
        _BY_ID_OR_ALIAS.all(engine, {"key": "a"})
    worker = threading.Thread(target=lambda: [_BY_ID_OR_ALIAS.all(engine, {"key": "a"}) for _ in range(3)])
    worker.start()
    worker.join()
    assert opened == [threading.current_thread().name, worker.name]


def test_dispose_closes_the_connections(engine, opened):
    _BY_ID_OR_ALIAS.all(engine, {"key": "a"})
    engine.dispose()
    assert _BY_ID_OR_ALIAS.first(engine, {"key": "a"}).id == "a"
    assert len(opened) == 2


def test_an_error_is_sqlalchemys_and_the_next_read_works(engine, opened):
    missing = HotRead(select(Column("id", String)).select_from(Table("hot_missing", MetaData())))
    with pytest.raises(DBAPIError):
        missing.all(engine, {})
    assert _BY_ID_OR_ALIAS.first(engine, {"key": "a"}).id == "a"


def test_a_connection_that_fails_its_setup_is_closed(engine, monkeypatch):
    set_up: list[object] = []

    def failing(connection: object, _level: str) -> None:
        set_up.append(connection)
        raise RuntimeError("no autocommit")

    monkeypatch.setattr(engine.dialect, "set_isolation_level", failing)
    with pytest.raises(RuntimeError):
        _BY_ID_OR_ALIAS.all(engine, {"key": "a"})
    with pytest.raises(engine.dialect.loaded_dbapi.Error):  # closed, not left open for the collector
        set_up[0].cursor().execute("SELECT 1")
    monkeypatch.undo()
    assert _BY_ID_OR_ALIAS.first(engine, {"key": "a"}).id == "a"


def test_values_written_in_the_statement_are_its_own(engine):
    active = HotRead(select(_THINGS.c.id).where(_THINGS.c.active.is_(True), _THINGS.c.count > 2))
    assert [row.id for row in active.all(engine, {})] == ["a"]


def test_parameters_expanded_at_execution_are_refused(engine):
    with pytest.raises(ValueError, match="plain parameters"):
        HotRead(select(_THINGS.c.id).where(_THINGS.c.id.in_(bindparam("ids", expanding=True)))).all(engine, {"ids": []})


_BACKEND = HotRead(select(func.pg_backend_pid().label("pid")))


def _terminate(engine: Engine, pid: int) -> None:
    with create_engine(engine.url, poolclass=NullPool).connect() as admin:
        assert admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar() is True
    time.sleep(0.1)


def test_a_connection_the_server_closed_is_replaced_unseen(engine):
    if not _is_postgresql(engine):
        pytest.skip("a server that can close a connection: PostgreSQL")
    closed = _BACKEND.first(engine, {}).pid
    _terminate(engine, closed)
    assert _BACKEND.first(engine, {}).pid != closed  # no error: the read was asked again on a new connection


def test_postgresql_keeps_one_plan_per_hot_read(engine):
    if not _is_postgresql(engine):
        pytest.skip("PostgreSQL's plan cache")
    setting = HotRead(select(func.current_setting("plan_cache_mode").label("mode")))
    assert setting.first(engine, {}).mode == "force_generic_plan"
    with engine.connect() as connection:  # the pool's connections keep the server's default
        assert connection.execute(select(func.current_setting("plan_cache_mode"))).scalar() == "auto"


def _read_in_child(engine: Engine, answers: multiprocessing.Queue) -> None:
    answers.put(_BY_ID_OR_ALIAS.first(engine, {"key": "a"}).id)


def test_a_forked_child_opens_its_own_connection(engine):
    _BY_ID_OR_ALIAS.all(engine, {"key": "a"})
    before = _BACKEND.first(engine, {}).pid if _is_postgresql(engine) else None
    context = multiprocessing.get_context("fork")
    answers = context.Queue()
    child = context.Process(target=_read_in_child, args=(engine, answers))
    child.start()
    assert answers.get(timeout=30) == "a"
    child.join(30)
    assert child.exitcode == 0
    assert _BY_ID_OR_ALIAS.first(engine, {"key": "a"}).id == "a"  # the parent's connection still works
    if before is not None:
        assert _BACKEND.first(engine, {}).pid == before
