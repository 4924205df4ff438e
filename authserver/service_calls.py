"""What the auth server's clients of other services share (the gateway, the resource API).

A pooled HTTP session, the auth server's own service token on every call, one retry after a 401 (an expired
or rotated token), and a readable problem when the service or a token cannot be had. Each client is built
once per app and is thread-safe to share.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from flask import Flask, current_app

from authserver.oauth2.own_tokens import OwnServiceTokens
from shared.errors import Problem
from shared.http import ServiceSession
from shared.service_auth import ServiceTokenError

__all__ = ["ServiceClient", "app_client"]

log = logging.getLogger(__name__)
C = TypeVar("C", bound="ServiceClient")


class ServiceClient:
    """The transport of one service's client; subclasses add the calls and read the answers."""

    service = "service"  # how logs name the called service

    def __init__(self, *, base_url: str, tokens: OwnServiceTokens, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self._tokens = tokens
        self._session = ServiceSession(timeout=timeout)

    def close(self) -> None:
        """Close pooled connections."""
        self._session.close()

    def unavailable(self) -> Problem:
        """The problem callers get when the service cannot be asked."""
        raise NotImplementedError

    def send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """The service's answer to `method base_url+path`, whatever its status; raises `unavailable()` when none."""
        for attempt in (1, 2):
            try:
                headers = {"Authorization": f"Bearer {self._tokens.token()}", "Accept": "application/json"}
                response = self._session.request(method, self.base_url + path, headers=headers, **kwargs)
            except ServiceTokenError as exc:
                log.warning("no service token for the %s: %s", self.service, exc)
                raise self.unavailable() from None
            except requests.RequestException as exc:
                log.warning("the %s is unreachable: %s", self.service, type(exc).__name__)
                raise self.unavailable() from None
            if response.status_code == 401 and attempt == 1:
                self._tokens.invalidate()  # an expired or rotated token: mint a new one and try once more
                continue
            return response
        raise self.unavailable()


def app_client(name: str, build: Callable[[Flask], C]) -> C:
    """The current app's client called `name`, built by `build` on first use."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    client = app.extensions.get(name)
    if client is None:
        client = app.extensions.setdefault(name, build(app))
    return client  # type: ignore[no-any-return]
