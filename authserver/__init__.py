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

    from authserver.clients import models as _client_models  # noqa: F401 - registers the tables
    from authserver.keys import models as _key_models  # noqa: F401
    from authserver.keys.views import bp as keys_bp
    from authserver.oauth2 import models as _oauth2_models  # noqa: F401
    from authserver.oauth2.server import init_app as init_oauth2

    app.register_blueprint(keys_bp)
    init_oauth2(app)

    from authserver import accounts, mail, portal
    from authserver.audit import models as _audit_models  # noqa: F401

    portal.init_app(app)  # layout, security headers, session cookies, CSRF, rate limiter, front page
    mail.init_app(app)
    accounts.init_app(app)

    from authserver import api, subscriptions, users

    subscriptions.init_app(app)  # subscriptions, bridges, VERIFY CONNECTION (calls the bridge gateway)
    users.init_app(app)  # the Users tab and invitations
    api.init_app(app)  # /api/v1 (same services), personal access tokens

    from authserver import store

    store.init_app(app)  # catalogue, cart, orders, payments, invoices, licences and seats

    from authserver import consent, signin
    from authserver.directory import DirectoryAuthenticator

    signin.init_app(app)  # ERP sign-in for end users; the authenticator is app.extensions["erp_authenticator"]
    app.extensions["erp_authenticator"] = DirectoryAuthenticator()  # subscription users, checked live in the ERP
    consent.init_app(app)

    from authserver import endpoint_tokens

    endpoint_tokens.init_app(app)  # the Integrations tab, API keys: consent provider, token kind, client resolver
    portal.exempt_from_csrf(app, "oauth.token", "oauth.introspect", "oauth.revoke")  # clients authenticate, no cookies
    portal.exempt_from_csrf(app, "oauth.userinfo", "oauth.end_session")  # bearer token; end-session checks it itself
    return app
