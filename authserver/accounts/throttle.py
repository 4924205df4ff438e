"""Slow-down after failed sign-ins: a growing wait once an account collects too many failures in a window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["ThrottlePolicy"]


def _as_utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class ThrottlePolicy:
    """After `failures` failures in `window` s, wait `delay` s, doubling per further failure up to `max_delay`."""

    failures: int = 5
    window: int = 900
    delay: int = 30
    max_delay: int = 900

    @classmethod
    def from_config(cls, config: Any) -> ThrottlePolicy:
        """Read SIGNIN_THROTTLE_* settings, keeping the defaults for missing ones."""
        names = {"failures": "FAILURES", "window": "WINDOW", "delay": "DELAY", "max_delay": "MAX_DELAY"}
        values = {
            field: int(config[f"SIGNIN_THROTTLE_{key}"])
            for field, key in names.items()
            if f"SIGNIN_THROTTLE_{key}" in config
        }
        return cls(**values)

    def recent_failures(self, *, failures: int, last_failed_at: datetime | None, now: datetime) -> int:
        """The failures that still count: none once the last one is older than the window."""
        if last_failed_at is None or now - _as_utc(last_failed_at) > timedelta(seconds=self.window):
            return 0
        return failures

    def wait(self, *, failures: int, last_failed_at: datetime | None, now: datetime) -> float:
        """Seconds left before the next attempt may be checked; 0 when it may be checked now."""
        counted = self.recent_failures(failures=failures, last_failed_at=last_failed_at, now=now)
        if counted < self.failures or last_failed_at is None:
            return 0.0
        delay = min(self.max_delay, self.delay * 2 ** min(counted - self.failures, 16))
        remaining = delay - (now - _as_utc(last_failed_at)).total_seconds()
        return max(0.0, remaining)
