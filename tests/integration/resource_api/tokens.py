"""Access tokens for resource API tests, signed by a key the test's checker trusts."""

from __future__ import annotations

import time
import uuid
from typing import Any

from flask import Flask

from resource_api.protect import AUDIENCE, TokenChecker
from shared.cache import MemoryCache
from shared.keys import generate_private_key, public_jwk, sign_jwt
from shared.service_auth import BearerVerifier

ISSUER = "https://auth.example.test"


class TokenMint:
    """Signs RFC 9068 access tokens and installs a checker that trusts them into an app."""

    def __init__(self) -> None:
        self.pem = generate_private_key("ES256")
        self.jwk = public_jwk(self.pem, "ES256")
        self.introspected: dict[str, dict[str, Any]] = {}

    def install(self, app: Flask, **checker_kwargs: Any) -> TokenChecker:
        verifier = BearerVerifier(f"{ISSUER}/jwks", ISSUER, AUDIENCE, fetch=lambda: {"keys": [self.jwk]})
        checker = TokenChecker(
            verifier=verifier,
            introspection_url=f"{ISSUER}/oauth/introspect",
            client_id="resource_api",
            client_secret="unused",
            cache=MemoryCache(),
            **checker_kwargs,
        )
        app.extensions["token_checker"] = checker
        return checker

    def token(
        self,
        *,
        subscription_id: str | None = "acme",
        bridge_id: str | None = "Main",
        scope: str = "attendance:write",
        lifetime: int = 300,
        **extra: Any,
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "key-1",
            "client_id": "key-1",
            "scope": scope,
            "iat": now,
            "exp": now + lifetime,
            "jti": uuid.uuid4().hex,
            "subscription_id": subscription_id,
            "bridge_id": bridge_id,
            **extra,
        }
        return sign_jwt(claims, private_pem=self.pem, kid=self.jwk["kid"], alg="ES256", typ="at+jwt")

    def headers(self, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(**kwargs)}"}
