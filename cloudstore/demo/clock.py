"""The demo plays the ZKTeco clock: a tiny ADMS ("iclock") push client, as firmware 2.x talks to its Cloud Server,
and the on-premises agent it talks to, started as `cloudstore agent run` with the endpoint token's API key."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import requests

from cloudstore.demo.browser import StepFailed

__all__ = ["AgentProcess", "Clock", "Punch"]

START_SECONDS = 30.0


@dataclass(frozen=True)
class Punch:
    """One attendance record as the clock keeps it: PIN, local wall time, status (0 in, 1 out)."""

    pin: str
    local_time: str
    status: int

    def line(self) -> str:
        """An ATTLOG line: PIN, time, status, verify (1 = fingerprint), work code, five reserved fields."""
        return "\t".join([self.pin, self.local_time, str(self.status), "1", "0", "0", "0", "0", "0", "0"])


class Clock:
    """A clock in push mode: the handshake, then ATTLOG records posted to `/iclock/cdata`."""

    def __init__(self, agent_url: str, serial: str) -> None:
        self.url = agent_url.rstrip("/") + "/iclock/cdata"
        self.serial = serial
        self.http = requests.Session()
        self.http.headers["User-Agent"] = "iClock Proxy/1.09"

    def handshake(self) -> str:
        """`GET /iclock/cdata?SN=…&options=all`: the server's options for this clock."""
        params = {"SN": self.serial, "options": "all", "pushver": "2.4.1", "language": "69"}
        response = self.http.get(self.url, params=params, timeout=5)
        if response.status_code != 200 or "GET OPTION FROM" not in response.text:
            raise StepFailed(f"the agent's handshake answered {response.status_code}: {response.text[:200]}")
        return response.text

    def push(self, punches: Sequence[Punch]) -> str:
        """Post the records; the agent answers `OK: n` once they are safely in its spool."""
        body = "".join(punch.line() + "\n" for punch in punches)
        params = {"SN": self.serial, "table": "ATTLOG", "Stamp": "1"}
        response = self.http.post(self.url, params=params, data=body.encode(), timeout=10)
        if response.status_code != 200 or not response.text.startswith("OK"):
            raise StepFailed(f"the agent answered the push with {response.status_code}: {response.text[:200]}")
        return response.text.strip()

    def close(self) -> None:
        """Drop the connection."""
        self.http.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AgentProcess:
    """`cloudstore agent run` in a folder of its own (settings, spool, log); the key goes in through the environment."""

    def __init__(self, resource_api: str, api_key: str) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="cloudstore-demo-agent-"))
        self.port = _free_port()
        self.config = self.folder / "agent.toml"
        self.config.write_text(
            f'resource_api_url = "{resource_api}"\n'
            f'listen_host = "127.0.0.1"\nlisten_port = {self.port}\n'
            f'spool_dir = "{self.folder / "spool"}"\nupload_interval = 1.0\nretry_max = 5.0\n',
            encoding="utf-8",
        )
        self.log = self.folder / "agent.log"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDSTORE_AGENT_")}
        self.env["CLOUDSTORE_AGENT_API_KEY"] = api_key
        self.popen: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Where clocks reach it."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AgentProcess:
        """Start it and wait until it listens; fail with the end of its log if it stops."""
        argv = [sys.executable, "-m", "cloudstore.cli", "agent", "run", "--config", str(self.config)]
        with self.log.open("wb") as log:
            self.popen = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=self.env)  # noqa: S603
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise StepFailed(f"the agent exited with status {self.popen.returncode}: {self.tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.2)
        raise StepFailed(f"the agent did not listen on port {self.port} within {START_SECONDS:.0f} s: {self.tail()}")

    def tail(self, lines: int = 3) -> str:
        """The last lines of its log (it never logs the key)."""
        try:
            return " | ".join(self.log.read_text(errors="replace").strip().splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """SIGTERM (a clean stop: the upload in flight finishes), then remove its folder."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        shutil.rmtree(self.folder, ignore_errors=True)
