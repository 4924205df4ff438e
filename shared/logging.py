"""Logging with request ids: accepted from or created as `X-Request-ID`, logged, and passed to the next hop."""

from __future__ import annotations

import logging
import re
import uuid

from flask import Flask, Response, g, has_app_context, request

__all__ = ["REQUEST_ID_HEADER", "configure_logging", "current_request_id", "install_request_ids", "request_id_for"]

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or "-"
        return True


def current_request_id() -> str | None:
    """The id of the request being served, if any (set in `g` by the app, or by a fast lane)."""
    return g.get("request_id") if has_app_context() else None


def configure_logging(level: str = "INFO") -> None:
    """Install one stream handler whose lines carry the request id (idempotent)."""
    root = logging.getLogger()
    if not any(getattr(h, "_cloudstore", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler.addFilter(_RequestIdFilter())
        handler._cloudstore = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)


def request_id_for(incoming: str) -> str:
    """The caller's request id when it is a sane one, else a new one."""
    return incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex


def install_request_ids(app: Flask) -> None:
    """Give every request an id and echo it on the response."""

    @app.before_request
    def _assign_request_id() -> None:
        g.request_id = request_id_for(request.headers.get(REQUEST_ID_HEADER, ""))

    @app.after_request
    def _echo_request_id(response: Response) -> Response:
        if "request_id" in g:
            response.headers[REQUEST_ID_HEADER] = g.request_id
        return response
