"""The token endpoint's in-process rate-limit counters: the same limits as `memory://`, without a thread per hit."""

from __future__ import annotations

import threading
import time

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from authserver.oauth2 import limit_storage
from authserver.oauth2.limit_storage import SweepingMemoryStorage


def test_scheme_builds_the_sweeping_storage_and_limits_per_key_and_window():
    storage = storage_from_string("sweeping-memory://")
    assert isinstance(storage, SweepingMemoryStorage)
    limiter, three = FixedWindowRateLimiter(storage), parse("3/second")
    assert [limiter.hit(three, "203.0.113.5") for _ in range(5)] == [True, True, True, False, False]
    assert limiter.hit(three, "203.0.113.6")  # another address has its own counter
    time.sleep(1.05)
    assert limiter.hit(three, "203.0.113.5")  # a new window


def test_hits_start_no_threads_and_expired_counters_are_swept(monkeypatch):
    monkeypatch.setattr(limit_storage, "SWEEP_EVERY_SECONDS", 0.2)
    storage = SweepingMemoryStorage()
    limiter, one = FixedWindowRateLimiter(storage), parse("100/second")
    time.sleep(0.05)  # the base class's one start-up timer has run out
    before = threading.active_count()
    for n in range(200):
        limiter.hit(one, f"198.51.100.{n}")
    assert threading.active_count() == before
    assert len(storage.storage) == 200
    time.sleep(1.3)  # every counter's window is over, and the sweep is due
    limiter.hit(one, "192.0.2.1")
    assert len(storage.storage) == 1 and "192.0.2.1" in next(iter(storage.storage))
