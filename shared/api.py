"""JSON APIs: flask-smorest with problem-detail errors, a self-hosted Swagger UI, and input that never 500s."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import flask_smorest
import swagger_ui_bundle
from flask import Flask, Request, request
from marshmallow import ValidationError, fields
from webargs.flaskparser import FlaskParser

from shared.errors import ValidationProblem

__all__ = [
    "Api",
    "Blueprint",
    "Text",
    "UTCDateTime",
    "init_api",
    "json_body",
    "plausible_instant",
    "storable",
]


class Api(flask_smorest.Api):
    """flask-smorest's Api, leaving error rendering to `shared.errors` (RFC 9457 problems)."""

    def _register_error_handlers(self) -> None:
        pass


class _SafeJSONParser(FlaskParser):
    """webargs' parser, answering bodies `json.loads` fails on with ValueError or RecursionError (an integer
    of over 4,300 digits, nesting deeper than the interpreter's limit) as malformed JSON, not as a 500."""

    def _raw_load_json(self, req: Request) -> Any:
        try:
            return super()._raw_load_json(req)
        except json.JSONDecodeError:
            raise
        except (ValueError, RecursionError) as exc:
            raise json.JSONDecodeError(type(exc).__name__, "body", 0) from None


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with the safe JSON parser."""

    ARGUMENTS_PARSER = _SafeJSONParser()


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 422 problem for anything else (malformed, not an object, too deep)."""
    try:
        body = json.loads(request.get_data())
    except (ValueError, RecursionError):
        raise ValidationProblem({"body": ["Send a JSON object (Content-Type: application/json)."]}) from None
    if not isinstance(body, dict):
        raise ValidationProblem({"body": ["Send a JSON object (Content-Type: application/json)."]})
    return body


def storable(text: str) -> bool:
    """True when both databases can store `text`: valid Unicode (no lone surrogates), no NUL characters."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


class Text(fields.String):
    """A string the databases can store (see `storable`)."""

    default_error_messages = {"unstorable": "Text must be valid Unicode without NUL characters."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not storable(text):
            raise self.make_error("unstorable")
        return text


class UTCDateTime(fields.AwareDateTime):
    """An ISO 8601 date-time with offset; naive values read back from SQLite are UTC."""

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


def plausible_instant(earliest: datetime = datetime(2000, 1, 1, tzinfo=UTC), skew: timedelta = timedelta(days=1)):  # type: ignore[no-untyped-def]
    """A validator refusing instants before `earliest` or more than `skew` in the future."""

    def validate(moment: datetime) -> None:
        try:
            in_range = earliest <= moment <= datetime.now(UTC) + skew
        except OverflowError:
            in_range = False
        if not in_range:
            raise ValidationError(f"Must lie between {earliest.date().isoformat()} and {skew.days} day(s) from now.")

    return validate


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
        flask_smorest.Blueprint(
            "swagger_ui_assets",
            __name__,
            static_folder=swagger_ui_bundle.swagger_ui_path,
            static_url_path="/_swagger-ui",
        )
    )
    return Api(app, spec_kwargs=spec_kwargs or None)
