"""The skeleton every service's application factory shares: config, logging, errors, database, health."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify
from flask_sqlalchemy import SQLAlchemy

from shared.config import load_config, var_dir
from shared.db import database_is_reachable, init_database
from shared.errors import ServiceUnavailable, register_error_handlers
from shared.logging import configure_logging, install_request_ids
from shared.secrets import Encryptor, load_or_create_dev_key

__all__ = ["create_service_app", "dev_secret", "encryptor"]


def create_service_app(
    import_name: str,
    *,
    service: str,
    db: SQLAlchemy,
    migrations: Path,
    overrides: Mapping[str, Any] | None = None,
    required: Iterable[str] = (),
    encrypts: bool = False,
) -> Flask:
    """Build a Flask app for `service` with config, request ids, problem errors, its database and health checks.

    A service that `encrypts` secrets at rest gets an `Encryptor` from ENCRYPTION_KEYS (comma-separated
    Fernet keys, newest first).
    """
    app = Flask(import_name)
    load_config(app, service=service, overrides=overrides, required=required)
    app.config["SERVICE_NAME"] = service
    configure_logging(app.config.get("LOG_LEVEL", "INFO"))
    install_request_ids(app)
    register_error_handlers(app)
    init_database(app, db, migrations=migrations, version_table=f"alembic_version_{service}")
    app.register_blueprint(_health_blueprint(db))
    if encrypts:
        app.extensions["encryptor"] = Encryptor.from_setting(dev_secret(app, "ENCRYPTION_KEYS"))
    return app


def encryptor() -> Encryptor:
    """The current app's encryptor for secrets at rest."""
    return current_app.extensions["encryptor"]


def dev_secret(app: Flask, name: str) -> str:
    """The setting `name`, or for development a random value generated once into ./var/secrets/."""
    value = app.config.get(name)
    if value:
        return str(value)
    if app.config.get("ENV_PRODUCTION"):
        raise RuntimeError(f"{app.config['SERVICE_NAME'].upper()}_{name} must be set in production")
    value = load_or_create_dev_key(var_dir() / "secrets" / f"{app.config['SERVICE_NAME']}-{name.lower()}")
    app.config[name] = value
    return value


def _health_blueprint(db: SQLAlchemy) -> Blueprint:
    bp = Blueprint("health", __name__)

    @bp.get("/healthz")
    def healthz() -> Any:
        """Alive: the process answers."""
        return jsonify(status="ok")

    @bp.get("/readyz")
    def readyz() -> Any:
        """Ready: the database answers."""
        if not database_is_reachable(db):
            raise ServiceUnavailable("The database is not reachable.")
        return jsonify(status="ready")

    return bp
