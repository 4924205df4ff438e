"""Rate limits on form posts (Flask-Limiter), one limiter per app, counters in memory or in Redis (REDIS_URL)."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded

from shared.secrets import digest

__all__ = ["checked_by_decorators_only", "client_address", "form_field_key", "init_rate_limits", "limit_endpoint"]

_LIMITER = "portal_limiter"


def client_address() -> str:
    """The client's address (behind trusted proxies, as ProxyFix reports it)."""
    return request.remote_addr or "unknown"


def form_field_key(name: str) -> Callable[[], str]:
    """A key function: the digest of a form field, lower-cased (e.g. `email`), so keys never hold the value."""

    def key() -> str:
        return digest(str(request.form.get(name, "")).strip().lower())[:32]

    return key


def checked_by_decorators_only(app: Flask, limiter: Limiter) -> None:
    """Remove the limiter's per-request hooks: its limits are all on decorated views, which check their own.

    Flask-Limiter installs a `before_request` check, an `after_request` header step and a teardown on every
    request of the app, for default and application-wide limits. Our limiters have none (and no rate-limit
    headers), so the hooks only looked up that nothing applies, on every request including the token
    endpoint's: about a sixth of a token request for the two limiters. A decorated view still runs its
    limiter's check before the view (Flask-Limiter keeps that state on the request context, so no teardown
    is needed). A limiter given default, application or meta limits keeps its hooks.
    """
    if limiter.limit_manager.default_limits or limiter.limit_manager.application_limits or limiter._meta_limits:
        return
    hooks = (
        (app.before_request_funcs, lambda f: getattr(f, "__self__", None) is limiter),
        (app.after_request_funcs, lambda f: getattr(f, "args", ()) == (limiter,)),  # partial(__inject_headers)
        (app.teardown_request_funcs, lambda f: getattr(f, "__self__", None) is limiter),
    )
    for registry, belongs in hooks:
        registry[None] = [f for f in registry.get(None, []) if not belongs(f)]


def _limits_off() -> bool:
    return not current_app.config["PORTAL_RATE_LIMITS"]


def limit_endpoint(
    app: Flask,
    endpoint: str,
    setting: str,
    *,
    key: Callable[[], str] = client_address,
    scope: str | None = None,
    methods: tuple[str, ...] = ("POST",),
) -> None:
    """Limit an endpoint to the rate in config `setting` per `key`; endpoints naming one `scope` share counters."""
    limiter: Limiter = app.extensions[_LIMITER]
    rate = lambda: current_app.config[setting]  # noqa: E731 - read at request time, so config overrides apply
    options = {"key_func": key, "methods": list(methods), "exempt_when": _limits_off}
    if scope:
        decorator = limiter.shared_limit(rate, scope=scope, **options)
    else:
        decorator = limiter.limit(rate, **options)
    app.view_functions[endpoint] = decorator(app.view_functions[endpoint])


def init_rate_limits(app: Flask, render_error: Callable[[str, str, int], Response]) -> Limiter:
    """Create the app's portal limiter; limits are on unless PORTAL_RATE_LIMITS is false (default: off when TESTING)."""
    app.config.setdefault("PORTAL_RATE_LIMITS", not app.config.get("TESTING"))
    storage = app.config.get("RATELIMIT_STORAGE_URI") or app.config.get("REDIS_URL") or "memory://"
    limiter = Limiter(client_address, app=app, storage_uri=storage, key_prefix="portal", swallow_errors=True)
    app.extensions[_LIMITER] = limiter
    checked_by_decorators_only(app, limiter)

    @app.errorhandler(RateLimitExceeded)
    def _too_many(exc: RateLimitExceeded) -> Response:
        response = render_error("Too many attempts", "Too many requests. Wait a little and try again.", 429)
        current = limiter.current_limit
        if current is not None:
            response.headers["Retry-After"] = str(max(1, int(current.reset_at - time.time())))
        return response

    return limiter
