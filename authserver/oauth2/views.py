"""The OAuth endpoints: token (RFC 6749 §3.2), introspection (RFC 7662 §2), revocation (RFC 7009 §2).

Each accepts only POST with a form body, so tokens and secrets never travel in a URL; every answer of this
blueprint, error or not, is marked `no-store`. The authorization, userinfo and end-session endpoints are
routed on the same blueprint (`authorize`, `userinfo`, `end_session` modules).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from authserver.oauth2.limits import COUNTED
from authserver.oauth2.purge import maybe_purge
from authserver.oauth2.runtime import oauth_state

bp = Blueprint("oauth", __name__)

# GET and the rest are routed here only to be refused with an OAuth-style body rather than a problem.
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
_POST_ONLY = {"oauth.token", "oauth.introspect", "oauth.revoke"}


def oauth_error(status: int, error: str, description: str, **headers: str) -> Response:
    """An RFC 6749 §5.2 error body with the given status and headers."""
    response = jsonify(error=error, error_description=description)
    response.status_code = status
    response.headers.update(headers)
    return response


@bp.before_request
def _post_only() -> Response | None:
    if request.endpoint in _POST_ONLY and request.method != "POST":
        return oauth_error(405, "invalid_request", "Use POST with a form-encoded body.", Allow="POST")
    return None


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def rate_limited(retry_after: int) -> Response:
    """429 with `Retry-After`: this client address made more token requests than TOKEN_RATE_LIMIT allows."""
    return oauth_error(429, "temporarily_unavailable", "rate limit exceeded", **{"Retry-After": str(retry_after)})


@bp.route("/oauth/token", methods=_METHODS)
def token() -> Any:
    """Issue an access token (and, now and then, purge expired OAuth rows)."""
    if not request.environ.get(COUNTED):  # the fast lane counts the requests it passes on
        retry_after = oauth_state().token_limit.retry_after(request.remote_addr or "unknown")
        if retry_after is not None:
            return rate_limited(retry_after)
    response = oauth_state().server.create_token_response()
    maybe_purge()
    return response


@bp.route("/oauth/introspect", methods=_METHODS)
def introspect() -> Any:
    """Tell an authenticated caller whether a token is active."""
    return oauth_state().server.create_endpoint_response("introspection")


@bp.route("/oauth/revoke", methods=_METHODS)
def revoke() -> Any:
    """Revoke a token."""
    return oauth_state().server.create_endpoint_response("revocation")
