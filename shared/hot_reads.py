"""Hot reads: one-statement SELECTs on the request path, run on the database driver itself.

A token check or a clock agent's poll reads one statement of committed rows. Through SQLAlchemy that read cost
about 0.13 ms of CPU (compiling the cached statement's parameters, the execution context, the pool's checkout
and reset); the statement itself about 0.015 ms. A `HotRead` compiles its Core statement once per dialect and
runs it on the calling thread's own autocommit connection (no transaction, so no BEGIN or ROLLBACK on
PostgreSQL), applying the same bind and result type processing as SQLAlchemy, so its rows hold what a Core
execution's rows hold.

Each thread keeps one connection per engine, made by the engine's pool (so with its connect hooks, such as
SQLite's pragmas) and then detached from it; on PostgreSQL it keeps one generic plan per statement. A
connection the server closed fails its read, which is then asked once more on a new connection: a read can be
asked twice. `Engine.dispose()` closes them all, and a forked child never uses its parent's.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections import namedtuple
from collections.abc import Callable, Mapping
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Select, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError

__all__ = ["HotRead"]

Processor = Callable[[Any], Any] | None


class HotRead:
    """One Core SELECT, run on the driver (see the module's text). Rows are named tuples of its columns."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._plans: dict[tuple[str, str], _Plan] = {}

    def all(self, engine: Engine, params: Mapping[str, Any]) -> list[Any]:
        dialect = engine.dialect
        plan = self._plans.get((dialect.name, dialect.driver)) or self._plan(dialect)
        return plan.run(engine, params)

    def first(self, engine: Engine, params: Mapping[str, Any]) -> Any | None:
        rows = self.all(engine, params)
        return rows[0] if rows else None

    def _plan(self, dialect: Dialect) -> _Plan:
        compiled = self.statement.compile(dialect=dialect)
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("a hot read takes plain parameters only (no IN lists or literal parameters)")
        binds = {name: bind.type.dialect_impl(dialect).bind_processor(dialect) for name, bind in compiled.binds.items()}
        columns = list(self.statement.selected_columns)
        keys = [column.key for column in columns]
        plan = _Plan(
            sql=str(compiled),
            values={name: value for name, value in compiled.params.items() if value is not None},
            order=tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None,
            binds={name: processor for name, processor in binds.items() if processor is not None},
            row=namedtuple("Row", keys),  # type: ignore[misc]  # noqa: PYI024 - the keys are the statement's
            types=[column.type.dialect_impl(dialect) for column in columns],
            dialect=dialect,
        )
        self._plans[(dialect.name, dialect.driver)] = plan
        return plan


@dataclass
class _Plan:
    """A statement compiled for one dialect: its SQL, how to pass its parameters, how to type its rows."""

    sql: str
    values: dict[str, Any]  # the statement's own values (`column == 5`), under the caller's parameters
    order: tuple[str, ...] | None  # positional parameter styles; None for named ones
    binds: dict[str, Callable[[Any], Any]]
    row: Any
    types: list[Any]
    dialect: Dialect
    results: list[Processor] | None = None  # from the first cursor's description, as SQLAlchemy does

    def run(self, engine: Engine, params: Mapping[str, Any]) -> list[Any]:
        if self.values:
            params = {**self.values, **params}
        if self.binds:
            params = {name: self.binds[name](value) if name in self.binds else value for name, value in params.items()}
        arguments: Any = [params[name] for name in self.order] if self.order is not None else params
        try:
            description, rows = _connections(engine).execute(engine, self.sql, arguments, self.results is None)
        except self.dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(
                self.sql, arguments, exc, self.dialect.loaded_dbapi.Error, dialect=self.dialect
            ) from exc
        if self.results is None:
            self.results = [
                kind.result_processor(self.dialect, column[1])
                for kind, column in zip(self.types, description, strict=True)
            ]
        make = self.row._make
        if not any(self.results):
            return [make(row) for row in rows]
        processors = self.results
        return [
            make([value if p is None else p(value) for p, value in zip(processors, row, strict=True)]) for row in rows
        ]


class _Connections:
    """Each thread's own autocommit driver connection to one engine's database."""

    def __init__(self, engine: Engine) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: set[Any] = set()
        self._generation = 0
        event.listen(engine, "engine_disposed", self._close_all)

    def execute(self, engine: Engine, sql: str, arguments: Any, describe: bool) -> tuple[Any, list[Any]]:
        for attempt in (1, 2):
            connection = self._connection(engine)
            try:
                return _execute(connection, sql, arguments, describe)
            except engine.dialect.loaded_dbapi.Error as exc:
                self._drop(connection)
                if attempt == 2 or not engine.dialect.is_disconnect(exc, connection, None):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover - the second attempt returns or raises

    def _connection(self, engine: Engine) -> Any:
        local = self._local
        if getattr(local, "generation", None) == (self._generation, _forks):
            return local.connection
        pooled = engine.raw_connection()
        pooled.detach()
        connection = pooled.dbapi_connection
        try:
            engine.dialect.set_isolation_level(connection, "AUTOCOMMIT")
            if (setup := _SESSION_SETUP.get(engine.dialect.name)) is not None:
                with closing(connection.cursor()) as cursor:
                    cursor.execute(setup)
        except BaseException:
            _close(connection)  # detached: nobody else would close it
            raise
        with self._lock:
            self._open.add(connection)
        local.connection, local.generation = connection, (self._generation, _forks)
        return connection

    def _drop(self, connection: Any) -> None:
        self._local.generation = None
        with self._lock:
            self._open.discard(connection)
        _close(connection)

    def _close_all(self, _engine: Engine) -> None:
        with self._lock:
            self._generation += 1
            connections, self._open = self._open, set()
        for connection in connections:
            _close(connection)

    def forget_parents(self) -> None:
        """In a forked child: the parent's connections are the parent's to close."""
        self._lock = threading.Lock()
        self._open = set()


def _execute(connection: Any, sql: str, arguments: Any, describe: bool) -> tuple[Any, list[Any]]:
    """(the cursor's description when asked for, its rows); psycopg builds the description anew each time."""
    cursor = connection.cursor()
    try:
        cursor.execute(sql, arguments)
        return cursor.description if describe else None, cursor.fetchall()
    finally:
        cursor.close()


def _close(connection: Any) -> None:
    try:
        connection.close()
    except Exception:  # noqa: BLE001, S110 - already broken: nothing to hand back
        pass


# A hot read looks rows up by key, and its generic plan (made once, when psycopg prepares the statement after a
# few reads) is the right plan. Left to choose, PostgreSQL plans each execution anew once a column's values are
# skewed (a batch of 1,000 punches next to batches of one makes the custom plan look cheaper), which on the
# seeded benchmark doubled the database's work per read.
_SESSION_SETUP = {"postgresql": "SET plan_cache_mode = force_generic_plan"}

_BY_ENGINE: weakref.WeakKeyDictionary[Engine, _Connections] = weakref.WeakKeyDictionary()
_BY_ENGINE_LOCK = threading.Lock()
_forks = 0  # a child process opens its own connections; its parent's belong to the parent


def _connections(engine: Engine) -> _Connections:
    connections = _BY_ENGINE.get(engine)
    if connections is None:
        with _BY_ENGINE_LOCK:
            connections = _BY_ENGINE.get(engine) or _BY_ENGINE.setdefault(engine, _Connections(engine))
    return connections


def _after_fork() -> None:
    global _forks, _BY_ENGINE_LOCK  # noqa: PLW0603 - the fork hook renews the module's state
    _forks += 1
    _BY_ENGINE_LOCK = threading.Lock()  # another thread of the parent may have held it
    for connections in list(_BY_ENGINE.values()):
        connections.forget_parents()


os.register_at_fork(after_in_child=_after_fork)
