"""Serve the simulator on a real port in background threads, with run-time fault injection.

``SimulatorServer`` runs the WebApi on ``host:port`` (a threaded Werkzeug server) and a control listener on
``control_port`` (default ``port + 1``; a free port when ``port`` is 0) whose ``GET/POST /faults`` switches
latency, error rate and "down" from another process. "Down" closes the WebApi's listening socket and the
connections it holds (idle kept-alive ones too), so clients get *connection refused*; the control listener
stays up. Both listeners keep HTTP/1.1 connections alive like IIS (``keepalive.py``), closing one after
``idle_timeout`` seconds without a request (IIS's default: 120).
"""

from __future__ import annotations

import socket
import threading
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from werkzeug.serving import ThreadedWSGIServer

from .faults import FaultMiddleware, Faults, FaultState, create_control_app
from .keepalive import KeepAliveHandler

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

_POLL_SECONDS = 0.05
IDLE_TIMEOUT_SECONDS = 120.0  # IIS's default connection timeout


class _TrackingServer(ThreadedWSGIServer):
    """Tracks every accepted connection, idle kept-alive ones included, so "down" can cut them all."""

    def __init__(self, host: str, port: int, app: WSGIApplication, idle_timeout: float | None) -> None:
        self.connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self.idle_timeout = idle_timeout
        try:
            super().__init__(host, port, app, handler=KeepAliveHandler)
        except SystemExit as exc:  # Werkzeug exits the process when it cannot bind
            raise OSError(f"cannot listen on {host}:{port}") from exc

    def process_request(self, request: Any, client_address: Any) -> None:
        # Tracked in the accepting thread, before the handler's thread starts: once serve_forever has returned,
        # every connection it accepted is in the set, and cut_connections cannot miss one.
        self.track(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        self.untrack(request)
        super().shutdown_request(request)

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

    def __init__(self, name: str, host: str, port: int, app: WSGIApplication, idle_timeout: float | None) -> None:
        self.server = _TrackingServer(host, port, app, idle_timeout)
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
        idle_timeout: float = IDLE_TIMEOUT_SECONDS,
    ) -> None:
        if idle_timeout <= 0:
            raise ValueError("idle_timeout must be positive")
        self.app = app
        self.idle_timeout = idle_timeout
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
            self._webapi = _Listener("ebs-simulator", self.host, self.port, self._wsgi, self.idle_timeout)
            self.port = self._webapi.port
            if self._control_enabled:
                control_app = create_control_app(self.faults.get, self.set_faults)
                try:
                    self._control = _Listener(
                        "ebs-simulator-control", self.host, self.control_port, control_app, self.idle_timeout
                    )
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
                self._webapi = _Listener("ebs-simulator", self.host, self.port, self._wsgi, self.idle_timeout)
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
