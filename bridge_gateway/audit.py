"""Every internal API call, recorded: who, which bridge, what, how it ended, how long, which request.

One row per call (not per upstream attempt). Rows never hold a password, a token or a body: the outcome
is "ok", a problem slug, an RFC 6750 error code, or EBS's MessageID (already sanitised to kebab case).
The same function (`record_call`, reached from Flask's hooks and from the relay's fast lane) feeds the
per-bridge call metrics and writes one log line with the same fields.

Rows are written behind the answer: a per-worker thread inserts them in batches every
AUDIT_FLUSH_SECONDS, so a relayed call does not pay a commit (a third of its cost on SQLite, more on
PostgreSQL). A batch that fails is kept for the next flush; beyond AUDIT_MAX_PENDING rows waiting, new ones
are dropped and counted (`bridge_gateway_audit_dropped_total`). Stopping the worker flushes what is left.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, request
from sqlalchemy import DateTime, Engine, Index, Integer, String, insert
from sqlalchemy.orm import Mapped, mapped_column

from bridge_gateway.errors import PROBLEMS
from bridge_gateway.extensions import db
from bridge_gateway.runtime import gateway
from shared.logging import current_request_id

__all__ = [
    "AuditRecord",
    "AuditWriter",
    "call_outcome",
    "finish_audit",
    "install_audit",
    "record_call",
    "set_audit_subject",
    "start_audit",
]

log = logging.getLogger(__name__)


class AuditRecord(db.Model):  # type: ignore[name-defined]
    """One internal API call; append-only."""

    __tablename__ = "gateway_audit"
    __table_args__ = (Index("ix_gateway_audit_subscription_occurred", "subscription_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    request_id: Mapped[str | None] = mapped_column(String(128), index=True)
    caller: Mapped[str] = mapped_column(String(200))
    subscription_id: Mapped[str | None] = mapped_column(String(50))
    bridge_id: Mapped[str | None] = mapped_column(String(50))
    operation: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(100))
    duration_ms: Mapped[int] = mapped_column(Integer)


class AuditWriter:
    """Batches audit rows and inserts them from a background thread (started on first use, fork-safe)."""

    def __init__(self, engine: Engine, *, flush_seconds: float = 0.2, max_pending: int = 10_000) -> None:
        self._engine = engine
        self._flush_seconds = flush_seconds
        self._max_pending = max_pending
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.dropped = 0

    def submit(self, row: dict[str, Any]) -> None:
        """Queue one row for the next flush."""
        with self._lock:
            if len(self._pending) >= self._max_pending:
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 1000 == 0:
                    log.error("audit store behind: %s rows dropped so far", self.dropped)
                return
            self._pending.append(row)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="gateway-audit", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._flush_seconds):
            self.flush()

    def flush(self) -> None:
        """Insert every queued row now; on failure they stay queued for the next attempt."""
        with self._flush_lock:
            with self._lock:
                rows, self._pending = self._pending, []
            if not rows:
                return
            try:
                with self._engine.begin() as connection:
                    connection.execute(insert(AuditRecord.__table__), rows)
            except Exception:  # noqa: BLE001 - keep serving; the rows wait for the next flush
                log.exception("audit rows not written yet (%s waiting)", len(rows))
                with self._lock:
                    room = max(0, self._max_pending - len(self._pending))
                    self.dropped += max(0, len(rows) - room)
                    self._pending[:0] = rows[:room]

    def close(self) -> None:
        """Stop the thread and write what is left."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.flush()


def set_audit_subject(subscription_id: str, bridge_id: str | None = None, *, target: str | None = None) -> None:
    """Name the bridge (canonical spelling) and, for the relay, the EBS call, for this request's record."""
    g.audit_subject = (subscription_id, bridge_id)
    if target is not None:
        g.audit_target = target[:300]


def call_outcome(status: int, body: bytes, *, is_json: bool) -> str:
    """How a call ended, from its answer's status and body: "ok", a problem slug (with EBS's MessageID when the
    problem carries one), an RFC 6750 error code, `ebs/<MessageID>` for a relayed EBS error, or "error"."""
    if status < 400:
        return "ok"
    try:
        document = json.loads(body) if is_json else None
    except ValueError:
        document = None
    if not isinstance(document, dict):
        return "error"
    if isinstance(document.get("type"), str):  # a problem
        slug = document["type"].removeprefix(PROBLEMS)
        if document["type"] == "about:blank":
            slug = "validation" if status == 422 else str(document.get("title", "error")).lower()
        message_id = document.get("messageId")
        return f"{slug}/{message_id}" if isinstance(message_id, str) else slug
    if isinstance(document.get("error"), str):  # RFC 6750
        return document["error"]
    return f"ebs/{document['MessageID']}" if isinstance(document.get("MessageID"), str) else "error"


def record_call(
    *,
    claims: Mapping[str, Any],
    subscription: str | None,
    bridge: str | None,
    operation: str,
    target: str | None,
    status: int,
    outcome: str,
    seconds: float,
    request_id: str | None,
) -> None:
    """One call answered: its audit row, its metrics (for a known caller) and its log line."""
    outcome = outcome[:100]
    caller = str(claims.get("client_id") or "-")[:200]
    if claims:  # labels come from the path only once the caller is known, so strangers cannot add series
        gateway().metrics.record_call(
            subscription=subscription or "-", bridge=bridge or "-", operation=operation, status=status, seconds=seconds
        )
    log.info(
        "call %s by %s on %r/%r: %s %s in %.1f ms",  # %r: ids from a path may hold anything
        operation,
        caller,
        subscription,
        bridge,
        status,
        outcome,
        seconds * 1000,
    )
    gateway().audit.submit(
        {
            "occurred_at": datetime.now(UTC),
            "request_id": request_id,
            "caller": caller,
            "subscription_id": (subscription or None) and str(subscription)[:50],
            "bridge_id": (bridge or None) and str(bridge)[:50],
            "operation": operation,
            "target": target,
            "status": status,
            "outcome": outcome,
            "duration_ms": round(seconds * 1000),
        }
    )


def start_audit() -> None:
    """Start this call's record: a clean slate in `g` and the clock running (Flask's hook, and the fast lane)."""
    # A request may share an app context (and so `g`) with an outer one, as in tests: start clean.
    for name in ("token_claims", "audit_subject", "audit_target"):
        g.pop(name, None)
    g.audit_started = time.perf_counter()


def finish_audit(operation: str, arguments: Mapping[str, Any], status: int, outcome: str) -> None:
    """Record the call `start_audit` started: the caller (`g.token_claims`), the bridge as `set_audit_subject`
    named it (else as the path's `arguments` did), the target, and the time since the start."""
    seconds = time.perf_counter() - g.audit_started
    subscription, bridge = g.get("audit_subject") or (arguments.get("subscription_id"), arguments.get("bridge_id"))
    record_call(
        claims=g.get("token_claims") or {},
        subscription=subscription,
        bridge=bridge,
        operation=operation,
        target=g.get("audit_target"),
        status=status,
        outcome=outcome,
        seconds=seconds,
        request_id=current_request_id(),
    )


def install_audit(app: Flask, blueprints: tuple[str, ...]) -> None:
    """Record every call to the given blueprints, and count it in the metrics."""

    @app.before_request
    def _start_clock() -> None:
        if request.blueprint in blueprints:
            start_audit()

    @app.after_request
    def _record(response: Response) -> Response:
        if request.blueprint not in blueprints or "audit_started" not in g:
            return response
        finish_audit(
            (request.endpoint or "unknown").rsplit(".", 1)[-1],
            request.view_args or {},
            response.status_code,
            call_outcome(response.status_code, response.get_data(), is_json=response.is_json),
        )
        return response
