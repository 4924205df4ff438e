"""The apps' own pages (seed 000, last section; issue #8 item 6): the web address the portal shows in each
app's Overview is a small web app served here, to which the app's users sign in through the auth server with
OpenID Connect. Pages only: they are registered on the Flask app, not on the OpenAPI document."""

from __future__ import annotations

from flask import Flask

from resource_api.webapp.signin import init_signin
from resource_api.webapp.views import bp

__all__ = ["init_webapp"]


def init_webapp(app: Flask) -> None:
    """The session cookie, one OIDC client per configured app, and the pages."""
    init_signin(app)
    app.register_blueprint(bp)
