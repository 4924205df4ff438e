"""Fault injection: added latency, a random error rate and "down", plus the control listener's app.

Latency and errors apply to every path of the WebApi port except ``/_sim/*`` (so health checks still tell
whether the process is alive). An injected error is a 500 ``internal-error`` or a 503 ``service-unavailable``
(chosen at random, half each), with the EBS error body.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

_random = random.SystemRandom()


@dataclass(frozen=True)
class FaultState:
    latency_ms: float = 0.0
    error_rate: float = 0.0
    down: bool = False


class Faults:
    """The current fault settings, safe to read and change from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = FaultState()

    def get(self) -> FaultState:
        """A snapshot of the settings."""
        with self._lock:
            return self._state

    def update(self, **changes: Any) -> FaultState:
        """Validate and apply changes (``latency_ms``, ``error_rate``, ``down``); return the new settings."""
        clean = validate_changes(changes)
        with self._lock:
            self._state = FaultState(**{**asdict(self._state), **clean})
            return self._state


def validate_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """Check fault changes; raise ValueError naming the bad field."""
    unknown = set(changes) - {"latency_ms", "error_rate", "down"}
    if unknown:
        raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
    clean: dict[str, Any] = {}
    for key, value in changes.items():
        if value is None:
            continue
        if key == "down":
            if not isinstance(value, bool):
                raise ValueError("down must be true or false")
            clean[key] = value
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{key} must be a number")
        if key == "latency_ms" and not 0 <= value <= 600_000:
            raise ValueError("latency_ms must be between 0 and 600000")
        if key == "error_rate" and not 0 <= value <= 1:
            raise ValueError("error_rate must be between 0 and 1")
        clean[key] = float(value)
    return clean


_ERRORS = (
    ("500 INTERNAL SERVER ERROR", "internal-error", "Simulated internal error"),
    ("503 SERVICE UNAVAILABLE", "service-unavailable", "Simulated unavailability"),
)


class FaultMiddleware:
    """WSGI middleware that delays requests and answers a share of them with server errors."""

    def __init__(self, app: WSGIApplication, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Apply the current faults, then hand over to the app."""
        if environ.get("PATH_INFO", "").startswith("/_sim/"):
            return self.app(environ, start_response)
        faults = self.faults.get()
        if faults.latency_ms > 0:
            time.sleep(faults.latency_ms / 1000)
        if faults.error_rate > 0 and _random.random() < faults.error_rate:
            status, message_id, text = _random.choice(_ERRORS)
            body = json.dumps({"MessageID": message_id, "UserMessage": text, "Messages": []}).encode()
            headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            if status.startswith("503"):
                headers.append(("Retry-After", "1"))
            start_response(status, headers)
            return [body]
        return self.app(environ, start_response)


def create_control_app(get_state: Callable[[], FaultState], apply: Callable[..., FaultState]) -> Flask:
    """The control listener: ``GET /faults`` reads the settings, ``POST /faults`` changes some of them."""
    app = Flask("ebs_simulator_control")

    @app.get("/faults")
    def read_faults() -> ResponseReturnValue:
        return jsonify(asdict(get_state()))

    @app.post("/faults")
    def change_faults() -> ResponseReturnValue:
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict):
            return jsonify({"error": "the body must be a JSON object"}), 400
        try:
            return jsonify(asdict(apply(**validate_changes(body))))
        except ValueError as exc:
            return jsonify({"error": str(exc)}), 400

    @app.get("/healthz")
    def healthz() -> ResponseReturnValue:
        return jsonify({"status": "ok"})

    return app
