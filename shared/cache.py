"""A small cache for shared, fast-changing state: in-process by default, Redis when REDIS_URL is set."""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["Cache", "MemoryCache", "RedisCache", "make_cache"]


class Cache(Protocol):
    """JSON values under string keys, each with its own time to live."""

    def get(self, key: str) -> Any | None: ...

    def set(self, key: str, value: Any, *, ttl: float) -> None: ...

    def delete(self, key: str) -> None: ...


class MemoryCache:
    """A bounded, thread-safe LRU with per-entry expiry, for one process."""

    def __init__(self, *, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()

    def get(self, key: str) -> Any | None:
        """The live value under `key`, or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires_at, value = entry
            if expires_at <= self._clock():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    def set(self, key: str, value: Any, *, ttl: float) -> None:
        """Store `value` for `ttl` seconds, evicting the least recently used entry when full."""
        with self._lock:
            self._entries[key] = (self._clock() + ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def delete(self, key: str) -> None:
        """Forget `key`."""
        with self._lock:
            self._entries.pop(key, None)


class RedisCache:
    """The same interface on Redis, so several workers and services share entries."""

    def __init__(self, url: str, *, prefix: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._prefix = prefix

    def get(self, key: str) -> Any | None:
        """The live value under `key`, or None."""
        raw = self._redis.get(self._prefix + key)
        return None if raw is None else json.loads(raw)

    def set(self, key: str, value: Any, *, ttl: float) -> None:
        """Store `value` for `ttl` seconds."""
        self._redis.set(self._prefix + key, json.dumps(value), px=max(1, int(ttl * 1000)))

    def delete(self, key: str) -> None:
        """Forget `key`."""
        self._redis.delete(self._prefix + key)


def make_cache(redis_url: str | None, *, prefix: str, max_entries: int = 10_000) -> Cache:
    """Redis when a URL is configured, else an in-process cache."""
    if redis_url:
        return RedisCache(redis_url, prefix=prefix)
    return MemoryCache(max_entries=max_entries)
