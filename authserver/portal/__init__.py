"""The portal's frame: base layout helpers, security (cookies, headers, CSRF), rate limits, the front page."""

from __future__ import annotations

from flask import Flask, Response, make_response, render_template

from authserver.portal.navigation import has_endpoint, nav_items, routed
from authserver.portal.ratelimit import client_address, form_field_key, init_rate_limits, limit_endpoint
from authserver.portal.security import exempt_from_csrf, init_security

__all__ = [
    "client_address",
    "exempt_from_csrf",
    "form_field_key",
    "init_app",
    "limit_endpoint",
    "render_message",
]


def render_message(title: str, message: str, status: int = 200) -> Response:
    """A page in the portal layout that shows one message (errors, expired links)."""
    return make_response(render_template("portal/message.html", title=title, message=message), status)


def init_app(app: Flask) -> None:
    """Install the portal's security, rate limiter, template helpers and front page."""
    init_security(app, render_message)
    init_rate_limits(app, render_message)
    app.jinja_env.globals.update(has_endpoint=has_endpoint, routed=routed, nav_items=nav_items)

    from authserver.portal.views import bp

    app.register_blueprint(bp)
