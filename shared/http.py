"""Outbound HTTP between services: pooled sessions that pass the request id on and never wait forever."""

from __future__ import annotations

from typing import Any

import requests

from shared.logging import REQUEST_ID_HEADER, current_request_id

__all__ = ["ServiceSession"]


class ServiceSession(requests.Session):
    """A keep-alive session with a default timeout that forwards the current `X-Request-ID`."""

    def __init__(self, *, timeout: float = 5.0) -> None:
        super().__init__()
        self.default_timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", self.default_timeout)
        request_id = current_request_id()
        if request_id:
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault(REQUEST_ID_HEADER, request_id)
            kwargs["headers"] = headers
        return super().request(method, url, *args, **kwargs)
