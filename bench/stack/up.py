"""`cloudstore up` as production runs it (production servers, a worker per core), in a throw-away var folder."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

__all__ = ["Up", "free_ports"]

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("authserver", "resource_api", "bridge_gateway")


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_ports(count: int) -> list[int]:
    """`count` free ports, each followed by a free one (the simulator's control port)."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in ports and port + 1 not in ports and _free(port + 1):
            ports.append(port)
    return ports


@dataclass
class Up:
    """The running stack: its URLs, its environment (for commands run against it) and its processes."""

    var: Path
    database_url: str | None = None
    workers: int = os.cpu_count() or 2
    extra_env: dict[str, str] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    popen: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.var.parent / "up.log"

    def environment(self) -> dict[str, str]:
        """What `cloudstore up` and the commands run against its databases see."""
        env = {**os.environ, "CLOUDSTORE_VAR_DIR": str(self.var), "PYTHONPATH": str(ROOT), **self.extra_env}
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        else:
            env.pop("DATABASE_URL", None)
        return env

    def authserver_environment(self) -> dict[str, str]:
        """What a command that acts as the running auth server needs besides `environment()`: its issuer, the
        gateway's URL and its own internal client (which it signs its gateway tokens for)."""
        client_id, client_secret = self.internal_client("authserver")
        return {
            **self.environment(),
            "AUTHSERVER_ISSUER": self.urls["authserver"],
            "AUTHSERVER_GATEWAY_URL": self.urls["bridge_gateway"],
            "AUTHSERVER_RESOURCE_API_URL": self.urls["resource_api"],
            "AUTHSERVER_SIMULATOR_URL": self.urls["simulator"],
            "AUTHSERVER_CLIENT_ID": client_id,
            "AUTHSERVER_CLIENT_SECRET": client_secret,
        }

    def start(self, timeout: float = 120.0) -> None:
        """Start `cloudstore up` on free ports and wait until it says every service is healthy."""
        auth, resource_api, gateway, simulator = free_ports(4)
        self.urls = {
            "authserver": f"http://127.0.0.1:{auth}",
            "resource_api": f"http://127.0.0.1:{resource_api}",
            "bridge_gateway": f"http://127.0.0.1:{gateway}",
            "simulator": f"http://127.0.0.1:{simulator}",
        }
        argv = [sys.executable, "-m", "cloudstore.cli", "up", "--workers", str(self.workers)]
        argv += ["--auth-port", str(auth), "--resource-port", str(resource_api)]
        argv += ["--gateway-port", str(gateway), "--simulator-port", str(simulator)]
        with self.log.open("wb") as log:
            self.popen = subprocess.Popen(
                argv, env=self.environment(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while "Press Ctrl-C" not in self.log.read_text(errors="replace"):
            if self.popen.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"cloudstore up did not start:\n{self.log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)

    def internal_client(self, service: str) -> tuple[str, str]:
        """The id and secret of a service's own OAuth client, as `cloudstore up` provisioned it."""
        stored = json.loads((self.var / "secrets" / "internal-clients.json").read_text())[service]
        return stored["client_id"], stored["client_secret"]

    def processes(self) -> list[psutil.Process]:
        """Every process the stack runs (servers and their workers, simulator, outbox worker)."""
        if self.popen is None:
            return []
        try:
            return psutil.Process(self.popen.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def cpu_seconds(self, services: tuple[str, ...]) -> float:
        """CPU time used so far by the live processes of these services (server and workers); the simulator
        is `simulator`."""
        markers = tuple("bridge_gateway.simulator" if s == "simulator" else f"{s}:create_app" for s in services)
        total = 0.0
        for process in self.processes():
            try:
                lines = " ".join(process.cmdline()), " ".join(process.parent().cmdline())
                if not any(marker in line for marker in markers for line in lines):
                    continue
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
        return total

    def worker_rss(self) -> dict[str, float]:
        """The largest resident set (MB) of a worker process of each service."""
        largest: dict[str, float] = {}
        for process in self.processes():
            try:
                cmdline = " ".join(process.cmdline())
                service = next((s for s in SERVICES if f"{s}:create_app" in cmdline), None)
                if service is None:
                    continue
                tree = process.children(recursive=True) or [process]
                rss = max(child.memory_info().rss for child in tree) / 1e6
            except psutil.NoSuchProcess:
                continue
            largest[service] = max(largest.get(service, 0.0), rss)
        return largest

    def stop(self) -> None:
        """SIGTERM `cloudstore up` (it stops its children), then SIGKILL what is left."""
        if self.popen is None or self.popen.poll() is not None:
            return
        children = self.processes()
        os.kill(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()
        for child in children:
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass
