"""Pooled connections are tested before use only after sitting idle, and one closed while idle is replaced
before the caller sees it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from shared.db import ping_when_idle, sqlalchemy_url

IDLE = 0.3


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(sqlalchemy_url(database_url), pool_size=1, max_overflow=0)
    ping_when_idle(engine, IDLE)
    yield engine
    engine.dispose()


@pytest.fixture
def pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """When the dialect pinged a connection (the real ping runs)."""
    seen: list[float] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        seen.append(time.monotonic())
        return ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return seen


def _use(engine: Engine) -> None:
    with engine.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar() == 1


def test_a_connection_in_steady_use_is_not_pinged(engine, pings):
    for _ in range(20):
        _use(engine)
    assert pings == []


def test_a_connection_idle_for_a_while_is_pinged_once_before_use(engine, pings):
    _use(engine)
    time.sleep(IDLE + 0.1)
    _use(engine)
    _use(engine)
    assert len(pings) == 1


def _backend(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(engine: Engine, pid: int) -> None:
    with create_engine(engine.url, poolclass=NullPool).connect() as admin:
        assert admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar() is True
    time.sleep(0.1)


def test_a_connection_closed_while_idle_is_replaced_unseen(engine, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("a server that can close a connection: PostgreSQL")
    closed = _backend(engine)
    _terminate(engine, closed)
    time.sleep(IDLE)
    assert _backend(engine) != closed  # no error: the ping found it closed and the pool reconnected


def test_a_connection_closed_while_in_steady_use_fails_once_then_the_pool_recovers(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("a server that can close a connection: PostgreSQL")
    engine = create_engine(sqlalchemy_url(database_url), pool_size=1, max_overflow=0)
    ping_when_idle(engine, 60.0)
    try:
        _terminate(engine, _backend(engine))
        with pytest.raises(OperationalError):
            _use(engine)
        _use(engine)
    finally:
        engine.dispose()
