"""Per-bridge protection, in process: a circuit breaker and a concurrency cap.

The breaker opens after `failure_threshold` consecutive failures (unreachable, timeout, TLS, 5xx), answers
at once while open, and after `reset_seconds` lets exactly one probe through (half-open): success closes it,
failure opens it again. The cap bounds the calls in flight to one bridge, so a slow customer holds at most
that many of a worker's threads and cannot starve the others. Each worker process keeps its own state.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from bridge_gateway.errors import BridgeBusyError, CircuitOpenError

__all__ = ["CLOSED", "HALF_OPEN", "OPEN", "CircuitBreaker", "ConcurrencyLimit"]

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


class CircuitBreaker:
    """Consecutive-failure circuit breaker with a single half-open probe; thread-safe."""

    def __init__(
        self, *, failure_threshold: int, reset_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.failure_threshold = failure_threshold
        self.reset_seconds = reset_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._state = CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False

    @property
    def state(self) -> str:
        """closed, open or half_open (open turns half_open once the reset time has passed)."""
        with self._lock:
            if self._state == OPEN and self._clock() - self._opened_at >= self.reset_seconds:
                return HALF_OPEN
            return self._state

    def before_call(self) -> None:
        """Let a call through, or raise CircuitOpenError with a Retry-After."""
        with self._lock:
            if self._state == CLOSED:
                return
            waited = self._clock() - self._opened_at
            if self._state == OPEN and waited >= self.reset_seconds:
                self._state = HALF_OPEN
            if self._state == HALF_OPEN and not self._probing:
                self._probing = True
                return
            retry_after = max(1, math.ceil(self.reset_seconds - waited)) if self._state == OPEN else 1
        raise CircuitOpenError(
            "The gateway stopped calling this EBS server for a while after repeated failures; "
            f"it will try again in about {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
            retryAfter=retry_after,
        )

    def record_success(self) -> None:
        """A call reached EBS and got a non-5xx answer: close the circuit."""
        with self._lock:
            self._state, self._failures, self._probing = CLOSED, 0, False

    def record_failure(self) -> None:
        """A call failed for a reason that says the server is unwell; open after enough in a row."""
        with self._lock:
            self._failures += 1
            if self._state == HALF_OPEN or self._failures >= self.failure_threshold:
                self._state, self._opened_at, self._probing = OPEN, self._clock(), False

    def release_probe(self) -> None:
        """A half-open probe ended without a verdict (say, the guard refused it): let another probe try."""
        with self._lock:
            self._probing = False


class ConcurrencyLimit:
    """At most `limit` calls at once; a caller waits up to `wait_seconds` for a slot, then gets bridge-busy."""

    def __init__(self, *, limit: int, wait_seconds: float) -> None:
        self.limit = limit
        self.wait_seconds = wait_seconds
        self._slots = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self.in_flight = 0

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one slot for the duration of the block."""
        if not self._slots.acquire(timeout=self.wait_seconds):
            raise BridgeBusyError(
                f"This EBS server already has {self.limit} calls in flight from this gateway worker; "
                "try again shortly.",
                headers={"Retry-After": "1"},
            )
        with self._lock:
            self.in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                self.in_flight -= 1
            self._slots.release()
