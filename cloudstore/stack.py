"""`cloudstore up`: migrate, then run the three services and the EBS simulator, and stop them cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import click
import requests

from cloudstore.catalogue import seed_catalogue
from cloudstore.database import upgrade_all
from cloudstore.internal_clients import ensure_app_clients, ensure_internal_clients
from cloudstore.services import SERVICES, SIMULATOR_PORT
from shared.config import config_dir, var_dir

__all__ = ["Stack", "up"]

STOP_GRACE_SECONDS = 10


@dataclass
class Process:
    """A child process in its own process group, so that stopping it stops its workers too."""

    name: str
    url: str
    argv: list[str]
    env: dict[str, str]
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        self.popen = subprocess.Popen(self.argv, env=self.env, start_new_session=True)  # noqa: S603

    def exited(self) -> int | None:
        return self.popen.poll() if self.popen else None

    def signal_group(self, signum: int) -> None:
        if self.popen and self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signum)
            except ProcessLookupError:
                pass


# Application threads per worker. granian runs Python on one thread best (DESIGN §7: more threads hurt p99
# through the GIL), but a worker must not stall behind a customer's slow ERP: the gateway waits on ERPs, and the
# auth server waits on the gateway during ERP sign-in and VERIFY CONNECTION, so both keep threads to wait with.
BLOCKING_THREADS = {"authserver": 4, "resource_api": 1, "bridge_gateway": 16}


def server_argv(name: str, *, host: str, port: int, workers: int) -> list[str]:
    """The production server for a service: granian (WSGI), `workers` processes, the app's factory."""
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--factory",
        "--workers",
        str(workers),
        "--blocking-threads",
        str(BLOCKING_THREADS.get(name, 1)),
        "--host",
        host,
        "--port",
        str(port),
        "--workers-kill-timeout",
        str(STOP_GRACE_SECONDS - 2),
        "--no-ws",
        f"{name}:create_app",
    ]


@dataclass
class Stack:
    """The four processes of a local Cloud Store."""

    host: str
    ports: dict[str, int]
    workers: int
    dev: bool = False
    client_env: dict[str, str] = field(default_factory=dict)
    processes: list[Process] = field(default_factory=list)

    def url(self, name: str) -> str:
        return f"http://{self.host}:{self.ports[name]}"

    def environment(self) -> dict[str, str]:
        """Tell each service where the others are."""
        env = dict(os.environ)
        env.setdefault("CLOUDSTORE_VAR_DIR", str(var_dir()))
        env["AUTHSERVER_ISSUER"] = self.url("authserver")
        for prefix in ("RESOURCE_API", "BRIDGE_GATEWAY", "AUTHSERVER"):
            env[f"{prefix}_AUTH_SERVER_URL"] = self.url("authserver")
            env[f"{prefix}_GATEWAY_URL"] = self.url("bridge_gateway")
            env[f"{prefix}_RESOURCE_API_URL"] = self.url("resource_api")
        env["AUTHSERVER_SIMULATOR_URL"] = self.url("simulator")
        env.update(self.client_env)
        return env

    def build(self) -> None:
        env = self.environment()
        for service in SERVICES:
            port = self.ports[service.name]
            if self.dev:
                argv = [
                    sys.executable,
                    "-m",
                    "flask",
                    "--app",
                    service.wsgi_target,
                    "run",
                    "--reload",
                    "--host",
                    self.host,
                    "--port",
                    str(port),
                ]
            else:
                argv = server_argv(service.name, host=self.host, port=port, workers=self.workers)
            self.processes.append(Process(service.name, self.url(service.name), argv, env))
        data_dir = var_dir() / "simulator"
        simulator = [
            sys.executable,
            "-m",
            "bridge_gateway.simulator",
            "serve",
            "--host",
            self.host,
            "--port",
            str(self.ports["simulator"]),
            "--control-port",
            str(self.ports["simulator"] + 1),
            "--config",
            str(config_dir() / "simulator.toml"),
            "--data-dir",
            str(data_dir),
        ]
        self.processes.append(Process("simulator", self.url("simulator"), simulator, env))
        worker = [sys.executable, "-m", "cloudstore.cli", "worker"]
        self.processes.append(Process("worker", "", worker, env))
        reminders = [sys.executable, "-m", "cloudstore.cli", "store", "remind", "--every", "3600"]
        self.processes.append(Process("reminders", "", reminders, env))

    def start(self) -> None:
        for process in self.processes:
            process.start()

    def wait_healthy(self, timeout: float = 60.0) -> None:
        """Wait until every process answers its health check; raise if one dies or time runs out."""
        health = {"simulator": "/_sim/healthz"}
        deadline = time.monotonic() + timeout
        pending = [process for process in self.processes if process.url]
        while pending:
            for process in list(pending):
                if process.exited() is not None:
                    raise click.ClickException(f"{process.name} exited with status {process.exited()}")
                try:
                    if requests.get(process.url + health.get(process.name, "/healthz"), timeout=1).ok:
                        pending.remove(process)
                except requests.RequestException:
                    pass
            if time.monotonic() > deadline:
                raise click.ClickException("not healthy in time: " + ", ".join(p.name for p in pending))
            time.sleep(0.2)

    def stop(self) -> None:
        """SIGTERM every process group, then SIGKILL what is still there after the grace period."""
        for process in self.processes:
            process.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in self.processes:
            if process.popen is None:
                continue
            try:
                process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.signal_group(signal.SIGKILL)
                process.popen.wait()
            process.signal_group(signal.SIGKILL)  # workers orphaned by a crashed master

    def first_exit(self) -> Process | None:
        return next((p for p in self.processes if p.exited() is not None), None)


class _Stop(Exception):
    pass


def _raise_stop(signum: int, _frame: object) -> None:
    raise _Stop(signum)


def _print_demo(stack: Stack) -> None:
    click.echo("\nCloud Store is running:")
    for process in stack.processes:
        click.echo(f"  {process.name:<15} {process.url or '(background)'}")
    demo = Path(config_dir() / "simulator.toml")
    click.echo(f"\nThe EBS simulator is seeded from {demo}; demo ERP accounts:")
    from bridge_gateway.simulator.config import demo_accounts

    for line in demo_accounts(demo):
        click.echo(f"  {line}")
    click.echo("\nPress Ctrl-C to stop.")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--auth-port", default=8000, show_default=True)
@click.option("--resource-port", default=8100, show_default=True)
@click.option("--gateway-port", default=8200, show_default=True)
@click.option("--simulator-port", default=SIMULATOR_PORT, show_default=True)
@click.option("--workers", default=os.cpu_count() or 1, show_default="CPU count")
@click.option("--dev", is_flag=True, help="Development servers with the reloader instead of granian.")
def up(
    host: str, auth_port: int, resource_port: int, gateway_port: int, simulator_port: int, workers: int, dev: bool
) -> None:
    """Migrate the databases and run all services on this machine until Ctrl-C or SIGTERM."""
    upgrade_all()
    seed_catalogue()
    client_env = ensure_internal_clients()
    client_env.update(ensure_app_clients(f"http://{host}:{resource_port}"))  # the apps' pages sign users in
    ports = {
        "authserver": auth_port,
        "resource_api": resource_port,
        "bridge_gateway": gateway_port,
        "simulator": simulator_port,
    }
    stack = Stack(host=host, ports=ports, workers=workers, dev=dev, client_env=client_env)
    stack.build()
    previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    status = 0
    try:
        stack.start()
        stack.wait_healthy()
        _print_demo(stack)
        while (dead := stack.first_exit()) is None:
            time.sleep(0.5)
        click.echo(f"{dead.name} exited with status {dead.exited()}; stopping", err=True)
        status = 1
    except _Stop:
        click.echo("stopping")
    except click.ClickException as exc:
        click.echo(f"error: {exc.message}", err=True)
        status = 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        stack.stop()
    sys.exit(status)
