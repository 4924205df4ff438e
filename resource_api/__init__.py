"""Resource API: token-protected integration APIs (time attendance, application insights, surveys)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from resource_api.extensions import db
from resource_api.fast_reads import install_fast_reads
from resource_api.protect import init_protection, serve_api_without_sessions
from shared.api import init_api
from shared.service import create_service_app

__all__ = ["create_app"]


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the resource API application."""
    app = create_service_app(
        __name__,
        service="resource_api",
        db=db,
        migrations=Path(__file__).parent / "migrations",
        overrides=overrides,
        required=("AUTH_SERVER_URL",),
    )
    init_protection(app)

    from resource_api.attendance.views import bp as attendance_bp
    from resource_api.insights.views import bp as insights_bp
    from resource_api.surveys.views import bp as surveys_bp

    api = init_api(app, title="Cloud Store resource API")
    api.register_blueprint(attendance_bp)
    api.register_blueprint(insights_bp)
    api.register_blueprint(surveys_bp)

    # The portal's internal routes stay out of the public OpenAPI document (docs/resource-api.md).
    from resource_api.admin.auth import check_every_internal_route_is_protected
    from resource_api.admin.views import bp as admin_bp

    app.register_blueprint(admin_bp)
    check_every_internal_route_is_protected(app)

    from resource_api.webapp import init_webapp

    init_webapp(app)  # the apps' own pages (/apps/<code>/): on the app, not in the OpenAPI document
    serve_api_without_sessions(app)  # the pages' cookie is sent only under /apps/ (SESSION_COOKIE_PATH)
    install_fast_reads(app)  # the public API's reads answered in front of Flask (docs/resource-api.md)
    return app
