"""The TTL cache behind client lookups."""

from __future__ import annotations

from authserver.clients.cache import TTLCache


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_values_expire_after_ttl():
    clock = _Clock()
    cache: TTLCache[str, int] = TTLCache(ttl=5, clock=clock)
    loads = []
    load = lambda: loads.append(1) or len(loads)  # noqa: E731
    assert cache.get_or_load("a", load) == 1
    clock.now = 4.9
    assert cache.get_or_load("a", load) == 1
    clock.now = 5.0
    assert cache.get_or_load("a", load) == 2


def test_misses_are_not_cached_and_invalidation_is_immediate():
    cache: TTLCache[str, str] = TTLCache(ttl=60)
    assert cache.get_or_load("a", lambda: None) is None
    assert cache.get_or_load("a", lambda: "x") == "x"
    cache.invalidate("a")
    assert cache.get("a") is None


def test_a_load_racing_an_invalidation_is_not_stored():
    cache: TTLCache[str, str] = TTLCache(ttl=60)

    def slow_load() -> str:
        cache.invalidate("a")  # someone rotates the secret while we read the old row
        return "stale"

    assert cache.get_or_load("a", slow_load) == "stale"
    assert cache.get("a") is None


def test_size_is_bounded():
    cache: TTLCache[int, int] = TTLCache(ttl=60, maxsize=3)
    for i in range(10):
        cache.get_or_load(i, lambda i=i: i)
    assert sum(cache.get(i) is not None for i in range(10)) == 3 and cache.get(9) == 9


def test_zero_ttl_disables_caching():
    cache: TTLCache[str, int] = TTLCache(ttl=0)
    cache.get_or_load("a", lambda: 1)
    assert cache.get("a") is None
