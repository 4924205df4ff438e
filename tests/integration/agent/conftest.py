"""Fixtures for the clock connector: the cloud double, an agent in this process or as a real process, clocks."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cloudstore.agent.config import AgentConfig, DeviceSettings
from cloudstore.agent.runtime import Agent
from cloudstore.cli import main

from .doubles import CloudDouble, ZkDevice, wait_until

SERIAL = "CQZ7233360001"
UNLISTED_SERIAL = "BOCK200960123"
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def api_key() -> str:
    """A realistic-looking key, distinctive enough to grep for in logs."""
    return "csk_" + secrets.token_urlsafe(32)


@pytest.fixture
def cloud(api_key: str) -> Iterator[CloudDouble]:
    double = CloudDouble(api_key).start()
    yield double
    double.stop()


@pytest.fixture
def config(tmp_path: Path, cloud: CloudDouble, api_key: str) -> AgentConfig:
    """Settings for an agent on a free port with fast retries, one listed clock in Athens, the rest in UTC."""
    return AgentConfig(
        resource_api_url=cloud.url,
        listen_port=0,
        spool_dir=tmp_path / "spool",
        timezone="UTC",
        upload_interval=0.2,
        request_timeout=5,
        retry_initial=0.05,
        retry_max=0.3,
        devices={SERIAL: DeviceSettings(SERIAL, "EL-1", "Europe/Athens")},
        api_key=api_key,
    )


@pytest.fixture
def start_agent(config: AgentConfig) -> Iterator[Callable[..., Agent]]:
    """Start an agent in this process (settings overridable); every agent started is stopped at the end."""
    agents: list[Agent] = []

    def _start(**overrides: Any) -> Agent:
        agent = Agent(replace(config, **overrides)).start()
        agents.append(agent)
        return agent

    yield _start
    for agent in agents:
        agent.stop()


@pytest.fixture
def agent(start_agent: Callable[..., Agent]) -> Agent:
    return start_agent()


@pytest.fixture
def clock(agent: Agent) -> Iterator[ZkDevice]:
    device = ZkDevice(agent.url, SERIAL)
    yield device
    device.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(path: Path, config: AgentConfig, **overrides: Any) -> Path:
    """The TOML a customer would write for `config` (the API key is never in it)."""
    config = replace(config, **overrides)
    lines = [
        f'resource_api_url = "{config.resource_api_url}"',
        f'listen_host = "{config.listen_host}"',
        f"listen_port = {config.listen_port}",
        f'spool_dir = "{config.spool_dir.as_posix()}"',
        f'timezone = "{config.timezone}"',
        f"batch_size = {config.batch_size}",
        f"upload_interval = {config.upload_interval}",
        f"request_timeout = {config.request_timeout}",
        f"retry_initial = {config.retry_initial}",
        f"retry_max = {config.retry_max}",
    ]
    for serial, device in config.devices.items():
        lines += [f"[devices.{serial}]", f'device_code = "{device.device_code}"', f'timezone = "{device.timezone}"']
    path.write_text("\n".join(lines) + "\n")
    return path


class AgentProcess:
    """`cloudstore agent run` as a real process, its output in a file."""

    def __init__(self, config_path: Path, port: int, log_path: Path, env: dict[str, str]) -> None:
        self.config_path, self.port, self.log_path, self.env = config_path, port, log_path, env
        self.popen: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AgentProcess:
        argv = [sys.executable, "-m", "cloudstore.cli", "agent", "run", "--config", str(self.config_path)]
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=REPO)
        wait_until(self._listening, 15, "the agent to listen")
        return self

    def _listening(self) -> bool:
        assert self.popen is not None
        if self.popen.poll() is not None:
            raise AssertionError(f"the agent exited early:\n{self.output()}")
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def kill(self) -> None:
        """SIGKILL: no chance to clean up."""
        assert self.popen is not None
        self.popen.kill()
        self.popen.wait(10)

    def terminate(self) -> int:
        assert self.popen is not None
        self.popen.send_signal(signal.SIGTERM)
        return self.popen.wait(15)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def agent_process(tmp_path: Path, config: AgentConfig, api_key: str) -> Iterator[Callable[..., AgentProcess]]:
    """Build (not start) agent processes sharing one config file and spool; all are killed at the end."""
    processes: list[AgentProcess] = []
    port = free_port()

    def _make(*, key: str | None = None, **overrides: Any) -> AgentProcess:
        path = write_config(tmp_path / "agent.toml", config, listen_port=port, **overrides)
        env = {**os.environ, "CLOUDSTORE_AGENT_API_KEY": key or api_key}
        process = AgentProcess(path, port, tmp_path / "agent.log", env)
        processes.append(process)
        return process

    yield _make
    for process in processes:
        if process.popen and process.popen.poll() is None:
            process.kill()


@pytest.fixture
def cli(tmp_path: Path, config: AgentConfig, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run `cloudstore agent …` in this process against the test's config file."""
    path = write_config(tmp_path / "cli.toml", config)
    monkeypatch.setenv("CLOUDSTORE_AGENT_CONFIG", str(path))

    def _invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(main, ["agent", *args], env=env, catch_exceptions=False)

    return _invoke
