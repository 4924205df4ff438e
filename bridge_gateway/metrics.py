"""Prometheus metrics in the text exposition format (0.0.4), kept by hand in process.

Counters and histograms live in each worker process; a scrape reaches one worker, so scrape every worker
(or run one) and let Prometheus `sum` the series. Label values are subscription and bridge ids, which the
gateway's own validation keeps to `[A-Za-z0-9_-]`; they are escaped anyway.
"""

from __future__ import annotations

import bisect
import hmac
import threading
from collections.abc import Callable, Iterable
from typing import Any

from flask import Blueprint, Response, current_app, request

__all__ = ["Metrics", "bp"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
Labels = tuple[tuple[str, str], ...]

_HELP = {
    "bridge_gateway_calls_total": ("counter", "Internal API calls answered, by bridge, operation and HTTP status."),
    "bridge_gateway_call_duration_seconds": ("histogram", "Time to answer an internal API call, by bridge."),
    "bridge_gateway_upstream_requests_total": ("counter", "HTTP exchanges with EBS servers, by bridge and outcome."),
    "bridge_gateway_upstream_duration_seconds": ("histogram", "Duration of HTTP exchanges with EBS, by bridge."),
    "bridge_gateway_circuit_state": ("gauge", "Circuit breaker per bridge: 0 closed, 1 open, 2 half-open."),
    "bridge_gateway_upstream_in_flight": ("gauge", "Calls in flight to each bridge in this worker."),
    "bridge_gateway_audit_dropped_total": ("counter", "Audit rows dropped because the audit store fell behind."),
}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _render_labels(labels: Labels) -> str:
    return "{" + ",".join(f'{name}="{_escape(value)}"' for name, value in labels) + "}" if labels else ""


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class _Histogram:
    __slots__ = ("counts", "sum", "count")

    def __init__(self) -> None:
        self.counts = [0] * len(BUCKETS)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        index = bisect.bisect_left(BUCKETS, value)
        if index < len(BUCKETS):
            self.counts[index] += 1
        self.sum += value
        self.count += 1


class Metrics:
    """Thread-safe counters and histograms; callbacks report gauges (and externally kept counters) at scrape time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, dict[Labels, float]] = {}
        self._histograms: dict[str, dict[Labels, _Histogram]] = {}
        self._gauges: list[Callable[[], Iterable[tuple[str, Labels, float]]]] = []

    def inc(self, name: str, labels: Labels, amount: float = 1.0) -> None:
        """Add to a counter."""
        with self._lock:
            series = self._counters.setdefault(name, {})
            series[labels] = series.get(labels, 0.0) + amount

    def observe(self, name: str, labels: Labels, value: float) -> None:
        """Record one value in a histogram."""
        with self._lock:
            self._histograms.setdefault(name, {}).setdefault(labels, _Histogram()).observe(value)

    def add_gauges(self, collect: Callable[[], Iterable[tuple[str, Labels, float]]]) -> None:
        """Register a callback yielding (name, labels, value) gauge samples at scrape time."""
        self._gauges.append(collect)

    def record_call(self, *, subscription: str, bridge: str, operation: str, status: int, seconds: float) -> None:
        """One internal API call answered."""
        labels = (("subscription", subscription), ("bridge", bridge), ("operation", operation))
        self._count_and_observe(
            "bridge_gateway_calls_total",
            (*labels, ("status", str(status))),
            "bridge_gateway_call_duration_seconds",
            labels,
            seconds,
        )

    def record_upstream(self, labels: Labels, *, outcome: str, seconds: float | None) -> None:
        """One exchange with EBS (an attempt) of the bridge with `labels` (subscription, bridge), its outcome an
        HTTP status or a failure slug."""
        self._count_and_observe(
            "bridge_gateway_upstream_requests_total",
            (*labels, ("outcome", outcome)),
            "bridge_gateway_upstream_duration_seconds",
            labels,
            seconds,
        )

    def _count_and_observe(
        self, counter: str, counter_labels: Labels, histogram: str, labels: Labels, seconds: float | None
    ) -> None:
        """A counter and (when `seconds` is known) a histogram updated under one lock: a call's hot path pays
        one acquisition, not two."""
        with self._lock:
            series = self._counters.setdefault(counter, {})
            series[counter_labels] = series.get(counter_labels, 0.0) + 1.0
            if seconds is not None:
                histograms = self._histograms.setdefault(histogram, {})
                found = histograms.get(labels)
                if found is None:
                    found = histograms[labels] = _Histogram()
                found.observe(seconds)

    def render(self) -> str:
        """Every series in the Prometheus text format."""
        lines: list[str] = []
        with self._lock:
            counters = {name: dict(series) for name, series in self._counters.items()}
            histograms = {
                name: {labels: (list(h.counts), h.sum, h.count) for labels, h in series.items()}
                for name, series in self._histograms.items()
            }
        gauges: dict[str, dict[Labels, float]] = {}
        for collect in self._gauges:
            for name, labels, value in collect():
                gauges.setdefault(name, {})[labels] = value
        for name, (kind, text) in _HELP.items():
            lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
            if kind == "histogram":
                for labels, (counts, total, count) in sorted(histograms.get(name, {}).items()):
                    cumulative = 0
                    for bound, bucket in zip(BUCKETS, counts, strict=True):
                        cumulative += bucket
                        lines.append(f"{name}_bucket{_render_labels((*labels, ('le', _number(bound))))} {cumulative}")
                    lines.append(f"{name}_bucket{_render_labels((*labels, ('le', '+Inf')))} {count}")
                    lines.append(f"{name}_sum{_render_labels(labels)} {_number(total)}")
                    lines.append(f"{name}_count{_render_labels(labels)} {count}")
            else:
                samples = {**counters.get(name, {}), **gauges.get(name, {})}  # callbacks may report counters too
                for labels, value in sorted(samples.items()):
                    lines.append(f"{name}{_render_labels(labels)} {_number(value)}")
        return "\n".join(lines) + "\n"


bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics() -> Any:
    """Prometheus scrape endpoint; with METRICS_TOKEN set, it needs `Authorization: Bearer <that token>`."""
    expected = current_app.config.get("METRICS_TOKEN")
    if expected:
        presented = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(presented.encode(), str(expected).encode()):
            challenge = {"WWW-Authenticate": 'Bearer realm="metrics"'}
            return Response("unauthorized\n", 401, challenge, mimetype="text/plain")
    body = current_app.extensions["bridge_gateway"].metrics.render()
    return Response(body, mimetype="text/plain", content_type=CONTENT_TYPE)
