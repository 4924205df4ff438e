"""Rate limiting of the token endpoint (Flask-Limiter): per client address, in memory or in Redis."""

from __future__ import annotations

import math
import time

from flask import Flask, Response
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address
from limits import parse_many

from authserver.oauth2.limit_storage import SweepingMemoryStorage  # noqa: F401 - registers sweeping-memory://
from authserver.oauth2.views import oauth_error
from authserver.portal.ratelimit import checked_by_decorators_only
from shared.config import ConfigError

__all__ = ["init_rate_limits"]


def _too_many_requests(limit: RequestLimit) -> Response:
    retry_after = max(1, math.ceil(limit.window[0] - time.time()))  # window[0]: when the window resets
    return oauth_error(429, "temporarily_unavailable", "rate limit exceeded", **{"Retry-After": str(retry_after)})


def init_rate_limits(app: Flask) -> Limiter:
    """Limit `oauth.token` to TOKEN_RATE_LIMIT per client address; counters live in REDIS_URL when set.

    Each app gets its own limiter, so apps built in one process (tests) never share counters. The limit is
    checked once, by the decorator on the view; the limiter's app-wide hooks are removed (they found no limit
    on any request, the token endpoint's included, and cost about a tenth of a token request).
    """
    storage = app.config.get("RATELIMIT_STORAGE_URI") or app.config.get("REDIS_URL") or "sweeping-memory://"
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=storage,
        key_prefix="authserver",
        on_breach=_too_many_requests,
        swallow_errors=True,  # an unreachable Redis must not take the token endpoint down
    )
    rate = str(app.config["TOKEN_RATE_LIMIT"])  # a string, parsed once (a callable was parsed on every request)
    try:
        parse_many(rate)
    except ValueError:
        raise ConfigError(f"authserver: TOKEN_RATE_LIMIT {rate!r} is not a rate such as '600/second'") from None
    app.view_functions["oauth.token"] = limiter.limit(rate)(app.view_functions["oauth.token"])
    checked_by_decorators_only(app, limiter)
    app.extensions["oauth2_limiter"] = limiter
    return limiter
