"""ERP sign-in for end users (subscription users): the page, its Branch ID lookup, the end-user session.

The ERP user directory plugs in as `app.extensions["erp_authenticator"]` (an `ErpAuthenticator`); until one is
configured the sign-in page says so (503) and nobody can sign in.
"""

from __future__ import annotations

from flask import Flask, has_request_context

from authserver.accounts.throttle import ThrottlePolicy
from authserver.portal import client_address, form_field_key, limit_endpoint
from authserver.signin.current import current_end_user, end_end_user_session, start_end_user_session
from authserver.signin.throttle import FailureTracker
from authserver.signin.users import EndUser, ErpAuthenticator, ErpUnavailable, SignInRefused
from shared.cache import make_cache

__all__ = [
    "EndUser",
    "ErpAuthenticator",
    "ErpUnavailable",
    "SignInRefused",
    "current_end_user",
    "end_end_user_session",
    "init_app",
    "start_end_user_session",
]

DEFAULTS = {
    "END_USER_SESSION_MAX_AGE": 8 * 3600,
    "ERP_SIGNIN_LIMIT_PER_ADDRESS": "30 per minute",
    "ERP_SIGNIN_LIMIT_PER_LOGIN": "10 per minute",
    "ERP_BRANCHES_LIMIT_PER_ADDRESS": "60 per minute",
}


def init_app(app: Flask) -> None:
    """Register the sign-in page, its rate limits and the failure counters (after the portal's limiter)."""
    from authserver.signin.views import bp

    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.register_blueprint(bp)
    app.context_processor(lambda: {"end_user": current_end_user() if has_request_context() else None})
    app.extensions["erp_signin_failures"] = FailureTracker(
        cache=make_cache(app.config.get("REDIS_URL"), prefix="authserver:erp-signin:"),
        policy=ThrottlePolicy.from_config(app.config),
    )
    limit_endpoint(app, "signin.erp_signin", "ERP_SIGNIN_LIMIT_PER_ADDRESS", key=client_address)
    limit_endpoint(app, "signin.erp_signin", "ERP_SIGNIN_LIMIT_PER_LOGIN", key=form_field_key("login"))
    limit_endpoint(app, "signin.branches", "ERP_BRANCHES_LIMIT_PER_ADDRESS", key=client_address)
