"""In-process rate-limit counters without a thread per request.

The `limits` package's memory storage sweeps expired counters on a timer thread that lives 10 ms, and starts
a new one on nearly every hit: on the token endpoint that cost about a third of each request. This storage
keeps the same counters and the same checks (a counter past its window reads as zero on every access), and
sweeps the expired ones inline, at most once a second, only to free memory.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from limits.storage import MemoryStorage

__all__ = ["SweepingMemoryStorage"]

SWEEP_EVERY_SECONDS = 1.0


class SweepingMemoryStorage(MemoryStorage):
    """`memory://` counters, swept inline; Flask-Limiter finds it by its scheme, `sweeping-memory://`."""

    STORAGE_SCHEME = ["sweeping-memory"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._next_sweep = 0.0
        self._sweep_lock = threading.Lock()

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 - replaces the base class's private hook
        now = time.monotonic()
        if now < self._next_sweep or not self._sweep_lock.acquire(blocking=False):
            return
        try:
            self._next_sweep = now + SWEEP_EVERY_SECONDS
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]
        finally:
            self._sweep_lock.release()
