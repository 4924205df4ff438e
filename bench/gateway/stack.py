"""The processes a gateway benchmark needs, on free 127.0.0.1 ports: a JWKS, the EBS simulator, the gateway."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from cloudstore.stack import server_argv
from shared.keys import generate_private_key, public_jwk, sign_jwt

__all__ = ["Stack", "free_port"]

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Stack:
    """Start everything in `start()`, stop it in `stop()`; processes run in their own process groups."""

    def __init__(self, workdir: Path, *, workers: int, threads: int, database_url: str | None = None) -> None:
        self.workdir = workdir
        self.workers = workers
        self.threads = threads
        self.database_url = database_url or f"sqlite:///{workdir / 'gateway.db'}"
        self.pem = generate_private_key("ES256")
        self.jwk = public_jwk(self.pem, "ES256")
        self.processes: list[subprocess.Popen[bytes]] = []
        self._jwks_server: Any = None

    def _serve_jwks(self) -> str:
        body = json.dumps({"keys": [self.jwk]})
        app = Response(body, mimetype="application/json")
        self._jwks_server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=self._jwks_server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._jwks_server.server_port}"

    def service_token(self, *, lifetime: int = 3600) -> str:
        """A client-credentials access token the gateway trusts (both gateway scopes)."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": "bridge_gateway",
            "sub": "bench",
            "client_id": "bench",
            "scope": "gateway:bridges gateway:relay",
            "iat": now,
            "exp": now + lifetime,
            "jti": uuid.uuid4().hex,
        }
        return sign_jwt(claims, private_pem=self.pem, kid=self.jwk["kid"], alg="ES256", typ="at+jwt")

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        log = (self.workdir / f"{name}.log").open("wb")
        process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)

    def _wait(self, url: str, name: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(url, timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            if any(p.poll() is not None for p in self.processes):
                break
            time.sleep(0.1)
        tail = (self.workdir / f"{name}.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{name} did not become healthy at {url}:\n{tail}")

    def start(self) -> None:
        """JWKS in this process; simulator and gateway (granian, as production) as processes; gateway migrated."""
        self.issuer = self._serve_jwks()
        sim_port, control_port, gw_port = free_port(), free_port(), free_port()
        self.sim_url = f"http://127.0.0.1:{sim_port}"
        self.gateway_url = f"http://127.0.0.1:{gw_port}"
        env = {
            **os.environ,
            "CLOUDSTORE_VAR_DIR": str(self.workdir / "var"),
            "BRIDGE_GATEWAY_DATABASE_URL": self.database_url,
            "BRIDGE_GATEWAY_AUTH_SERVER_URL": self.issuer,
            "BRIDGE_GATEWAY_ALLOWED_NETWORKS": '["127.0.0.1/32"]',
            "BRIDGE_GATEWAY_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        env.pop("DATABASE_URL", None)
        simulator = [sys.executable, "-m", "bridge_gateway.simulator", "serve", "--host", "127.0.0.1"]
        simulator += ["--port", str(sim_port), "--control-port", str(control_port)]
        simulator += ["--config", str(ROOT / "config" / "simulator.toml"), "--data-dir", str(self.workdir / "sim")]
        self._spawn("simulator", simulator, env)
        # The server production runs (`cloudstore up`): granian, with `threads` application threads per worker.
        gateway = server_argv("bridge_gateway", host="127.0.0.1", port=gw_port, workers=self.workers)
        gateway[gateway.index("--blocking-threads") + 1] = str(self.threads)
        self._spawn("gateway", gateway, env)
        # Workers boot without touching tables, so the schema is created while they start.
        migrate = "from bridge_gateway import create_app; from shared.db import upgrade_db\n"
        migrate += "with create_app().app_context(): upgrade_db()"
        subprocess.run([sys.executable, "-c", migrate], env=env, check=True, capture_output=True, timeout=60)
        self._wait(f"{self.sim_url}/_sim/healthz", "simulator")
        self._wait(f"{self.gateway_url}/healthz", "gateway")

    def stop(self) -> None:
        """SIGTERM each process group we started, then SIGKILL what is left."""
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if self._jwks_server is not None:
            self._jwks_server.shutdown()
            self._jwks_server.server_close()
