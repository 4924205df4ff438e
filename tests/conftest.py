"""Fixtures every test layer shares: an isolated database per test, on SQLite or on PostgreSQL."""

from __future__ import annotations

import gc
import os
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request, request_started
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from shared.secrets import use_cheap_password_hashing

# A real argon2id hash costs about half a second here; thousands of sign-ins would cost the suite minutes.
use_cheap_password_hashing()


@pytest.fixture(autouse=True)
def _isolated_var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own ./var (dev secrets, SQLite files, outbox) and no inherited DATABASE_URL."""
    var = tmp_path / "var"
    monkeypatch.setenv("CLOUDSTORE_VAR_DIR", str(var))
    return var


@contextmanager
def throwaway_database(sqlite_file: Path, *, prefix: str = "cs_test") -> Iterator[str]:
    """A SQLite file, or a new PostgreSQL database (dropped afterwards) when TEST_DATABASE_URL (or DATABASE_URL)
    names a PostgreSQL server."""
    base = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not base or not base.startswith("postgresql"):
        yield f"sqlite:///{sqlite_file}"
        return
    admin_url = make_url(base).set(drivername="postgresql+psycopg")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        # FILE_COPY (PostgreSQL 15+) copies the tiny template at once instead of WAL-logging it block by block.
        version = connection.execute(text("SHOW server_version_num")).scalar_one()
        strategy = " STRATEGY FILE_COPY" if int(version) >= 150000 else ""
        connection.execute(text(f'CREATE DATABASE "{name}"{strategy}'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        # Connections a test forgot (say, an engine of a served app) would otherwise be collected during a
        # later test and fail it with a ResourceWarning; the database is dropped with them anyway.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database for one test."""
    with throwaway_database(tmp_path / "test.db") as url:
        yield url


@pytest.fixture(scope="module")
def module_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One database for a module's running stack (its servers live as long as the module)."""
    with throwaway_database(tmp_path_factory.mktemp("db") / "module.db") as url:
        yield url


@pytest.fixture(autouse=True)
def _no_global_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """Services get their database from the `database_url` fixture, never from the environment."""
    if os.environ.get("DATABASE_URL"):
        monkeypatch.setenv("TEST_DATABASE_URL", os.environ["DATABASE_URL"])
        monkeypatch.delenv("DATABASE_URL")


def migrated_app(create_app, database_url: str, **overrides):
    """Yield a service app built for tests on `database_url`, migrated, inside its app context."""
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, **overrides})
    with app.app_context():
        from shared.db import upgrade_db

        upgrade_db()
        yield app
        app.extensions["sqlalchemy"].session.remove()
        app.extensions["sqlalchemy"].engine.dispose()


@pytest.fixture
def doors(app: Flask) -> Iterator[list[str]]:
    """The paths the full Flask app handled during the test. Only the full app sends `request_started`, so a
    request answered by a fast lane (`shared.fast_lane`) leaves no path here."""
    seen: list[str] = []

    def record(sender: Flask, **_: Any) -> None:
        seen.append(request.path)

    request_started.connect(record, app)
    yield seen
    request_started.disconnect(record, app)
