"""Slow-down after failed ERP sign-ins, per login and Company ID, with counters in the shared cache.

The ERP passwords are not ours, so there is no account row to count failures on: the counters live in
the cache (in-process, or Redis when REDIS_URL is set, so every worker sees them) and expire on their own.
The policy is the portal's (`SIGNIN_THROTTLE_*`): after `failures` failures within `window` seconds, wait
`delay` seconds, doubling with each further failure up to `max_delay`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from authserver.accounts.throttle import ThrottlePolicy
from shared.cache import Cache
from shared.secrets import digest

__all__ = ["FailureTracker"]


class FailureTracker:
    """Counts failed sign-ins per (login, Company ID) and says how long the next attempt must wait."""

    def __init__(self, *, cache: Cache, policy: ThrottlePolicy) -> None:
        self._cache = cache
        self._policy = policy

    @staticmethod
    def key(*, login: str, company_id: str) -> str:
        """The counter's key: a digest, so the cache never holds the login itself."""
        return "failures:" + digest(f"{login.strip().lower()}\n{company_id.strip().lower()}")[:32]

    def _read(self, key: str) -> tuple[int, datetime | None]:
        entry = self._cache.get(key)
        if not isinstance(entry, dict):
            return 0, None
        return int(entry.get("failures", 0)), datetime.fromtimestamp(float(entry.get("last", 0)), UTC)

    def wait(self, key: str, *, now: datetime) -> float:
        """Seconds before this login may be checked again; 0 when it may be checked now."""
        failures, last = self._read(key)
        return self._policy.wait(failures=failures, last_failed_at=last, now=now)

    def failed(self, key: str, *, now: datetime) -> None:
        """Count a failure."""
        failures, last = self._read(key)
        counted = self._policy.recent_failures(failures=failures, last_failed_at=last, now=now)
        ttl = self._policy.window + self._policy.max_delay
        self._cache.set(key, {"failures": counted + 1, "last": now.timestamp()}, ttl=ttl)

    def succeeded(self, key: str) -> None:
        """Forget the failures after a successful sign-in."""
        self._cache.delete(key)
