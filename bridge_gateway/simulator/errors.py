"""EBS-style error answers: ``{"MessageID": "<kebab-id>", "UserMessage": "...", "Messages": []}``."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class EbsError(Exception):
    """An error the simulated WebApi answers with an EBS error body and an HTTP status."""

    def __init__(self, status: int, message_id: str, user_message: str) -> None:
        super().__init__(f"{status} {message_id}: {user_message}")
        self.status = status
        self.message_id = message_id
        self.user_message = user_message


def error_response(status: int, message_id: str, user_message: str) -> Response:
    """Build the JSON error response EBS sends."""
    response = jsonify({"MessageID": message_id, "UserMessage": user_message, "Messages": []})
    response.status_code = status
    return response


def invalid_params(user_message: str) -> EbsError:
    """A 400 ``invalid-params`` error for a malformed request body or argument."""
    return EbsError(400, "invalid-params", user_message)


def _kebab(name: str) -> str:
    return "-".join(name.lower().split())


def register_error_handlers(app: Flask) -> None:
    """Answer every error, including unknown routes and crashes, with the EBS error shape."""

    @app.errorhandler(EbsError)
    def _ebs_error(error: EbsError) -> Response:
        return error_response(error.status, error.message_id, error.user_message)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        return error_response(status, _kebab(error.name), error.name)

    @app.errorhandler(Exception)
    def _crash(error: Exception) -> Response:
        log.exception("unhandled error in the EBS simulator")
        return error_response(500, "internal-error", "An internal error occurred")
