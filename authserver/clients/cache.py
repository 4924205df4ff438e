"""A small thread-safe TTL cache for hot-path lookups (DESIGN §7: reading a client per token request costs ~43 %).

It lives in one process: an entry invalidated here is gone here at once, while other workers keep
their copy until it expires, so a change reaches every worker within `ttl` seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["TTLCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    """Values kept for `ttl` seconds, at most `maxsize` of them; misses are not cached."""

    def __init__(self, *, ttl: float, maxsize: int = 1024, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.maxsize = maxsize
        self._clock = clock
        self._entries: dict[K, tuple[float, V]] = {}
        self._generation = 0
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The fresh value for `key`, if any."""
        entry = self._entries.get(key)
        if entry is None or entry[0] <= self._clock():
            return None
        return entry[1]

    def get_or_load(self, key: K, load: Callable[[], V | None]) -> V | None:
        """The cached value, or `load()`'s result, kept unless an invalidation happened meanwhile."""
        value = self.get(key)
        if value is not None:
            return value
        generation = self._generation
        value = load()
        if value is not None and self.ttl > 0:
            with self._lock:
                if generation == self._generation:
                    self._store(key, value)
        return value

    def _store(self, key: K, value: V) -> None:
        now = self._clock()
        if len(self._entries) >= self.maxsize:
            for stale in [k for k, (expires, _) in self._entries.items() if expires <= now]:
                del self._entries[stale]
            while len(self._entries) >= self.maxsize:
                del self._entries[next(iter(self._entries))]
        self._entries[key] = (now + self.ttl, value)

    def invalidate(self, key: K) -> None:
        """Forget `key` (and make loads already under way not store what they read)."""
        with self._lock:
            self._generation += 1
            self._entries.pop(key, None)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._generation += 1
            self._entries.clear()
