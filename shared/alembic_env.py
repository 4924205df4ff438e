"""The body of every service's Alembic `env.py`: migrate the current Flask app's database."""

from __future__ import annotations

import logging
from typing import Any

from alembic import context
from flask import current_app

__all__ = ["run_migrations"]

log = logging.getLogger("alembic.env")


def _skip_empty_autogenerate(ctx: Any, revision: Any, directives: list[Any]) -> None:
    if getattr(context.config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        log.info("No changes in schema detected.")


def run_migrations() -> None:
    """Run the migrations online against the app's engine (offline SQL generation is not offered)."""
    migrate = current_app.extensions["migrate"]
    engine = migrate.db.engine
    context.config.set_main_option(
        "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
    )
    options = dict(migrate.configure_args)
    options.setdefault("process_revision_directives", _skip_empty_autogenerate)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=migrate.db.metadata, **options)
        with context.begin_transaction():
            context.run_migrations()
