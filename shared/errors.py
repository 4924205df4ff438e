"""RFC 9457 problem details: one exception family and the handlers that render it."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from flask import Flask, Response, jsonify
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

__all__ = [
    "Conflict",
    "Forbidden",
    "NotFound",
    "Problem",
    "ServiceUnavailable",
    "Unauthorized",
    "ValidationProblem",
    "problem_response",
    "register_error_handlers",
    "unexpected_error_response",
]

PROBLEM_MIME = "application/problem+json"
log = logging.getLogger(__name__)


class Problem(Exception):
    """An error that reaches the client as `application/problem+json` (RFC 9457 §3)."""

    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad request"
    type: ClassVar[str] = "about:blank"

    def __init__(
        self, detail: str | None = None, *, status: int | None = None, title: str | None = None, **extensions: Any
    ) -> None:
        super().__init__(detail or title or self.title)
        self.detail = detail
        self.status = status or type(self).status  # type: ignore[misc]
        self.title = title or type(self).title  # type: ignore[misc]
        self.extensions = extensions

    def to_dict(self) -> dict[str, Any]:
        """The problem object's members."""
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        body.update(self.extensions)
        return body


class ValidationProblem(Problem):
    """422 with the field errors, as marshmallow reports them."""

    status = 422
    title = "Validation failed"

    def __init__(self, errors: Any, detail: str = "The request has invalid fields.") -> None:
        super().__init__(detail, errors=errors)


class Unauthorized(Problem):
    status = 401
    title = "Unauthorized"


class Forbidden(Problem):
    status = 403
    title = "Forbidden"


class NotFound(Problem):
    status = 404
    title = "Not found"


class Conflict(Problem):
    status = 409
    title = "Conflict"


class ServiceUnavailable(Problem):
    status = 503
    title = "Service unavailable"


def problem_response(problem: Problem) -> Response:
    """Render a problem with its status and media type."""
    response = jsonify(problem.to_dict())
    response.status_code = problem.status
    response.mimetype = PROBLEM_MIME
    return response


def _http_problem(exc: HTTPException) -> Response:
    messages = (getattr(exc, "data", None) or {}).get("messages")
    if messages is not None:  # webargs/flask-smorest validation: {location: {field: [errors]}}
        errors = next(iter(messages.values())) if len(messages) == 1 else messages
        return problem_response(ValidationProblem(errors))
    response = problem_response(Problem(exc.description, status=exc.code or 500, title=exc.name))
    for name, value in exc.get_headers():
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value
    return response


def register_error_handlers(app: Flask) -> None:
    """Answer every error as a problem; a catch-all 500 logs the cause and tells the client nothing internal."""

    app.register_error_handler(Problem, problem_response)
    app.register_error_handler(HTTPException, _http_problem)

    @app.errorhandler(ValidationError)
    def _validation(exc: ValidationError) -> Response:
        return problem_response(ValidationProblem(exc.normalized_messages()))

    app.register_error_handler(Exception, unexpected_error_response)


def unexpected_error_response(exc: BaseException) -> Response:
    """The catch-all 500: the cause logged, nothing internal told (also for answers made outside Flask's handling)."""
    log.error("unhandled error", exc_info=exc)
    return problem_response(_InternalError())


class _InternalError(Problem):
    status = 500
    title = "Internal server error"

    def __init__(self) -> None:
        super().__init__("The server could not complete the request. Quote the X-Request-ID when reporting it.")
