"""OpenAPI for a service's JSON API: flask-smorest with problem-detail errors and a self-hosted Swagger UI."""

from __future__ import annotations

from typing import Any

import flask_smorest
import swagger_ui_bundle
from flask import Blueprint, Flask

__all__ = ["Api", "init_api"]


class Api(flask_smorest.Api):
    """flask-smorest's Api, leaving error rendering to `shared.errors` (RFC 9457 problems)."""

    def _register_error_handlers(self) -> None:
        pass


def init_api(app: Flask, *, title: str, version: str = "1", **spec_kwargs: Any) -> Api:
    """Attach an OpenAPI document at `/openapi.json` and an interactive page at `/docs`."""
    app.config.setdefault("API_TITLE", title)
    app.config.setdefault("API_VERSION", version)
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("OPENAPI_SWAGGER_UI_PATH", "docs")
    app.config.setdefault("OPENAPI_SWAGGER_UI_URL", "/_swagger-ui/")
    app.register_blueprint(
        Blueprint(
            "swagger_ui_assets",
            __name__,
            static_folder=swagger_ui_bundle.swagger_ui_path,
            static_url_path="/_swagger-ui",
        )
    )
    return Api(app, spec_kwargs=spec_kwargs or None)
