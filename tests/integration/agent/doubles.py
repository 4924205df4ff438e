"""Test doubles over real HTTP: a ZKTeco clock speaking the ADMS push protocol, and the cloud's punches endpoint.

`CloudDouble` implements the contract of `POST /v1/attendance/punches` (docs/agent.md). Tests that use only
`url`, `api_key` and `punches()` (the `PunchesEndpoint` protocol) can later run against the real resource API
through an adapter with the same three members; the fault switches (`mode`, `reject`, `stop`) are double-only.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import requests
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
_DIRECTIONS = {"in", "out", "break_in", "break_out", "unknown"}
_PUNCH_KEYS = {"employeeCode", "timestamp", "direction", "verifyMode", "workCode"}


class PunchesEndpoint(Protocol):
    """What a test needs of whatever receives the agent's uploads."""

    url: str
    api_key: str

    def punches(self) -> list[dict[str, Any]]: ...


def _punch_errors(item: Any) -> dict[str, list[str]]:
    if not isinstance(item, dict):
        return {"_schema": ["Must be an object."]}
    errors: dict[str, list[str]] = {}
    for key in set(item) - _PUNCH_KEYS:
        errors[key] = ["Unknown field."]
    for key in ("employeeCode", "timestamp", "direction"):
        if key not in item:
            errors[key] = ["Missing data for required field."]
    if "employeeCode" in item and (not isinstance(item["employeeCode"], str) or not item["employeeCode"]):
        errors["employeeCode"] = ["Not a valid string."]
    stamp = item.get("timestamp")
    if "timestamp" in item and (not isinstance(stamp, str) or not _TIMESTAMP.match(stamp)):
        errors["timestamp"] = ["Not a local time with a UTC offset (YYYY-MM-DDTHH:MM:SS+HH:MM)."]
    if "direction" in item and item["direction"] not in _DIRECTIONS:
        errors["direction"] = [f"Must be one of: {', '.join(sorted(_DIRECTIONS))}."]
    verify = item.get("verifyMode")
    if verify is not None and (not isinstance(verify, int) or isinstance(verify, bool)):
        errors["verifyMode"] = ["Not a valid integer."]
    if item.get("workCode") is not None and not isinstance(item["workCode"], str):
        errors["workCode"] = ["Not a valid string."]
    return errors


def _problem(status: int, title: str, **extra: Any) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, **extra}
    return Response(json.dumps(body), status=status, content_type="application/problem+json")


class CloudDouble:
    """`POST /v1/attendance/punches` on a free port of 127.0.0.1, with faults to switch on.

    mode: "ok"; "unavailable" (503); "unauthorized" (401 invalid_token); "lose_answer" (commit, then answer 502 as
    a proxy that lost the answer would). `reject` holds (employeeCode, timestamp) pairs answered with 422.
    `stop()` closes the port (connections refused) and `start()` opens it again on the same port.
    """

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.mode = "ok"
        self.reject: set[tuple[str, str]] = set()
        self.answer_delay = 0.0
        self.requests: list[dict[str, Any]] = []
        self.batches: list[dict[str, Any]] = []
        self._punches: dict[tuple[str, str, datetime], dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> CloudDouble:
        self._server = make_server("127.0.0.1", self.port, self._wsgi, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join(5)
            self._server = None

    def punches(self) -> list[dict[str, Any]]:
        """Every punch committed, once each, with its device fields."""
        with self._lock:
            return list(self._punches.values())

    def accepted_total(self) -> int:
        with self._lock:
            return sum(batch["answer"]["accepted"] for batch in self.batches)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until `count` distinct punches are committed."""
        wait_until(lambda: len(self.punches()) >= count, timeout, f"{count} punches at the cloud")
        return self.punches()

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        return self._answer(request)(environ, start_response)

    def _answer(self, request: Request) -> Response:
        if request.path != "/v1/attendance/punches" or request.method != "POST":
            return _problem(404, "Not Found")
        with self._lock:
            self.requests.append(
                {"idempotency_key": request.headers.get("Idempotency-Key"), "mode": self.mode, "at": time.monotonic()}
            )
        if self.mode == "unavailable":
            return Response("busy", status=503, headers={"Retry-After": "0"})
        if request.headers.get("Authorization") != f"Bearer {self.api_key}" or self.mode == "unauthorized":
            challenge = 'Bearer error="invalid_token", error_description="The API key is unknown or revoked"'
            return Response(status=401, headers={"WWW-Authenticate": challenge})
        if request.mimetype != "application/json":
            return _problem(415, "Unsupported Media Type")
        try:
            body = json.loads(request.get_data())
        except ValueError:
            return _problem(400, "Bad Request", detail="The body is not JSON.")
        errors = self._validate(body)
        if errors:
            return _problem(422, "Unprocessable Content", detail="The batch was refused.", errors=errors)
        answer = self._commit(body, request.headers.get("Idempotency-Key"))
        if self.answer_delay:
            time.sleep(self.answer_delay)
        if self.mode == "lose_answer":
            return Response("upstream timed out", status=502)
        return Response(json.dumps(answer), status=202, content_type="application/json")

    def _validate(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            return {"_schema": ["Must be an object."]}
        errors: dict[str, Any] = {}
        for key in ("deviceSerial", "deviceCode"):
            if not isinstance(body.get(key), str) or not body[key]:
                errors[key] = ["Not a valid string."]
        punches = body.get("punches")
        if not isinstance(punches, list) or not 1 <= len(punches) <= 1000:
            errors["punches"] = ["Must hold 1 to 1000 punches."]
            return errors
        items = {}
        for index, item in enumerate(punches):
            item_errors = _punch_errors(item)
            if not item_errors and (item["employeeCode"], item["timestamp"]) in self.reject:
                item_errors = {"employeeCode": ["Unknown employee."]}
            if item_errors:
                items[str(index)] = item_errors
        if items:
            errors["punches"] = items
        return errors

    def _commit(self, body: dict[str, Any], idempotency_key: str | None) -> dict[str, Any]:
        accepted = duplicates = 0
        with self._lock:
            for item in body["punches"]:
                key = (body["deviceSerial"], item["employeeCode"], datetime.fromisoformat(item["timestamp"]))
                if key in self._punches:
                    duplicates += 1
                    continue
                self._punches[key] = {"deviceSerial": body["deviceSerial"], "deviceCode": body["deviceCode"], **item}
                accepted += 1
            answer = {"batchId": uuid.uuid4().hex, "accepted": accepted, "duplicates": duplicates}
            self.batches.append({"body": body, "idempotency_key": idempotency_key, "answer": answer})
        return answer


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    """Poll `predicate` until it holds, or fail the test."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@dataclass(frozen=True)
class Record:
    """One attendance record as a clock stores it."""

    pin: str
    time: str
    status: int = 0
    verify: int = 1
    workcode: str = "0"

    def line(self) -> str:
        # Firmwares send five reserved fields after the work code.
        return "\t".join(
            [self.pin, self.time, str(self.status), str(self.verify), self.workcode, "0", "0", "0", "0", "0"]
        )


class ZkDevice:
    """A ZKTeco clock in push (ADMS) mode, as firmware 2.x talks to its "Cloud Server"."""

    def __init__(self, base_url: str, serial: str) -> None:
        self.base_url, self.serial = base_url.rstrip("/"), serial
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "iClock Proxy/1.09"
        self.stamp = 0

    def close(self) -> None:
        self.session.close()

    def _url(self, path: str) -> str:
        return f"{self.base_url}/iclock/{path}"

    def handshake(self) -> requests.Response:
        params = {"SN": self.serial, "options": "all", "pushver": "2.4.1", "language": "69"}
        return self.session.get(self._url("cdata"), params=params, timeout=5)

    def options(self) -> dict[str, str]:
        response = self.handshake()
        lines = response.text.splitlines()
        return dict(line.split("=", 1) for line in lines[1:] if "=" in line)

    def post_attlog(self, records: Iterable[Record]) -> requests.Response:
        self.stamp += 1
        body = "\n".join(record.line() for record in records) + "\n"
        params = {"SN": self.serial, "table": "ATTLOG", "Stamp": str(self.stamp)}
        return self.session.post(self._url("cdata"), params=params, data=body.encode(), timeout=10)

    def post_table(self, table: str, body: str) -> requests.Response:
        params = {"SN": self.serial, "table": table, "Stamp": "1"}
        return self.session.post(self._url("cdata"), params=params, data=body.encode(), timeout=5)

    def poll(self) -> requests.Response:
        return self.session.get(
            self._url("getrequest"), params={"SN": self.serial, "INFO": "Ver 8.0.4,2,0,3"}, timeout=5
        )

    def report_command(self) -> requests.Response:
        return self.session.post(
            self._url("devicecmd"), params={"SN": self.serial}, data=b"ID=1&Return=0&CMD=INFO", timeout=5
        )


def records(count: int, *, start: str = "2025-02-03 08:00:00", pin_base: int = 1) -> list[Record]:
    """`count` distinct punches a minute apart, alternating in and out."""
    first = datetime.strptime(start, "%Y-%m-%d %H:%M:%S")
    return [
        Record(str(pin_base + i % 7), (first + timedelta(minutes=i)).strftime("%Y-%m-%d %H:%M:%S"), i % 2)
        for i in range(count)
    ]
