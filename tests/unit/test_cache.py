"""shared.cache: expiry and bounded size of the in-process cache."""

from __future__ import annotations

from shared.cache import MemoryCache, make_cache


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire():
    clock = Clock()
    cache = MemoryCache(clock=clock)
    cache.set("k", {"active": True}, ttl=5)
    assert cache.get("k") == {"active": True}
    clock.now = 5.0
    assert cache.get("k") is None


def test_least_recently_used_entry_is_evicted_when_full():
    cache = MemoryCache(max_entries=2)
    cache.set("a", 1, ttl=60)
    cache.set("b", 2, ttl=60)
    cache.get("a")
    cache.set("c", 3, ttl=60)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)


def test_delete_and_factory_default():
    cache = make_cache(None, prefix="x:")
    assert isinstance(cache, MemoryCache)
    cache.set("a", 1, ttl=60)
    cache.delete("a")
    assert cache.get("a") is None
