"""`flask --app authserver store seed|remind` (and `cloudstore store …`): seed the catalogue, send reminders."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from authserver.extensions import db
from authserver.store.clock import utcnow

__all__ = ["remind", "seed", "store_cli"]


def seed() -> list[str]:
    """Add the catalogue's missing apps (inside an app context); return their codes."""
    from authserver.store.catalogue.seed import seed_catalogue

    return seed_catalogue(session=db.session)


def remind() -> int:
    """Send the expiry reminders that are due (inside an app context); return how many were sent."""
    from authserver.store.emails import send_expiry_reminder
    from authserver.store.licences.reminders import send_expiry_reminders

    days = current_app.config["STORE_REMINDER_DAYS"]
    return send_expiry_reminders(session=db.session, now=utcnow(), send=send_expiry_reminder, days_before=days)


@click.group("store")
def store_cli() -> None:
    """The store: catalogue and licence reminders."""


@store_cli.command("seed")
@with_appcontext
def seed_command() -> None:
    """Add the built-in catalogue's apps that are missing (edits are kept)."""
    added = seed()
    click.echo(f"added: {', '.join(added)}" if added else "the catalogue is complete")


@store_cli.command("remind")
@with_appcontext
def remind_command() -> None:
    """E-mail admins whose licences end within the reminder thresholds (run daily)."""
    click.echo(f"{remind()} reminder(s) sent")
