"""Fixtures for the OAuth endpoints: the auth server on a real port, clients, and token helpers."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from flask import Flask
from werkzeug.serving import make_server

from authserver.clients import service as clients
from authserver.extensions import db
from authserver.keys.service import active_key
from shared.keys import sign_jwt
from shared.service import encryptor

ISSUER = "https://auth.example.test"


@pytest.fixture(autouse=True)
def _plain_http_for_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """The live server answers on http://127.0.0.1; Authlib's client insists on https unless told otherwise."""
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The auth server answering real HTTP on a free port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@pytest.fixture
def make_client(app: Flask) -> Callable[..., clients.NewClient]:
    """Register a client (an external one with API scopes unless told otherwise)."""

    def make(**kwargs: Any) -> clients.NewClient:
        kwargs.setdefault("name", "test client")
        kwargs.setdefault("scope", "attendance:write surveys:read")
        kwargs.setdefault("audience", "resource_api")
        return clients.create_client(session=db.session, **kwargs)

    return make


@pytest.fixture
def oauth_client(make_client: Callable[..., clients.NewClient]) -> clients.NewClient:
    return make_client()


@pytest.fixture
def resource_server(make_client: Callable[..., clients.NewClient]) -> clients.NewClient:
    """An internal service that only introspects: no grant, no scope."""
    return make_client(name="resource api", grant_types=(), scope="", audience=None, is_internal=True)


def fetch_token(base_url: str, client: clients.NewClient, method: str = "client_secret_basic", **params: Any) -> dict:
    """A client-credentials token fetched by Authlib's requests client, an independent OAuth implementation."""
    with OAuth2Session(client.client.client_id, client.client_secret, token_endpoint_auth_method=method) as session:
        return dict(session.fetch_token(f"{base_url}/oauth/token", grant_type="client_credentials", **params))


def forge_token(*, alg: str = "ES256", private_pem: str | None = None, kid: str | None = None, **claims: Any) -> str:
    """A JWT access token signed directly (by default with the server's own active key) with chosen claims."""
    key = active_key(session=db.session, encryptor=encryptor(), alg=alg)
    now = datetime.now(UTC)
    body = {
        "iss": ISSUER,
        "sub": "someone",
        "aud": "resource_api",
        "client_id": "someone",
        "scope": "attendance:write",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "jti": "forged-" + now.isoformat(),
        **claims,
    }
    return sign_jwt(body, private_pem=private_pem or key.private_pem, kid=kid or key.kid, alg=alg, typ="at+jwt")
