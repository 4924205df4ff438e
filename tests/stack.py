"""Running parts the integration and end-to-end tests share: WSGI apps served on free ports, the EBS simulator,
and the bridge gateway migrated and served. Each is a context manager, so a module composes the parts it needs in
an `ExitStack` and they stop in reverse order."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from flask import Flask
from werkzeug.serving import make_server

from authserver import create_app as create_auth_server
from authserver.clients.service import NewClient, create_client
from authserver.extensions import db as auth_db
from bridge_gateway import create_app as create_gateway
from bridge_gateway.simulator import create_app as create_simulator
from bridge_gateway.simulator.server import SimulatorServer
from resource_api import create_app as create_resource_api
from shared.config import config_dir
from shared.db import upgrade_db


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LateApp:
    """A WSGI app set after the server is bound, so that the app can know its own URL (ISSUER)."""

    app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self.app(environ, start_response)


@contextmanager
def served(app: Callable[..., Any]) -> Iterator[str]:
    """Run a WSGI app on a free 127.0.0.1 port in a thread; yields its base URL and stops it on exit."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def start_simulator(
    data_dir: Path | str, *, config: Path | str | None = None, port: int = 0, control: bool = True, **settings: Any
) -> SimulatorServer:
    """Start the EBS simulator on `port` (0: a free one) keeping its files in `data_dir`, with the demo
    configuration unless `config`, and extra `settings`; the caller stops it."""
    app = create_simulator(
        {
            "SIMULATOR_CONFIG": str(config or config_dir() / "simulator.toml"),
            "SIMULATOR_DATA_DIR": str(data_dir),
            **settings,
        }
    )
    return SimulatorServer(app, port=port, control=control).start()


@contextmanager
def running_simulator(data_dir: Path | str, **options: Any) -> Iterator[SimulatorServer]:
    """`start_simulator` as a context manager."""
    simulator = start_simulator(data_dir, **options)
    try:
        yield simulator
    finally:
        simulator.stop()


def loopback_gateway_settings(database_url: str, issuer: str, **extra: Any) -> dict[str, Any]:
    """A gateway trusting `issuer`'s service tokens that reaches ERPs on 127.0.0.1 only, fails fast, never retries."""
    return {
        "DATABASE_URL": database_url,
        "AUTH_SERVER_URL": issuer,
        "RETRIES": 0,
        "ALLOWED_NETWORKS": ["127.0.0.1/32"],
        "CONNECT_TIMEOUT_SECONDS": 0.5,
        **extra,
    }


@contextmanager
def served_gateway(settings: dict[str, Any]) -> Iterator[tuple[Flask, str]]:
    """Build the bridge gateway with `settings`, migrate it and serve it; yields the app and its URL, and on exit
    stops it, closes its HTTP pool and disposes its engine."""
    gateway_app = create_gateway(settings)
    with gateway_app.app_context():  # migrate, then leave the caller's own app context on top
        upgrade_db()
    try:
        with served(gateway_app) as url:
            yield gateway_app, url
    finally:
        gateway_app.extensions["bridge_gateway"].close()
        with gateway_app.app_context():
            gateway_app.extensions["sqlalchemy"].engine.dispose()


@contextmanager
def smtp_inbox(handler: Any) -> Iterator[str]:
    """An aiosmtpd server on a free port handing each message to `handler`; yields its smtp:// URL."""
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()


def bootstrap_auth_server(settings: dict[str, Any], *clients: tuple[str, str, str]) -> list[NewClient]:
    """Migrate the auth server's database and create its internal clients, each given as (name, scope, audience);
    the bootstrap app's engine is disposed before returning."""
    bootstrap = create_auth_server(settings)
    with bootstrap.app_context():
        upgrade_db()
        created = [
            create_client(session=auth_db.session, name=name, scope=scope, audience=audience, is_internal=True)
            for name, scope, audience in clients
        ]
        auth_db.session.remove()
        auth_db.engine.dispose()
    return created


def dispose(app: Flask) -> None:
    """Close the pooled database connections of a served app."""
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()


@contextmanager
def served_resource_api(settings: dict[str, Any]) -> Iterator[tuple[Flask, str]]:
    """Build the resource API with `settings`, migrate it and serve it; yields the app and its URL."""
    resource_app = create_resource_api(settings)
    with resource_app.app_context():
        upgrade_db()
    try:
        with served(resource_app) as url:
            yield resource_app, url
    finally:
        dispose(resource_app)
