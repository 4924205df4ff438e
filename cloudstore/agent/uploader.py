"""Upload spooled punches to the resource API in batches, with backoff, and handle its answers per the contract."""

from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from cloudstore.agent.config import AgentConfig
from cloudstore.agent.spool import Spool, SpooledPunch

__all__ = ["Outcome", "Uploader", "idempotency_key", "punch_body"]

log = logging.getLogger(__name__)
CONNECT_TIMEOUT = 5.0
_PURGE_EVERY = 24 * 3600.0


@dataclass(frozen=True)
class Outcome:
    """What one upload attempt came to: `uploaded`, `rejected`, `empty`, `retry` or `halt`."""

    kind: str
    count: int = 0
    detail: str = ""
    retry_after: float | None = None


def idempotency_key(serial: str, batch: list[SpooledPunch]) -> str:
    """A key naming exactly this set of spooled punches, stable across restarts."""
    ids = ",".join(str(item.id) for item in batch)
    return "agent-" + hashlib.sha256(f"{serial}|{ids}".encode()).hexdigest()[:40]


def punch_body(config: AgentConfig, batch: list[SpooledPunch]) -> dict[str, Any]:
    """The JSON body of `POST /v1/attendance/punches` for one device's batch."""
    serial = batch[0].punch.device_serial
    return {
        "deviceSerial": serial,
        "deviceCode": config.device(serial).device_code,
        "punches": [
            {
                "employeeCode": item.punch.employee_code,
                "timestamp": item.punch.timestamp,
                "direction": item.punch.direction,
                "verifyMode": item.punch.verify_mode,
                "workCode": item.punch.work_code,
            }
            for item in batch
        ],
    }


def _retry_after(response: requests.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


def _item_errors(response: requests.Response, batch: list[SpooledPunch]) -> dict[int, str]:
    """Map a 422 problem's `errors.punches.<index>` onto spool ids; a body-level error refuses the whole batch."""
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    errors = problem.get("errors") if isinstance(problem, dict) else None
    items = errors.get("punches") if isinstance(errors, dict) else None
    found: dict[int, str] = {}
    if isinstance(items, dict):
        for index, fields in items.items():
            if str(index).isdigit() and int(index) < len(batch):
                found[batch[int(index)].id] = json.dumps(fields, sort_keys=True)[:500]
    if not found:
        reason = json.dumps(errors or problem.get("detail") or "refused", sort_keys=True)[:500]
        found = {item.id: reason for item in batch}
    return found


class Uploader:
    """Drains the spool to the cloud; `run` loops until `stop`, `wake` makes it look at the spool at once."""

    def __init__(self, *, spool: Spool, config: AgentConfig, session: requests.Session | None = None) -> None:
        self.spool, self.config = spool, config
        self.session = session or requests.Session()
        self._stop, self._wake = threading.Event(), threading.Event()
        self.halted = False

    def wake(self) -> None:
        """New punches are in the spool."""
        self._wake.set()

    def stop(self) -> None:
        """Ask `run` to return after the request in flight."""
        self._stop.set()
        self._wake.set()

    def upload_batch(self) -> Outcome:
        """Send the next batch and record what the cloud said."""
        batch = self.spool.next_batch(self.config.batch_size)
        if not batch:
            return Outcome("empty")
        serial = batch[0].punch.device_serial
        try:
            response = self.session.post(
                self.config.punches_url,
                data=json.dumps(punch_body(self.config, batch)).encode(),
                headers={
                    "Authorization": f"Bearer {self.config.api_key}",
                    "Content-Type": "application/json",
                    "Idempotency-Key": idempotency_key(serial, batch),
                },
                timeout=(CONNECT_TIMEOUT, self.config.request_timeout),
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            return self._failed("retry", f"{type(exc).__name__} calling {self.config.punches_url}")
        with response:
            return self._handle(response, batch)

    def _handle(self, response: requests.Response, batch: list[SpooledPunch]) -> Outcome:
        status, serial = response.status_code, batch[0].punch.device_serial
        if status == 202:
            try:
                answer = response.json()
                batch_id = str(answer["batchId"])
            except (ValueError, KeyError, TypeError):
                return self._failed("retry", "HTTP 202 without a batchId: is resource_api_url right?")
            self.spool.mark_uploaded([item.id for item in batch], batch_id=batch_id)
            self.spool.set_meta(last_upload_at=_now(), last_batch_id=batch_id)
            log.info(
                "uploaded %d punch(es) of device %s as batch %s (%s accepted, %s duplicates)",
                len(batch),
                serial,
                batch_id,
                answer.get("accepted"),
                answer.get("duplicates"),
            )
            return Outcome("uploaded", len(batch))
        if status in (401, 403):
            challenge = response.headers.get("WWW-Authenticate", "")[:200]
            return self._failed(
                "halt",
                f"HTTP {status}: the resource API refused the API key ({self.config.api_key_fingerprint}; "
                f"{challenge or 'no challenge'}); uploads stopped, punches are still spooled; "
                "fix the key and restart the agent",
            )
        if status == 422:
            rejected = _item_errors(response, batch)
            self.spool.mark_rejected(rejected)
            detail = f"HTTP 422: {len(rejected)} punch(es) of device {serial} rejected; see `cloudstore agent rejected`"
            self.spool.set_meta(last_error=detail, last_error_at=_now())
            log.warning(detail)
            return Outcome("rejected", len(rejected), detail)
        return self._failed("retry", f"HTTP {status} from the resource API", retry_after=_retry_after(response))

    def _failed(self, kind: str, detail: str, retry_after: float | None = None) -> Outcome:
        self.spool.set_meta(last_error=detail, last_error_at=_now(), halted="1" if kind == "halt" else None)
        (log.error if kind == "halt" else log.warning)("upload failed: %s", detail)
        return Outcome(kind, 0, detail, retry_after)

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Exponential backoff with jitter (half fixed, half random), capped; a longer Retry-After is honoured."""
        cap = min(self.config.retry_max, self.config.retry_initial * 2 ** min(attempt, 30))
        delay = cap / 2 + random.uniform(0, cap / 2)  # noqa: S311 - jitter, not a secret
        return max(delay, min(retry_after or 0.0, self.config.retry_max))

    def drain(self) -> Outcome:
        """Upload until the spool is empty or an attempt fails; return the last outcome."""
        while True:
            outcome = self.upload_batch()
            if outcome.kind not in ("uploaded", "rejected") or self._stop.is_set():
                return outcome

    def run(self) -> None:
        """The uploader thread: drain, then wait for new punches, the interval, or the backoff delay."""
        self.spool.set_meta(halted=None)
        attempt, next_purge = 0, 0.0
        while not self._stop.is_set():
            if next_purge <= time.monotonic():
                purged = self.spool.purge_uploaded(older_than_days=self.config.retention_days)
                if purged:
                    log.info("forgot %d punch(es) uploaded over %d days ago", purged, self.config.retention_days)
                next_purge = time.monotonic() + _PURGE_EVERY
            try:
                outcome = self.drain()
            except Exception:  # a spool or programming error must not end the thread silently
                log.exception("upload loop failed")
                outcome = Outcome("retry", detail="internal error")
            if outcome.kind == "halt":
                self.halted = True
                return
            if outcome.kind == "retry":
                delay = self.backoff(attempt, outcome.retry_after)
                attempt += 1
                log.info("retrying in %.1f s", delay)
                self._stop.wait(delay)
                continue
            attempt = 0
            self._wake.wait(self.config.upload_interval)
            self._wake.clear()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
