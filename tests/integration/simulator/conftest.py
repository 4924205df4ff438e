"""Fixtures for the EBS WebApi simulator tests: real servers on free 127.0.0.1 ports, real HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from bridge_gateway.simulator import create_app
from bridge_gateway.simulator.server import SimulatorServer
from tests.integration.simulator.sim_helpers import TEST_CONFIG, login_body


@pytest.fixture(scope="session")
def config_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test configuration: two subscriptions, three bridges, users of every kind."""
    path = tmp_path_factory.mktemp("simconfig") / "simulator.toml"
    path.write_text(TEST_CONFIG, encoding="utf-8")
    return path


@pytest.fixture
def start_server(config_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Any]]:
    """Start simulators on free ports (``start_server(**app_settings)``); all are stopped afterwards."""
    servers: list[SimulatorServer] = []

    def start(data_dir: Path | None = None, **settings: Any) -> SimulatorServer:
        app = create_app(
            {
                "SIMULATOR_CONFIG": str(config_file),
                "SIMULATOR_DATA_DIR": str(data_dir or tmp_path_factory.mktemp("simdata")),
                **settings,
            }
        )
        server = SimulatorServer(app, port=0).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def sim(config_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorServer]:
    """One simulator shared by a test module (tests use their own ids, so shared state does not matter)."""
    app = create_app({"SIMULATOR_CONFIG": str(config_file), "SIMULATOR_DATA_DIR": str(tmp_path_factory.mktemp("sim"))})
    with SimulatorServer(app, port=0) as server:
        yield server


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """A requests session, closed after the test."""
    with requests.Session() as session:
        yield session


@pytest.fixture
def token(http: requests.Session) -> Callable[..., str]:
    """Log in on a server and return the WebApi token: ``token(server, "esmaster", BranchID="002")``."""

    def get(server: SimulatorServer, user: str | None = "esmaster", **kwargs: Any) -> str:
        response = http.post(f"{server.url}/api/Login/Login", json=login_body(user, **kwargs), timeout=10)
        assert response.status_code == 200, response.text
        return response.json()["Model"]["WebApiToken"]

    return get
