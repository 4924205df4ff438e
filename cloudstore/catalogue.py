"""`cloudstore store`: seed the store's catalogue (also done by `cloudstore up`) and send licence reminders."""

from __future__ import annotations

import json
import signal
import threading

import click

from cloudstore.services import service_app

__all__ = ["seed_catalogue", "store_group"]


def seed_catalogue() -> list[str]:
    """Add the built-in catalogue's missing apps to the auth server's database; return their codes."""
    from authserver.store.commands import seed

    app = service_app("authserver")
    with app.app_context():
        try:
            return seed()
        finally:
            app.extensions["sqlalchemy"].session.remove()
            app.extensions["sqlalchemy"].engine.dispose()


@click.group("store")
def store_group() -> None:
    """The store: catalogue and licence reminders."""


@store_group.command("seed")
def seed_command() -> None:
    """Add the built-in catalogue's apps that are missing (an operator's edits are kept), and give the apps
    whose pages the resource API serves their sign-in clients (secrets kept in ./var/secrets/app-clients.json)."""
    from cloudstore.internal_clients import ensure_app_clients

    added = seed_catalogue()
    click.echo(f"added: {', '.join(added)}" if added else "the catalogue is complete")
    clients = json.loads(ensure_app_clients()["RESOURCE_API_APP_CLIENTS"])
    click.echo(f"apps with a sign-in client: {', '.join(clients) or 'none'}")


@store_group.command("remind")
@click.option("--every", type=float, default=None, help="Keep running, sending due reminders every SECONDS.")
def remind_command(every: float | None) -> None:
    """E-mail admins whose licences end within 14 or 3 days (STORE_REMINDER_DAYS); each reminder goes once."""
    from authserver.store.commands import remind

    app = service_app("authserver")
    stop = threading.Event()
    if every:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
    while True:
        with app.app_context():
            try:
                sent = remind()
            finally:
                app.extensions["sqlalchemy"].session.remove()
        click.echo(f"{sent} reminder(s) sent")
        if not every or stop.wait(every):
            break
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()
