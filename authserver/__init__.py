"""Auth server: the portal, accounts, subscriptions, the OAuth2/OIDC authorization server and its keys."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from authserver.extensions import db
from shared.service import create_service_app, dev_secret

__all__ = ["create_app"]


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the auth server application."""
    app = create_service_app(
        __name__,
        service="authserver",
        db=db,
        migrations=Path(__file__).parent / "migrations",
        overrides=overrides,
        required=("ISSUER",),
        encrypts=True,
    )
    app.secret_key = dev_secret(app, "SECRET_KEY")

    from authserver.keys import models as _key_models  # noqa: F401 - registers the tables
    from authserver.keys.views import bp as keys_bp

    app.register_blueprint(keys_bp)
    return app
