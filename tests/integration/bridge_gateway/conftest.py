"""Fixtures for the bridge gateway: the app with service tokens it trusts, the EBS simulator on a real port.

The gateway tests share one migrated database per session (SQLite, or PostgreSQL when TEST_DATABASE_URL /
DATABASE_URL names a server) and empty its tables after each test: creating and migrating a PostgreSQL
database per test would cost more than the tests themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete

from bridge_gateway import create_app
from bridge_gateway.audit import AuditRecord
from bridge_gateway.bridges.models import Bridge
from bridge_gateway.extensions import db
from bridge_gateway.runtime import Gateway
from bridge_gateway.simulator.server import SimulatorServer
from tests.conftest import migrated_app, throwaway_database
from tests.integration.bridge_gateway.gw_helpers import TokenMint, bridge_body, serve
from tests.stack import start_simulator

# Short limits, so that fault tests take fractions of a second.
FAST = {
    "ALLOWED_NETWORKS": ["127.0.0.1/32"],
    "EGRESS_ADDRESSES": ["198.51.100.7", "203.0.113.9"],
    "CONNECT_TIMEOUT_SECONDS": 0.5,
    "READ_TIMEOUT_SECONDS": 0.5,
    "CALL_DEADLINE_SECONDS": 3.0,
    "RETRIES": 1,
    "RETRY_BACKOFF_SECONDS": 0.01,
    "RETRY_BACKOFF_MAX_SECONDS": 0.02,
    "BREAKER_FAILURE_THRESHOLD": 3,
    "BREAKER_RESET_SECONDS": 0.3,
    "BRIDGE_MAX_CONCURRENCY": 4,
    "BRIDGE_QUEUE_TIMEOUT_SECONDS": 0.05,
}


@pytest.fixture(scope="session")
def mint() -> Iterator[TokenMint]:
    """Signs service tokens; its JWKS is served on a real port, as the auth server serves it."""
    token_mint = TokenMint()
    with serve(token_mint.wsgi) as url:
        token_mint.issuer = url
        yield token_mint


@pytest.fixture(scope="session")
def gateway_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One database for the session's gateway tests."""
    with throwaway_database(tmp_path_factory.mktemp("gateway-db") / "gateway.db", prefix="cs_test_gw") as url:
        yield url


@pytest.fixture
def make_app(gateway_database_url: str, mint: TokenMint) -> Iterator[Callable[..., Flask]]:
    """Build migrated gateway apps: `make_app(RETRIES=0, ...)`; closed, and their rows deleted, after the test."""
    made: list[tuple[Flask, Iterator[Flask]]] = []

    def make(**overrides: Any) -> Flask:
        settings = {"AUTH_SERVER_URL": mint.issuer, **FAST, **overrides}
        generator = migrated_app(create_app, gateway_database_url, **settings)
        app = next(generator)
        made.append((app, generator))
        return app

    yield make
    for app, generator in reversed(made):
        _dispose(app, generator)


def _dispose(app: Flask, generator: Iterator[Flask]) -> None:
    """Close the app's gateway, delete the rows it wrote, and leave its app context."""
    app.extensions["bridge_gateway"].close()  # writes the audit rows still queued
    db.session.rollback()
    db.session.execute(delete(AuditRecord))
    db.session.execute(delete(Bridge))
    db.session.commit()
    next(generator, None)


@pytest.fixture(scope="module")
def module_client(gateway_database_url: str, mint: TokenMint) -> Iterator[FlaskClient]:
    """One app for a module's read-only matrices (nothing registered), to spare an app per case."""
    generator = migrated_app(create_app, gateway_database_url, AUTH_SERVER_URL=mint.issuer, **FAST)
    app = next(generator)
    yield app.test_client()
    _dispose(app, generator)


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def test_client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def gw(app: Flask) -> Gateway:
    """The app's gateway parts (guard, upstream channels, metrics)."""
    return app.extensions["bridge_gateway"]


@pytest.fixture
def headers(mint: TokenMint) -> dict[str, str]:
    """A service token with both gateway scopes."""
    return mint.headers()


@pytest.fixture
def start_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., SimulatorServer]]:
    """Start EBS simulators on free ports (demo configuration unless `config`): `start_sim(TOKEN_LIFETIME_SECONDS=2)`.

    Each gets its own data dir (`server.data_dir`, holding CSWebAssets/).
    """
    servers: list[SimulatorServer] = []

    def start(config: Path | None = None, **settings: Any) -> SimulatorServer:
        data_dir = tmp_path_factory.mktemp("sim")
        server = start_simulator(data_dir, config=config, **settings)
        server.data_dir = Path(data_dir)  # type: ignore[attr-defined]
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def sim(start_sim: Callable[..., SimulatorServer]) -> SimulatorServer:
    """A simulator of this test's own (faults never leak between tests)."""
    return start_sim()


@pytest.fixture
def bridge(test_client: FlaskClient, headers: dict[str, str], sim: SimulatorServer) -> dict[str, Any]:
    """The demo bridge registered at the simulator's address."""
    response = test_client.post("/v1/bridges", json=bridge_body(sim.url), headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


BRIDGE = "/v1/bridges/demo/Demo_002"
