"""Database plumbing shared by the services: one SQLAlchemy instance each, Alembic migrations, readiness."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from flask_migrate import Migrate
from flask_migrate import upgrade as _alembic_upgrade
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event, text
from sqlalchemy.orm import DeclarativeBase

__all__ = ["database_is_reachable", "init_database", "make_db", "upgrade_db"]

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


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 10}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def init_database(app: Flask, db: SQLAlchemy, *, migrations: Path, version_table: str) -> None:
    """Bind `db` to the app's DATABASE_URL and register the service's Alembic migrations.

    Each service keeps its own version table, so several services may share one database.
    """
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", _engine_options(url))
    db.init_app(app)
    Migrate(app, db, directory=str(migrations), version_table=version_table, render_as_batch=True)
    if url.startswith("sqlite"):
        with app.app_context():
            event.listen(db.engine, "connect", _sqlite_pragmas)


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
