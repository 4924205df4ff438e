"""Serve the simulator on a real port in background threads, with run-time fault injection.

``SimulatorServer`` runs the WebApi on ``host:port`` (a threaded Werkzeug server) and a control listener on
``control_port`` (default ``port + 1``; a free port when ``port`` is 0) whose ``GET/POST /faults`` switches
latency, error rate and "down" from another process. "Down" closes the WebApi's listening socket and the
connections it holds, so clients get *connection refused*; the control listener stays up.
"""

from __future__ import annotations

import logging
import socket
import threading
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from .faults import FaultMiddleware, Faults, FaultState, create_control_app

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

log = logging.getLogger("bridge_gateway.simulator.http")
_POLL_SECONDS = 0.05


class _Handler(WSGIRequestHandler):
    """Tracks its connection (so "down" can cut it) and logs without query strings (they may hold tokens)."""

    protocol_version = "HTTP/1.1"
    server: _TrackingServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        self.server.untrack(self.connection)
        super().finish()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = getattr(self, "path", "").split("?", 1)[0]
        log.info("%s %s %s %s", self.address_string(), getattr(self, "command", "-"), path, code)

    def log(self, type: str, message: str, *args: Any) -> None:
        log.log(logging.ERROR if type == "error" else logging.INFO, message, *args)


class _TrackingServer(ThreadedWSGIServer):
    def __init__(self, host: str, port: int, app: WSGIApplication) -> None:
        self.connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        try:
            super().__init__(host, port, app, handler=_Handler)
        except SystemExit as exc:  # Werkzeug exits the process when it cannot bind
            raise OSError(f"cannot listen on {host}:{port}") from exc

    def track(self, conn: socket.socket) -> None:
        with self._connections_lock:
            self.connections.add(conn)

    def untrack(self, conn: socket.socket) -> None:
        with self._connections_lock:
            self.connections.discard(conn)

    def cut_connections(self) -> None:
        with self._connections_lock:
            conns, self.connections = list(self.connections), set()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Listener:
    """One server socket with its serving thread."""

    def __init__(self, name: str, host: str, port: int, app: WSGIApplication) -> None:
        self.server = _TrackingServer(host, port, app)
        self.port: int = self.server.port
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": _POLL_SECONDS}, name=name, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()  # serve_forever returns and closes the listening socket
        self.thread.join()
        self.server.cut_connections()


class SimulatorServer:
    """The simulator app on a real port, in background threads, with fault injection."""

    def __init__(
        self,
        app: WSGIApplication,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        control_port: int | None = None,
        control: bool = True,
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.faults = Faults()
        self._wsgi = FaultMiddleware(app, self.faults)
        self._control_enabled = control
        self.control_port = control_port if control_port is not None else (port + 1 if port else 0)
        self._webapi: _Listener | None = None
        self._control: _Listener | None = None
        self._lock = threading.RLock()

    @property
    def url(self) -> str:
        """The WebApi's base URL, e.g. ``http://127.0.0.1:8300``."""
        return f"http://{self.host}:{self.port}"

    @property
    def control_url(self) -> str:
        """The control listener's base URL."""
        return f"http://{self.host}:{self.control_port}"

    def start(self) -> SimulatorServer:
        """Listen on the WebApi port and the control port; return self."""
        with self._lock:
            if self._webapi is not None or self._control is not None:
                raise RuntimeError("the simulator is already started")
            self._webapi = _Listener("ebs-simulator", self.host, self.port, self._wsgi)
            self.port = self._webapi.port
            if self._control_enabled:
                control_app = create_control_app(self.faults.get, self.set_faults)
                try:
                    self._control = _Listener("ebs-simulator-control", self.host, self.control_port, control_app)
                except OSError:
                    self._webapi.close()
                    self._webapi = None
                    raise
                self.control_port = self._control.port
        return self

    def stop(self) -> None:
        """Close both listeners and every open connection (safe to call twice)."""
        with self._lock:
            for listener in (self._webapi, self._control):
                if listener is not None:
                    listener.close()
            self._webapi = self._control = None

    def go_down(self) -> None:
        """Close the WebApi's listening socket and its connections: clients get connection refused."""
        with self._lock:
            if self._webapi is not None:
                self._webapi.close()
                self._webapi = None
            self.faults.update(down=True)

    def come_up(self) -> None:
        """Listen again on the same WebApi port."""
        with self._lock:
            if self._webapi is None:
                self._webapi = _Listener("ebs-simulator", self.host, self.port, self._wsgi)
            self.faults.update(down=False)

    def set_faults(
        self, *, latency_ms: float | None = None, error_rate: float | None = None, down: bool | None = None
    ) -> FaultState:
        """Change some fault settings (None leaves one as it is); ``down`` goes down or comes up."""
        with self._lock:
            self.faults.update(latency_ms=latency_ms, error_rate=error_rate)
            if down is True:
                self.go_down()
            elif down is False:
                self.come_up()
            return self.faults.get()

    def fault_state(self) -> dict[str, Any]:
        """The current fault settings as a dict."""
        return asdict(self.faults.get())

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
