"""Who calls the JSON API: a personal access token (`Authorization: Bearer …`, no CSRF), or the portal session.

With the session cookie, unsafe methods need the CSRF token in the `X-CSRFToken` header (or `X-CSRF-Token`),
as the portal's forms carry it; `GET /api/v1/me` hands it out. A token never needs one: no browser sends it
by itself. Failures are problems, with `WWW-Authenticate` on 401 (RFC 6750 §3).
"""

from __future__ import annotations

import time

from flask import Blueprint, Flask, Response, current_app, g, request
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError

from authserver.accounts.access import current_account
from authserver.accounts.models import AdminAccount
from authserver.api import tokens
from authserver.extensions import csrf, db
from authserver.gateway_client import GatewayProblem
from authserver.subscriptions import service
from authserver.subscriptions.models import Bridge, Subscription
from authserver.users import service as users
from shared.errors import Forbidden, Problem, Unauthorized, problem_response

__all__ = ["REALM", "api_account", "api_owned", "api_owned_bridge", "init_api_auth", "protect", "via_token"]

REALM = "cloudstore-portal-api"
_SAFE = ("GET", "HEAD", "OPTIONS")


class ApiUnauthorized(Unauthorized):
    """401 with the Bearer challenge; `error` is RFC 6750's code when a token was sent and refused."""

    def __init__(self, detail: str, *, error: str | None = None) -> None:
        super().__init__(detail)
        params = [f'realm="{REALM}"'] + ([f'error="{error}"'] if error else [])
        self.challenge = "Bearer " + ", ".join(params)


def _render_unauthorized(problem: ApiUnauthorized) -> Response:
    response = problem_response(problem)
    response.headers["WWW-Authenticate"] = problem.challenge
    response.headers["Cache-Control"] = "no-store"
    return response


def _authenticate() -> None:
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise ApiUnauthorized("Send Authorization: Bearer <personal access token>.", error="invalid_request")
        account = tokens.account_for_token(session=db.session, value=value.strip())
        if account is None:
            raise ApiUnauthorized("The personal access token is unknown or revoked.", error="invalid_token")
        g.api_account, g.api_via_token = account, True
        return
    account = current_account()
    if account is None:
        raise ApiUnauthorized("Sign in to the portal, or send Authorization: Bearer <personal access token>.")
    if request.method not in _SAFE and current_app.config.get("WTF_CSRF_ENABLED", True):
        try:
            csrf.protect()
        except CSRFError:
            raise Forbidden(
                "With the session cookie, send the CSRF token in the X-CSRFToken header (GET /api/v1/me gives it)."
            ) from None
    g.api_account, g.api_via_token = account, False


def _check_tenancy() -> None:
    """Before any input is read: the ids in the path must be the caller's own, else 404 (never 422 or 403)."""
    args = request.view_args or {}
    if "subscription_id" not in args:
        return
    subscription = api_owned(args["subscription_id"])
    if "bridge_id" in args:
        service.owned_bridge(session=db.session, subscription=subscription, bridge_id=args["bridge_id"])
    if "user_id" in args:
        users.owned_user(session=db.session, subscription=subscription, user_id=args["user_id"])


def _too_many(exc: RateLimitExceeded) -> Response:
    response = problem_response(
        Problem("Too many requests. Wait a little and try again.", status=429, title="Too many requests")
    )
    current = current_app.extensions["portal_limiter"].current_limit
    if current is not None:
        response.headers["Retry-After"] = str(max(1, int(current.reset_at - time.time())))
    return response


def protect(bp: Blueprint) -> Blueprint:
    """Require a token or a session on every route of `bp`, and the caller's own ids in its path.

    The session's CSRF check is done here, not globally, so that a token needs none.
    """
    csrf.exempt(bp)
    bp.before_request(_authenticate)
    bp.before_request(_check_tenancy)
    bp.register_error_handler(RateLimitExceeded, _too_many)  # a problem, not the portal's HTML page
    return bp


def api_account() -> AdminAccount:
    """The calling account (set by `protect`)."""
    return g.api_account  # type: ignore[no-any-return]


def via_token() -> bool:
    """True when the call came with a personal access token rather than the session."""
    return bool(g.get("api_via_token"))


def api_owned(subscription_id: str) -> Subscription:
    """The caller's subscription; a 404 problem for anyone else's."""
    return service.owned_subscription(session=db.session, account=api_account(), subscription_id=subscription_id)


def api_owned_bridge(subscription_id: str, bridge_id: str) -> Bridge:
    """A bridge of the caller's subscription; a 404 problem otherwise."""
    return service.owned_bridge(session=db.session, subscription=api_owned(subscription_id), bridge_id=bridge_id)


def _render_gateway_problem(problem: GatewayProblem) -> Response:
    response = problem_response(problem)
    if problem.retry_after and problem.retry_after.isdigit():  # circuit open, bridge busy
        response.headers["Retry-After"] = problem.retry_after
    return response


def init_api_auth(app: Flask) -> None:
    """Render 401s with their challenge, and the gateway's problems with its Retry-After."""
    app.register_error_handler(ApiUnauthorized, _render_unauthorized)
    app.register_error_handler(GatewayProblem, _render_gateway_problem)
