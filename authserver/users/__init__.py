"""Subscription users: ADD USER, invitations ("Confirm account"), activation; the sign-in lookups for apps."""

from __future__ import annotations

from flask import Flask

from authserver.portal import client_address, limit_endpoint

__all__ = ["init_app"]


def init_app(app: Flask) -> None:
    """Register the Users tab and the invitation page; invitations last INVITATION_LIFETIME seconds (7 days)."""
    from authserver.users import models as _models  # noqa: F401 - registers the table
    from authserver.users.views import bp

    app.config.setdefault("INVITATION_LIFETIME", 7 * 86400)
    # Invitations send e-mail to addresses the admin types: a limit per client address keeps that from spamming.
    app.config.setdefault("INVITE_LIMIT_PER_ADDRESS", "60 per hour")
    app.register_blueprint(bp)
    for endpoint in ("users.add", "users.resend"):
        limit_endpoint(app, endpoint, "INVITE_LIMIT_PER_ADDRESS", key=client_address, scope="invitations")
