"""Helpers for the bridge gateway tests: service tokens from a JWKS we serve, tiny misbehaving servers."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

from shared.keys import generate_private_key, public_jwk, sign_jwt
from tests.stack import served

DEMO_PASSWORD = "DemoSub#2024"
SERVICE_SCOPES = "gateway:bridges gateway:relay"


serve = served  # the bridge gateway tests' name for it


class TokenMint:
    """Signs RFC 9068 access tokens with a key whose JWKS the test serves as the auth server would."""

    def __init__(self) -> None:
        self.pem = generate_private_key("ES256")
        self.jwk = public_jwk(self.pem, "ES256")
        self.issuer = ""  # set once the JWKS server runs

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        if request.path == "/.well-known/jwks.json":
            return Response(f'{{"keys": [{_json(self.jwk)}]}}', mimetype="application/json")(environ, start_response)
        return Response("not found", 404)(environ, start_response)

    def token(
        self,
        scope: str = SERVICE_SCOPES,
        *,
        client_id: str = "authserver",
        lifetime: int = 300,
        key_pem: str | None = None,
        **claims: Any,
    ) -> str:
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "aud": "bridge_gateway",
            "sub": client_id,
            "client_id": client_id,
            "scope": scope,
            "iat": now,
            "exp": now + lifetime,
            "jti": uuid.uuid4().hex,
            **claims,
        }
        return sign_jwt(body, private_pem=key_pem or self.pem, kid=self.jwk["kid"], alg="ES256", typ="at+jwt")

    def headers(self, scope: str = SERVICE_SCOPES, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(scope, **kwargs)}"}


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


def bridge_body(sim_url: str, **overrides: Any) -> dict[str, Any]:
    """Registration of the demo bridge (config/simulator.toml) at a simulator's address."""
    port = int(sim_url.rsplit(":", 1)[1])
    return {
        "subscriptionId": "demo",
        "bridgeId": "Demo_002",
        "subscriptionGid": "3f2b8c1e-0000-4000-8000-000000000001",
        "subscriptionPassword": DEMO_PASSWORD,
        "scheme": "http",
        "host": "127.0.0.1",
        "port": port,
        "databaseId": "DEMO",
        "companyId": "002",
        **overrides,
    }


class FakeEbs:
    """A tiny stand-in EBS that records what it receives and answers what a test tells it to."""

    def __init__(self, answer: Callable[[Request], Response] | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answer = answer or self.default

    @staticmethod
    def default(request: Request) -> Response:
        if request.path == "/api/Login/Login":
            body = '{"Model": {"UserID": "cloudsvc", "WebApiToken": "tok-aaaaaaaaaaaaaaaaaaaa", '
            body += '"WebApiTokenExpiresAt": "2999-01-01T00:00:00+00:00"}}'
            return Response(body, mimetype="application/json")
        return Response('{"ok": true}', mimetype="application/json")

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        self.requests.append({"path": request.path, "headers": dict(request.headers), "method": request.method})
        return self.answer(request)(environ, start_response)
