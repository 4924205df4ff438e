"""Rate limiting of the token endpoint: TOKEN_RATE_LIMIT per client address, in memory or in Redis.

Counted with the `limits` package (the library under Flask-Limiter, same storages and fixed windows) rather
than a view decorator, because the token endpoint has two doors: the full Flask view and the fast lane
(`fast_lane`) in front of it. Both count on this one object, each request once.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from typing import Any

from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from authserver.oauth2.limit_storage import SweepingMemoryStorage  # noqa: F401 - registers sweeping-memory://
from shared.config import ConfigError

__all__ = ["COUNTED", "TokenRateLimit"]

log = logging.getLogger(__name__)

COUNTED = "cloudstore.token_rate_counted"  # set in the WSGI environ once a request has been counted


class TokenRateLimit:
    """Per-address counters of token requests; an unreachable Redis lets requests through (and is logged)."""

    def __init__(self, rate: str, storage_uri: str) -> None:
        try:
            self.items = parse_many(rate)
        except ValueError:
            raise ConfigError(f"authserver: TOKEN_RATE_LIMIT {rate!r} is not a rate such as '600/second'") from None
        self.strategy = FixedWindowRateLimiter(storage_from_string(storage_uri))

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TokenRateLimit:
        """TOKEN_RATE_LIMIT, counted in RATELIMIT_STORAGE_URI or REDIS_URL, else in this process's memory."""
        storage = config.get("RATELIMIT_STORAGE_URI") or config.get("REDIS_URL") or "sweeping-memory://"
        return cls(str(config["TOKEN_RATE_LIMIT"]), storage)

    def retry_after(self, address: str) -> int | None:
        """Count a request from `address`: None while within the limit, else the seconds until it may retry."""
        for item in self.items:
            try:
                if self.strategy.hit(item, "authserver", "oauth.token", address):
                    continue
                reset = self.strategy.get_window_stats(item, "authserver", "oauth.token", address).reset_time
            except Exception:  # noqa: BLE001 - an unreachable Redis must not take the token endpoint down
                log.warning("token rate limit not checked: its storage failed", exc_info=True)
                continue
            return max(1, math.ceil(reset - time.time()))
        return None
