"""`cloudstore db`: schema migrations for every service's database."""

from __future__ import annotations

import click

from cloudstore.services import SERVICES, service_app

__all__ = ["db_group", "upgrade_all"]


def upgrade_all() -> None:
    """Apply every service's migrations, and give the auth server its first signing keys."""
    from authserver.extensions import db
    from authserver.keys.service import ensure_keys
    from shared.db import upgrade_db
    from shared.keys import SUPPORTED_ALGS
    from shared.service import encryptor

    for service in SERVICES:
        app = service_app(service.name)
        with app.app_context():
            upgrade_db()
            if service.name == "authserver":
                ensure_keys(session=db.session, encryptor=encryptor(), algs=SUPPORTED_ALGS)
            app.extensions["sqlalchemy"].engine.dispose()


@click.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
def upgrade() -> None:
    """Apply all migrations of all services."""
    upgrade_all()
    click.echo("databases are up to date")
