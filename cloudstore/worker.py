"""`cloudstore worker`: the resource API's outbox worker, delivering punches to payroll."""

from __future__ import annotations

import signal
import threading

import click

from cloudstore.services import service_app

__all__ = ["worker"]


@click.command()
def worker() -> None:
    """Deliver committed punches through the bridge gateway until SIGTERM or Ctrl-C."""
    from resource_api.outbox.worker import run_worker

    app = service_app("resource_api")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    click.echo("outbox worker started")
    run_worker(app, stop=stop)
    click.echo("outbox worker stopped")
