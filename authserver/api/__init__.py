"""The portal's JSON API under /api/v1 (the same services as the pages) and the personal access tokens page."""

from __future__ import annotations

from flask import Flask, Response, request

from authserver.portal import client_address, limit_endpoint
from shared.api import init_api

__all__ = ["init_app"]

# flask-smorest's Swagger UI page starts itself with an inline script, which the portal's policy forbids.
_DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def init_app(app: Flask) -> None:
    """Mount the OpenAPI document at /api/v1/openapi.json (its page at /api/v1/docs) and the API's blueprints."""
    from authserver.api import models as _models  # noqa: F401 - registers the table
    from authserver.api.auth import init_api_auth
    from authserver.api.subscriptions_api import bp as subscriptions_bp
    from authserver.api.tokens_api import bp as tokens_bp
    from authserver.api.users_api import bp as users_bp
    from authserver.api.views import bp as page_bp

    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    api = init_api(
        app,
        title="Cloud Store portal API",
        version="1",
        info={
            "description": "Everything the portal does with subscriptions, connections, VERIFY CONNECTION and users. "
            "Authenticate with `Authorization: Bearer <personal access token>` (created on the API tokens page), "
            "or with the portal's session cookie plus the `X-CSRFToken` header on unsafe methods. Errors are RFC "
            "9457 problems; validation errors are 422 with `errors` by field."
        },
    )
    api.spec.components.security_scheme("personalAccessToken", {"type": "http", "scheme": "bearer"})
    api.spec.components.security_scheme("portalSession", {"type": "apiKey", "in": "cookie", "name": "session"})
    for blueprint in (subscriptions_bp, users_bp, tokens_bp):
        api.register_blueprint(blueprint)
    api.spec.options["security"] = [{"personalAccessToken": []}, {"portalSession": []}]
    init_api_auth(app)
    app.register_blueprint(page_bp)
    # The same counters as the pages' (settings of authserver.subscriptions and authserver.users).
    for endpoint in ("api_subscriptions.verify_login", "api_subscriptions.verify_challenge"):
        limit_endpoint(app, endpoint, "VERIFY_LIMIT_PER_ADDRESS", key=client_address, scope="verify-connection")
    for endpoint in ("api_users.invite_user", "api_users.resend_invitation"):
        limit_endpoint(app, endpoint, "INVITE_LIMIT_PER_ADDRESS", key=client_address, scope="invitations")

    @app.after_request
    def _docs_policy(response: Response) -> Response:
        if request.endpoint == "api-docs.openapi_swagger_ui":
            response.headers["Content-Security-Policy"] = _DOCS_POLICY
        return response
