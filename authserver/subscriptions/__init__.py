"""Subscriptions and their bridges (connections to EBS application servers), with VERIFY CONNECTION."""

from __future__ import annotations

from flask import Flask

from authserver.gateway_client import init_gateway_client
from authserver.portal import client_address, limit_endpoint

__all__ = ["DEFAULTS", "init_app"]

DEFAULTS = {
    # Verify Connection: how long the stage-1 code stays valid (facts §5 row 3: 24 h).
    "CHALLENGE_LIFETIME": 86400,
    # The gateway's public source addresses, shown where the customer opens the firewall (facts §5 row 17).
    "EGRESS_ADDRESSES": [],
    "AUDIT_PAGE_SIZE": 50,
    # VERIFY CONNECTION logs in to the customer's EBS: a limit per client address keeps it from guessing passwords.
    "VERIFY_LIMIT_PER_ADDRESS": "30 per minute",
}


def init_app(app: Flask) -> None:
    """Register the subscription pages and the gateway client's settings."""
    from authserver.subscriptions import models as _models  # noqa: F401 - registers the tables
    from authserver.subscriptions import verify_views as _verify_views  # noqa: F401 - adds its routes to bp
    from authserver.subscriptions.pages import portal_time, subscription_tabs
    from authserver.subscriptions.views import assets, bp

    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    init_gateway_client(app)
    app.add_template_filter(portal_time, "portal_time")
    app.add_template_global(subscription_tabs, "subscription_tabs")
    app.register_blueprint(bp)
    app.register_blueprint(assets)
    for endpoint in ("subscriptions.verify_login", "subscriptions.verify_challenge"):
        limit_endpoint(app, endpoint, "VERIFY_LIMIT_PER_ADDRESS", key=client_address, scope="verify-connection")
